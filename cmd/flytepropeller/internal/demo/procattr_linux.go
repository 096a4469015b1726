//go:build linux

package demo

import "syscall"

// childAttr puts a child in its own process group (so a Ctrl-C meant for the
// demo reaches the demo, which then stops the child in order) and has the
// kernel kill it if the demo dies without cleaning up.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package demo

import "syscall"

// childAttr puts a child in its own process group. Outside Linux there is no
// parent-death signal: a demo killed with SIGKILL leaves its children running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

//go:build !linux

package testenv

import "os/exec"

// dieWithParent does nothing off Linux (no parent-death signal): the
// test's cleanup stops the process.
func dieWithParent(*exec.Cmd) {}

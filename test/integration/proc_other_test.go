//go:build !linux

package integration_test

import "os/exec"

// dieWithTest: only Linux offers a parent-death signal; elsewhere the
// test's cleanup is what stops the operator.
func dieWithTest(*exec.Cmd) {}

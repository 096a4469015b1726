//go:build !linux

package testenv

// reaper is a no-op outside Linux: a test binary that dies without running
// its cleanups may leave etcd and kube-apiserver running there.
type reaper struct{}

func watchChildren(...string) *reaper { return nil }

func (*reaper) release() {}

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The reaper is a safety net for a test binary that dies without running its
// cleanups (a -timeout panic, a signal, os.Exit in a test): a small shell
// process that waits for the test binary to go away and then stops the
// etcd and kube-apiserver process groups it started, and removes their
// temporary directories. Normal stops go through Env.Stop; the watcher then
// finds nothing left to do and exits by itself.

// watcherScript runs as `sh -c watcherScript sh <parent pid> <state file>`.
// The state file has lines "pid <pid> <comm>" and "dir <path>".
const watcherScript = `
parent=$1 state=$2
while read -r _ _ _ ppid _ < /proc/$$/stat && [ "$ppid" = "$parent" ]; do sleep 1; done
[ -f "$state" ] || exit 0
signalled=
for sig in TERM KILL; do
  while read -r kind a b; do
    if [ "$kind" = pid ] && [ "$(cat /proc/$a/comm 2>/dev/null)" = "$b" ]; then
      kill -s $sig -- "-$a" 2>/dev/null && signalled=1
    fi
  done < "$state"
  [ -n "$signalled" ] || break
  [ $sig = TERM ] && sleep 5
done
while read -r kind a b; do
  [ "$kind" = dir ] && rm -rf -- "$a"
done < "$state"
rm -f -- "$state"
`

type reaperEntry struct {
	pids map[int]string // pid -> comm
	dirs []string
}

var reaperState struct {
	sync.Mutex
	file    string
	next    int
	entries map[int]*reaperEntry
	claimed map[int]bool
}

// reaper is one Env's registration with the watcher.
type reaper struct{ id int }

// watchChildren registers the etcd and kube-apiserver children of this
// process that no other Env has claimed, and dirs, with the watcher,
// starting the watcher on first use. Callers hold startMu. It returns nil
// when there is nothing to watch or the watcher cannot run.
func watchChildren(dirs ...string) *reaper {
	rs := &reaperState
	rs.Lock()
	defer rs.Unlock()
	if rs.entries == nil {
		rs.entries = map[int]*reaperEntry{}
		rs.claimed = map[int]bool{}
	}
	e := &reaperEntry{pids: map[int]string{}}
	for pid, comm := range controlPlaneChildren() {
		if !rs.claimed[pid] {
			e.pids[pid] = comm
			rs.claimed[pid] = true
		}
	}
	tmp := filepath.Clean(os.TempDir()) + string(filepath.Separator)
	for _, d := range dirs {
		// Only envtest's own temporary directories, never anything else.
		if d != "" && strings.HasPrefix(filepath.Clean(d), tmp) && strings.Contains(d, "k8s_test_framework_") {
			e.dirs = append(e.dirs, d)
		}
	}
	if len(e.pids) == 0 && len(e.dirs) == 0 {
		return nil
	}
	if rs.file == "" && !startWatcher() {
		return nil
	}
	rs.next++
	rs.entries[rs.next] = e
	writeReaperState()
	return &reaper{id: rs.next}
}

// release forgets r's processes and directories once they are gone.
func (r *reaper) release() {
	rs := &reaperState
	rs.Lock()
	defer rs.Unlock()
	if e, ok := rs.entries[r.id]; ok {
		for pid := range e.pids {
			delete(rs.claimed, pid)
		}
		delete(rs.entries, r.id)
		writeReaperState()
	}
}

// startWatcher starts the watcher process; reaperState is locked.
func startWatcher() bool {
	f, err := os.CreateTemp("", "flytedist-testenv-*.reap")
	if err != nil {
		return false
	}
	_ = f.Close()
	cmd := exec.Command("/bin/sh", "-c", watcherScript, "sh", strconv.Itoa(os.Getpid()), f.Name())
	// Its own process group, so a Ctrl-C meant for the tests does not stop
	// it before it has cleaned up; no stdio, so `go test` never waits on it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = os.Remove(f.Name())
		return false
	}
	go func() { _ = cmd.Wait() }()
	reaperState.file = f.Name()
	return true
}

// writeReaperState rewrites the state file atomically; reaperState is locked.
func writeReaperState() {
	rs := &reaperState
	if rs.file == "" {
		return
	}
	var lines []string
	for _, e := range rs.entries {
		for pid, comm := range e.pids {
			lines = append(lines, fmt.Sprintf("pid %d %s", pid, comm))
		}
		for _, d := range e.dirs {
			lines = append(lines, "dir "+d)
		}
	}
	sort.Strings(lines)
	tmp := rs.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return
	}
	_ = os.Rename(tmp, rs.file)
}

// controlPlaneChildren lists this process's children named etcd or
// kube-apiserver, by pid.
func controlPlaneChildren() map[int]string {
	out := map[int]string{}
	me := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so split at the last ')'.
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		comm := s[open+1 : closing]
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(me) {
			continue
		}
		if comm == "etcd" || comm == "kube-apiserver" {
			out[pid] = comm
		}
	}
	return out
}

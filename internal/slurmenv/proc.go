package slurmenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flytedist/flyteplugins/internal/tailbuf"
)

// markerVar is set, to the cluster's directory, in every daemon's
// environment; slurmstepd and sshd's per-connection processes inherit it,
// which is how stop finds them after they have left the daemon's process
// group or been reparented.
const markerVar = "FLYTEDIST_SLURMENV_DIR"

// logTail is how much of each daemon's output is kept.
const logTail = 64 << 10

// procs are the daemons of one cluster.
type procs struct {
	marker  string
	spawn   chan spawnRequest
	watcher *exec.Cmd

	mu      sync.Mutex
	list    []*proc
	stopped bool
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  *tailbuf.Buffer
	done chan struct{}
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func newProcs(dir string) *procs {
	p := &procs{marker: markerVar + "=" + dir, spawn: make(chan spawnRequest)}
	go p.spawner()
	p.startWatcher(dir)
	return p
}

// watcherScript runs as `sh -c watcherScript sh <test binary pid> <dir>`: it
// waits for the test binary to go away (its own parent changes) and then
// does what stop does when cleanups do not run (a -timeout panic, a kill):
// Pdeathsig ends the daemons, but not slurmstepd (slurmd double-forks it)
// nor the jobs, nor does anything remove the directory. After a normal stop
// it is killed.
const watcherScript = `
parent=$1 dir=$2
while read -r _ _ _ ppid _ < /proc/$$/stat && [ "$ppid" = "$parent" ]; do sleep 1; done
for i in 1 2 3 4 5; do
  roots=$(grep -lzx "` + markerVar + `=$dir" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3)
  [ -n "$roots" ] || break
  pids=$(ps -eo pid=,ppid= | awk -v roots="$roots" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END { do { more = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; more = 1 } } while (more)
          for (p in keep) print p }')
  kill -9 $pids 2>/dev/null
  sleep 1
done
rm -rf -- "$dir"
`

// startWatcher starts the watcher (see watcherScript), in a process group
// of its own so that a Ctrl-C meant for the tests does not stop it, without
// stdio so that go test does not wait for it. Without it the cluster still
// works; only a crash leaves things behind.
func (p *procs) startWatcher(dir string) {
	cmd := exec.Command("/bin/sh", "-c", watcherScript, "sh", strconv.Itoa(os.Getpid()), dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cmd.Start() == nil {
		p.watcher = cmd
	}
}

// spawner starts every daemon from one locked OS thread that lives until
// stop. Pdeathsig is delivered when the thread that started a child ends, not
// the process: on a thread the Go runtime might retire, a daemon could be
// killed early; on this one it is killed exactly when the cluster stops, or
// when the test binary dies without cleaning up.
func (p *procs) spawner() {
	runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
	for r := range p.spawn {
		r.done <- r.cmd.Start()
	}
}

// start starts cmd as the daemon name with env (plus the marker), in a
// process group of its own, killed if the test binary dies; attr, when not
// nil, carries further attributes (credentials).
func (p *procs) start(name string, cmd *exec.Cmd, env []string, attr *syscall.SysProcAttr) error {
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	attr.Setpgid = true
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr = attr
	cmd.Env = append(append([]string(nil), env...), p.marker)
	pr := &proc{name: name, cmd: cmd, log: tailbuf.New(logTail), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = pr.log, pr.log
	// Children (slurmstepd, sshd's sessions) may hold the output pipe.
	cmd.WaitDelay = 2 * time.Second

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return fmt.Errorf("starting %s: the cluster is stopped", name)
	}
	req := spawnRequest{cmd: cmd, done: make(chan error)}
	p.spawn <- req
	if err := <-req.done; err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p.list = append(p.list, pr)
	go func() {
		err := cmd.Wait()
		_, _ = fmt.Fprintf(pr.log, "\n[slurmenv: %s exited: %v]\n", name, err)
		close(pr.done)
	}()
	return nil
}

// exited returns a channel closed when the daemon name has exited (nil when
// there is no such daemon).
func (p *procs) exited(name string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.list {
		if pr.name == name {
			return pr.done
		}
	}
	return nil
}

// stop kills every process of the cluster: the daemons' process groups,
// every process carrying the marker, and all their descendants (the jobs).
// Nothing here needs a graceful stop: the state is thrown away.
func (p *procs) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	list := p.list
	p.mu.Unlock()

	for attempt := 0; attempt < 50; attempt++ {
		pids := p.members(list)
		if len(pids) == 0 {
			break
		}
		for _, pr := range list {
			if pr.cmd.Process != nil {
				_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
			}
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, pr := range list {
		select {
		case <-pr.done:
		case <-time.After(5 * time.Second):
		}
	}
	close(p.spawn)
	if p.watcher != nil {
		_ = p.watcher.Process.Kill()
		_ = p.watcher.Wait()
	}
}

// members lists the live processes of the cluster: the daemons, the
// processes with the marker in their environment, and their descendants.
func (p *procs) members(list []*proc) []int {
	self := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	in := map[int]bool{}
	for _, pr := range list {
		if pr.cmd.Process != nil && !isDone(pr.done) {
			in[pr.cmd.Process.Pid] = true
		}
	}
	marker := []byte(p.marker)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, marker) {
				in[pid] = true
				break
			}
		}
	}
	var out []int
	var walk func(pid int)
	seen := map[int]bool{}
	walk = func(pid int) {
		if seen[pid] || pid == self {
			return
		}
		seen[pid] = true
		out = append(out, pid)
		for _, c := range children[pid] {
			walk(c)
		}
	}
	for pid := range in {
		walk(pid)
	}
	return out
}

// parentOf reads pid's parent from /proc/<pid>/stat, skipping zombies.
func parentOf(pid int) (int, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 || fields[0] == "Z" {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (p *procs) log(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.list {
		if pr.name == name {
			return pr.log.String()
		}
	}
	return ""
}

func (p *procs) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, pr := range p.list {
		fmt.Fprintf(&b, "----- %s (last %d bytes) -----\n%s\n", pr.name, logTail, pr.log.String())
	}
	return b.String()
}

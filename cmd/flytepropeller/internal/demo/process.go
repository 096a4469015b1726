package demo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// spawner starts child processes from one goroutine locked to its OS thread.
// The parent-death signal (see childAttr) fires when the thread that forked
// the child exits, not the process; a locked thread that never returns keeps
// the children alive exactly as long as the demo.
type spawner struct {
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		for r := range s.reqs {
			r.done <- r.cmd.Start()
		}
	}()
	return s
}

// proc is a child process: etcd, kube-apiserver or FlytePropeller.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error // set before exited is closed
}

// start runs argv with env added to the demo's environment, output going to
// logPath.
func (s *spawner) start(name string, argv, env []string, logPath string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...) // #nosec G204 -- the demo's own binaries
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	req := spawnReq{cmd: cmd, done: make(chan error, 1)}
	s.reqs <- req
	if err := <-req.done; err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, argv[0], err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process group, and SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// exitError describes how the process ended, with the tail of its log.
func (p *proc) exitError() error {
	msg := "exited"
	if p.err != nil {
		msg = p.err.Error()
	}
	return fmt.Errorf("%s %s; last lines of %s:\n%s", p.name, msg, p.logPath, tail(p.logPath))
}

// tailLines is how much of a child's log an error shows.
const tailLines = 30

// tail returns the last lines of a log file.
func tail(path string) string {
	n := tailLines
	b, err := os.ReadFile(path) // #nosec G304 -- the demo's own log
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + string(bytes.Join(lines, []byte("\n    ")))
}

// errStopped is returned when the demo is interrupted.
var errStopped = errors.New("interrupted")

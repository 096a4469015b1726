package slurm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// transport is how the plugin talks to one cluster: SSH commands or
// slurmrestd. Every method is one remote call (retried within).
type transport interface {
	// submit looks for a job named sub.Marker and returns it (adopted) or
	// submits the job and returns its ID.
	submit(ctx context.Context, sub *Submission) (id string, adopted bool, err error)
	// job reads a job; errJobGone when the controller no longer lists it.
	job(ctx context.Context, id string) (*jobInfo, error)
	// record reads the job's jobcomp record; ok is false when there is none.
	record(ctx context.Context, id string) (*jobInfo, bool, error)
	// cancel cancels a job; a finished or unknown job is not an error.
	cancel(ctx context.Context, id string) error
	// close releases pooled connections.
	close()
}

// opSubmit names the submit call in errors.
const opSubmit = "submit"

// errJobGone: the controller does not list the job (purged after
// MinJobAge, or never existed).
var errJobGone = errors.New("the Slurm controller no longer lists the job")

// callError is a failed call. Its text names the call and the cluster,
// never a key or token.
type callError struct {
	op, cluster string
	// transient: trying again later may succeed (connection, timeout, 5xx).
	transient bool
	// permanent: no retry of the task can succeed (host key mismatch,
	// refused credentials, a rejected submission).
	permanent bool
	code      string
	msg       string
	attempts  int
	after     time.Duration
}

func (e *callError) Error() string {
	s := fmt.Sprintf("Slurm %s on cluster %q: %s", e.op, e.cluster, e.msg)
	if e.attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.attempts)
	}
	return s
}

// Transient, RetryAfter and SetAttempts make a callError a remote.TryError.
func (e *callError) Transient() bool { return e.transient }

// RetryAfter is the wait the server asked for.
func (e *callError) RetryAfter() time.Duration { return e.after }

// SetAttempts records the tries made.
func (e *callError) SetAttempts(n int) { e.attempts = n }

func asCallError(err error) (*callError, bool) {
	var e *callError
	ok := errors.As(err, &e)
	return e, ok
}

// parseKV reads Slurm's "Key=Value Key2=Value with spaces" lines
// (scontrol show job -o, jobcomp/filetxt) into a map; a value runs until the
// next " Key=".
func parseKV(line string) map[string]string {
	out := map[string]string{}
	line = strings.TrimSpace(line)
	var key string
	start := -1
	isKeyChar := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' || c == '/' || c == '_'
	}
	i := 0
	for i < len(line) {
		// Find a key at i (start of line or after a space).
		if i == 0 || line[i-1] == ' ' {
			j := i
			for j < len(line) && isKeyChar(line[j]) {
				j++
			}
			if j > i && j < len(line) && line[j] == '=' {
				if key != "" {
					out[key] = strings.TrimSpace(line[start : i-1])
				}
				key, start = line[i:j], j+1
				i = j + 1
				continue
			}
		}
		i++
	}
	if key != "" && start <= len(line) {
		out[key] = strings.TrimSpace(line[start:])
	}
	return out
}

// jobFromKV is a job from scontrol's or jobcomp's fields.
func jobFromKV(kv map[string]string) *jobInfo {
	j := &jobInfo{ID: kv["JobId"], Name: orStr(kv["JobName"], kv["Name"]), Reason: kv["Reason"],
		StdOut: kv["StdOut"], StdErr: kv["StdErr"], Comment: kv["Comment"]}
	j.State, j.CancelledBy = normalizeState(kv["JobState"])
	j.CancelledBy = strings.TrimPrefix(j.CancelledBy, "by ")
	j.ExitCode, j.Signal = parseExitCode(kv["ExitCode"])
	return j
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshTransport runs Slurm's commands on a login node over one pooled SSH
// connection per cluster (sessions are multiplexed on it).
type sshTransport struct {
	cl        Cluster
	key       func(ctx context.Context) (string, error)
	timeout   time.Duration
	scriptDir string
	hostKeys  ssh.HostKeyCallback

	mu     sync.Mutex
	client *ssh.Client
	// dials counts connections made (the pool is tested by it).
	dials atomic.Int64
}

// hostKeyCallback verifies a server's key against known_hosts lines (or
// bare "type base64" keys). There is no "accept any".
func hostKeyCallback(knownHosts string) (ssh.HostKeyCallback, error) {
	var keys []ssh.PublicKey
	rest := []byte(knownHosts)
	for len(bytes.TrimSpace(rest)) > 0 {
		marker, _, key, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			// A bare "ssh-ed25519 AAAA..." line.
			line, after, _ := bytes.Cut(bytes.TrimLeft(rest, "\n"), []byte("\n"))
			k, _, _, _, aerr := ssh.ParseAuthorizedKey(line)
			if aerr != nil {
				return nil, fmt.Errorf("not a known_hosts line or public key: %v", err)
			}
			keys = append(keys, k)
			rest = after
			continue
		}
		if marker != "revoked" {
			keys = append(keys, key)
		}
		rest = next
	}
	if len(keys) == 0 {
		return nil, errors.New("no host key")
	}
	return func(_ string, _ net.Addr, got ssh.PublicKey) error {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), got.Marshal()) {
				return nil
			}
		}
		return fmt.Errorf("host key mismatch: the server offered %s %s, which is not the configured hostKey", got.Type(), ssh.FingerprintSHA256(got))
	}, nil
}

func newSSHTransport(cl Cluster, key func(ctx context.Context) (string, error), timeout time.Duration, scriptDir string) (*sshTransport, error) {
	cb, err := hostKeyCallback(cl.HostKey)
	if err != nil {
		return nil, err
	}
	return &sshTransport{cl: cl, key: key, timeout: timeout, scriptDir: scriptDir, hostKeys: cb}, nil
}

func (t *sshTransport) fail(op string, transient, permanent bool, format string, args ...any) *callError {
	return &callError{op: op, cluster: t.cl.Name, transient: transient, permanent: permanent, msg: fmt.Sprintf(format, args...)}
}

// conn returns the pooled connection, dialling it if there is none.
func (t *sshTransport) conn(ctx context.Context, op string) (*ssh.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		return t.client, nil
	}
	pem, err := t.key(ctx)
	if err != nil {
		return nil, t.fail(op, true, false, "%v", err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(pem))
	if err != nil {
		// Never the key's text: only that it does not parse.
		return nil, t.fail(op, false, true, "the private key in secret %q does not parse", t.cl.SecretKey)
	}
	cfg := &ssh.ClientConfig{
		User:            t.cl.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: t.hostKeys,
		Timeout:         t.timeout,
	}
	t.dials.Add(1)
	d := net.Dialer{Timeout: t.timeout}
	nc, err := d.DialContext(ctx, "tcp", t.cl.Address)
	if err != nil {
		return nil, t.fail(op, true, false, "connecting to %s: %v", t.cl.Address, err)
	}
	_ = nc.SetDeadline(time.Now().Add(t.timeout))
	c, chans, reqs, err := ssh.NewClientConn(nc, t.cl.Address, cfg)
	if err != nil {
		_ = nc.Close()
		msg := err.Error()
		switch {
		case strings.Contains(msg, "host key mismatch"):
			return nil, t.fail(op, false, true, "%s: %v", t.cl.Address, err)
		case strings.Contains(msg, "unable to authenticate"):
			return nil, t.fail(op, false, true, "%s refused the key from secret %q for user %q", t.cl.Address, t.cl.SecretKey, t.cl.User)
		}
		return nil, t.fail(op, true, false, "SSH handshake with %s: %v", t.cl.Address, err)
	}
	_ = nc.SetDeadline(time.Time{})
	t.client = ssh.NewClient(c, chans, reqs)
	return t.client, nil
}

// drop forgets a broken connection.
func (t *sshTransport) drop(c *ssh.Client) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client == c {
		_ = t.client.Close()
		t.client = nil
	}
}

func (t *sshTransport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		_ = t.client.Close()
		t.client = nil
	}
}

// run runs one command in a new session on the pooled connection; a dead
// connection is redialled once.
func (t *sshTransport) run(ctx context.Context, op, cmd, stdin string) (stdout, stderr string, exit int, err error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	for try := 0; try < 2; try++ {
		c, err := t.conn(ctx, op)
		if err != nil {
			return "", "", 0, err
		}
		sess, err := c.NewSession()
		if err != nil {
			t.drop(c)
			continue
		}
		var out, errb bytes.Buffer
		sess.Stdout, sess.Stderr = &out, &errb
		if stdin != "" {
			sess.Stdin = strings.NewReader(stdin)
		}
		done := make(chan error, 1)
		go func() { done <- sess.Run(cmd) }()
		select {
		case <-ctx.Done():
			_ = sess.Close()
			return "", "", 0, t.fail(op, true, false, "timed out or cancelled: %v", ctx.Err())
		case rerr := <-done:
			_ = sess.Close()
			var ee *ssh.ExitError
			if errors.As(rerr, &ee) {
				return out.String(), errb.String(), ee.ExitStatus(), nil
			}
			if rerr != nil {
				t.drop(c)
				return "", "", 0, t.fail(op, true, false, "%v", rerr)
			}
			return out.String(), errb.String(), 0, nil
		}
	}
	return "", "", 0, t.fail(op, true, false, "the SSH connection to %s keeps closing", t.cl.Address)
}

// Exit codes of the submit script that mean the task is wrong.
const exitNoScript = 3

func (t *sshTransport) submit(ctx context.Context, sub *Submission) (string, bool, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "id=$(squeue -h -t all -u %s --name=%s -o %%i 2>/dev/null | head -n 1)\n", shellQuote(t.cl.User), shellQuote(sub.Marker))
	b.WriteString("if [ -n \"$id\" ]; then echo \"adopted $id\"; exit 0; fi\n")
	stdin := ""
	if sub.ScriptPath != "" {
		fmt.Fprintf(&b, "test -f %[1]s || { echo \"batch script %[1]s does not exist on the cluster\" >&2; exit %[2]d; }\n", shellQuote(sub.ScriptPath), exitNoScript)
		b.WriteString(sbatchCommand(sub, shellQuote(sub.ScriptPath)))
	} else {
		dir := shellQuote(t.scriptDir)
		if !strings.HasPrefix(t.scriptDir, "/") {
			dir = "\"$HOME\"/" + dir
		}
		fmt.Fprintf(&b, "umask 077; d=%s; mkdir -p \"$d\" && f=\"$d\"/%s.sh && cat > \"$f\" || exit 1\n", dir, shellQuote(sub.Marker))
		b.WriteString(sbatchCommand(sub, "\"$f\""))
		stdin = sub.Script
	}
	b.WriteString("\n")
	out, errOut, code, err := t.run(ctx, opSubmit, b.String(), stdin)
	if err != nil {
		return "", false, err
	}
	if code == exitNoScript {
		return "", false, &callError{op: opSubmit, cluster: t.cl.Name, permanent: true, code: "BadTaskSpecification", msg: strings.TrimSpace(errOut)}
	}
	if code != 0 && controllerUnreachable(errOut) {
		return "", false, t.fail(opSubmit, true, false, "sbatch exited %d: %s", code, snippetOf(errOut))
	}
	if code != 0 {
		// sbatch refused the job (bad partition, bad option value, ...).
		return "", false, &callError{op: opSubmit, cluster: t.cl.Name, permanent: true, code: codeSubmitRejected,
			msg: fmt.Sprintf("sbatch exited %d: %s", code, snippetOf(errOut))}
	}
	line := lastLine(out)
	adopted := false
	if rest, ok := strings.CutPrefix(line, "adopted "); ok {
		line, adopted = rest, true
	}
	id, _, _ := strings.Cut(line, ";")
	if !isJobID(id) {
		return "", false, t.fail(opSubmit, true, false, "unexpected sbatch output %q", snippetOf(out))
	}
	return id, adopted, nil
}

func (t *sshTransport) job(ctx context.Context, id string) (*jobInfo, error) {
	out, errOut, code, err := t.run(ctx, "status", "scontrol show job -o "+shellQuote(id), "")
	if err != nil {
		return nil, err
	}
	if code != 0 {
		if strings.Contains(errOut, "Invalid job id") {
			return nil, errJobGone
		}
		return nil, t.fail("status", true, false, "scontrol exited %d: %s", code, snippetOf(errOut))
	}
	j := jobFromKV(parseKV(lastLine(out)))
	if j.ID == "" {
		j.ID = id
	}
	return j, nil
}

func (t *sshTransport) record(ctx context.Context, id string) (*jobInfo, bool, error) {
	if t.cl.JobCompPath == "" {
		return nil, false, nil
	}
	cmd := fmt.Sprintf("cat %s 2>/dev/null | grep -E %s | tail -n 1", shellQuote(t.cl.JobCompPath), shellQuote("^JobId="+id+" "))
	out, _, _, err := t.run(ctx, "read jobcomp", cmd, "")
	if err != nil {
		return nil, false, err
	}
	return recordFrom(out, id)
}

func recordFrom(out, id string) (*jobInfo, bool, error) {
	line := lastLine(out)
	if line == "" {
		return nil, false, nil
	}
	j := jobFromKV(parseKV(line))
	if j.ID != id {
		return nil, false, nil
	}
	j.FromRecord = "from the jobcomp record (the controller had purged the job)"
	return j, true, nil
}

func (t *sshTransport) cancel(ctx context.Context, id string) error {
	_, errOut, code, err := t.run(ctx, "cancel", "scancel "+shellQuote(id), "")
	if err != nil {
		return err
	}
	if code != 0 && !strings.Contains(errOut, "Invalid job id") && !strings.Contains(errOut, "already completing or completed") {
		return t.fail("cancel", true, false, "scancel exited %d: %s", code, snippetOf(errOut))
	}
	return nil
}

// unreachableMarkers are what Slurm's commands print when the controller
// cannot be reached or is busy: a passing failure, not a refusal.
var unreachableMarkers = []string{
	"Unable to contact slurm controller", "Socket timed out", "Zero Bytes were transmitted",
	"Resource temporarily unavailable", "Connection refused", "Transport endpoint",
	"Slurm temporarily unable to accept job",
}

func controllerUnreachable(stderr string) bool {
	for _, m := range unreachableMarkers {
		if strings.Contains(stderr, m) {
			return true
		}
	}
	return false
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

func isJobID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func snippetOf(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

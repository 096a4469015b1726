// Package slurmenv starts a real single-node Slurm cluster on loopback for
// tests: munged, slurmctld, slurmd, slurmrestd (JWT auth, OpenAPI v0.0.38)
// and an sshd whose sessions have the Slurm client commands on their PATH.
//
// The binaries are Debian 12's packages, unpacked (not installed) by
// hack/slurm/fetch.sh into a cache; `make slurm-bins` runs it and the unit
// target passes the unpacked root to the tests in FLYTEDIST_SLURM_ROOT. Each
// Start writes a throwaway configuration into a fresh temporary directory,
// with free ports, its own munge key and JWT key, and stops every process it
// started (the jobs' too) and removes the directory when the test ends.
//
// Start needs root (slurmd runs jobs as their user). The only thing it leaves
// on the machine is the empty directory /run/sshd, which sshd insists on for
// privilege separation and creates nowhere else.
package slurmenv

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Environment variables that Start reads.
const (
	// EnvRoot names the variable holding the unpacked Debian tree (the
	// directory with usr/sbin/slurmctld-wlm in it) that hack/slurm/fetch.sh
	// prints last.
	EnvRoot = "FLYTEDIST_SLURM_ROOT"
	// EnvRequired names the variable that, set to 1, turns a missing tree
	// (or not being root) into a test failure instead of a skip.
	EnvRequired = "FLYTEDIST_SLURM_REQUIRED"
)

// OpenAPIVersion is the slurmrestd OpenAPI plugin version the cluster serves
// (Slurm 22.05 in Debian 12): REST paths start with /slurm/ + OpenAPIVersion.
const OpenAPIVersion = "v0.0.38"

// Options configure Start. The zero value is usable.
type Options struct {
	// Root is the unpacked Debian tree; empty means $FLYTEDIST_SLURM_ROOT.
	Root string
	// ClusterName is slurm.conf's ClusterName; empty means "flytedist".
	ClusterName string
	// NodeName is the one node's name; empty means the short host name.
	NodeName string
	// Partition is the one (default) partition's name; empty means "debug".
	Partition string
	// MinJobAge is how long a finished job stays known to slurmctld (whole
	// seconds, at least 2); zero means 10 s.
	MinJobAge time.Duration
	// TokenLifespan is the lifespan of Cluster.Token; zero means 1 h.
	TokenLifespan time.Duration
	// StartTimeout bounds the wait for every daemon to be ready; zero means
	// 90 s.
	StartTimeout time.Duration
}

// Cluster is a running single-node Slurm cluster. Its fields are read-only.
type Cluster struct {
	// Root is the unpacked Debian tree the binaries come from.
	Root string
	// Dir is the cluster's temporary directory: configuration, state, keys,
	// and the SSH user's home. Removed when the test ends.
	Dir string
	// ConfPath is the slurm.conf every daemon and client command reads.
	ConfPath string
	// ClusterName is slurm.conf's ClusterName.
	ClusterName string
	// NodeName is the name of the cluster's only node.
	NodeName string
	// Partition is the name of the cluster's only (default) partition.
	Partition string
	// MinJobAge is how long slurmctld keeps a finished job.
	MinJobAge time.Duration
	// JobCompPath is jobcomp/filetxt's file: one line per finished job
	// (JobId=... JobState=... ExitCode=...), kept after the controller has
	// purged the job. There is no slurmdbd, so sacct has no data.
	JobCompPath string

	// User is the user the SSH key logs in as and the Token is for.
	User string
	// Home is User's home directory in SSH sessions (in Dir): the working
	// directory of a plain `ssh ... sbatch ...`, and so where slurm-<id>.out
	// lands.
	Home string
	// SSHAddr is sshd's host:port (127.0.0.1:<port>).
	SSHAddr string
	// SSHHostKey is sshd's host public key in authorized_keys format
	// ("ssh-ed25519 AAAA..."), without a newline.
	SSHHostKey string
	// SSHClientKeyPEM is the OpenSSH-format private key authorized for User.
	SSHClientKeyPEM []byte

	// RESTURL is slurmrestd's base URL (http://127.0.0.1:<port>, no slash
	// at the end); endpoints are RESTURL + "/slurm/" + OpenAPIVersion + ....
	RESTURL string
	// OpenAPIVersion is the OpenAPI plugin slurmrestd serves ("v0.0.38").
	OpenAPIVersion string
	// Token is a JWT for User, valid for Options.TokenLifespan: send it as
	// X-SLURM-USER-TOKEN with X-SLURM-USER-NAME: User.
	Token string

	jwtKey []byte
	env    []string
	procs  *procs
}

// ErrUnavailable is wrapped by StartProcess's error when the machine cannot
// run a cluster: no unpacked tree, or not root.
var ErrUnavailable = errors.New("slurmenv: no Slurm cluster can start here")

// Start starts a cluster and registers its teardown with t.Cleanup. Without
// an unpacked tree (or without root) it skips t, or fails it when
// FLYTEDIST_SLURM_REQUIRED=1.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	begin := time.Now()
	c, stop, err := StartProcess(opts)
	if errors.Is(err, ErrUnavailable) {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatalf("%v (%s=1)", err, EnvRequired)
		}
		t.Skipf("%v; run `make slurm-bins` and set %s", err, EnvRoot)
	}
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("slurmenv: daemon logs (tails):\n%s", c.Logs())
		}
		if err := stop(); err != nil {
			t.Errorf("%v", err)
		}
	})
	t.Logf("slurmenv: cluster %s (node %s) up in %s: ssh %s, rest %s, dir %s",
		c.ClusterName, c.NodeName, time.Since(begin).Round(time.Millisecond), c.SSHAddr, c.RESTURL, c.Dir)
	return c
}

// StartProcess starts a cluster outside a test (Start is it for tests). The
// returned stop stops every process the cluster started and removes its
// directory; call it exactly once when err is nil. An error wrapping
// ErrUnavailable means no unpacked tree or not root; on any error nothing is
// left running.
func StartProcess(opts Options) (*Cluster, func() error, error) {
	root := opts.Root
	if root == "" {
		root = os.Getenv(EnvRoot)
	}
	switch {
	case root == "":
		return nil, nil, fmt.Errorf("%w: %s is not set", ErrUnavailable, EnvRoot)
	case !isFile(filepath.Join(root, "usr/sbin/slurmctld-wlm")):
		return nil, nil, fmt.Errorf("%w: %s=%s holds no usr/sbin/slurmctld-wlm", ErrUnavailable, EnvRoot, root)
	case os.Geteuid() != 0:
		return nil, nil, fmt.Errorf("%w: a Slurm cluster needs root (slurmd), and this is uid %d", ErrUnavailable, os.Geteuid())
	}

	c := &Cluster{
		Root:           root,
		ClusterName:    orDefault(opts.ClusterName, "flytedist"),
		NodeName:       opts.NodeName,
		Partition:      orDefault(opts.Partition, "debug"),
		MinJobAge:      opts.MinJobAge,
		User:           "root",
		OpenAPIVersion: OpenAPIVersion,
	}
	if c.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, nil, fmt.Errorf("slurmenv: host name: %w", err)
		}
		c.NodeName, _, _ = strings.Cut(host, ".")
	}
	if c.MinJobAge == 0 {
		c.MinJobAge = 10 * time.Second
	}
	if c.MinJobAge < 2*time.Second {
		c.MinJobAge = 2 * time.Second
	}
	lifespan := opts.TokenLifespan
	if lifespan == 0 {
		lifespan = time.Hour
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}

	// Not t.TempDir(): unix socket paths must stay short (108 bytes), and
	// slurmrestd runs as nobody.
	dir, err := os.MkdirTemp("", "slurmenv-")
	if err != nil {
		return nil, nil, fmt.Errorf("slurmenv: %w", err)
	}
	c.Dir = dir
	c.procs = newProcs(dir)
	stop := func() error {
		c.procs.stop()
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("slurmenv: removing %s: %w", dir, err)
		}
		return nil
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = stop()
		return nil, nil, fmt.Errorf("slurmenv: %w", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.start(ctx, lifespan); err != nil {
		logs := c.Logs()
		_ = stop()
		return nil, nil, fmt.Errorf("slurmenv: starting the cluster: %w; the daemons' logs (tails):\n%s", err, logs)
	}
	return c, stop, nil
}

// start writes the configuration and starts the daemons in order, waiting for
// each to be ready.
func (c *Cluster) start(ctx context.Context, lifespan time.Duration) error {
	lay, err := c.layout()
	if err != nil {
		return err
	}
	c.env = []string{
		"PATH=" + filepath.Join(c.Root, "usr/bin") + ":" + os.Getenv("PATH"),
		"LD_LIBRARY_PATH=" + lay.libPath,
		"SLURM_CONF=" + c.ConfPath,
	}
	daemonEnv := append(os.Environ(), c.env...)

	// munged: its socket (in a 0755 directory) is named by AuthInfo.
	if err := c.procs.start("munged", exec.Command(lay.sbin("munged"), "--foreground",
		"--socket="+lay.mungeSocket, "--key-file="+lay.mungeKey,
		"--pid-file="+filepath.Join(lay.mungeDir, "munged.pid"),
		"--seed-file="+filepath.Join(lay.mungeDir, "munged.seed")), daemonEnv, nil); err != nil {
		return err
	}
	if err := waitFor(ctx, "munged's socket", func() error {
		conn, err := net.Dial("unix", lay.mungeSocket)
		if err == nil {
			_ = conn.Close()
		}
		return err
	}, c.procs.exited("munged")); err != nil {
		return err
	}

	// slurmctld, under that very name (see layout).
	if err := c.procs.start("slurmctld", exec.Command(filepath.Join(lay.bin, "slurmctld"),
		"-D", "-f", c.ConfPath), daemonEnv, nil); err != nil {
		return err
	}
	if err := waitFor(ctx, "slurmctld", func() error {
		out, err := c.Run("scontrol", "ping")
		if err == nil && !strings.Contains(out, "UP") {
			err = fmt.Errorf("scontrol ping: %s", strings.TrimSpace(out))
		}
		return err
	}, c.procs.exited("slurmctld")); err != nil {
		return err
	}

	// slurmd, as the node named in slurm.conf, with the stepd next to it.
	if err := c.procs.start("slurmd", exec.Command(filepath.Join(lay.bin, "slurmd"),
		"-D", "-N", c.NodeName, "-d", filepath.Join(lay.bin, "slurmstepd"), "-f", c.ConfPath),
		daemonEnv, nil); err != nil {
		return err
	}

	// slurmrestd refuses root: it runs as nobody, which cannot enter the
	// cache under root's 0700 home without CAP_DAC_READ_SEARCH.
	uid, gid := nobody()
	c.RESTURL = "http://" + lay.restAddr
	// Through /bin/sh: the capability is ambient, so effective only from the
	// first exec on, and that exec must not need it to reach the binary.
	rest := exec.Command("/bin/sh", "-c", `exec "$0" "$@"`,
		lay.sbin("slurmrestd"), "-a", "rest_auth/jwt", "-s", "openapi/"+OpenAPIVersion, lay.restAddr)
	rest.Dir = "/"
	if err := c.procs.start("slurmrestd", rest, append(daemonEnv, "SLURM_JWT=daemon"), &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}},
		AmbientCaps: []uintptr{capDACReadSearch},
	}); err != nil {
		return err
	}

	// sshd, with the user database of nss_wrapper (see writeSSHD).
	if err := c.writeSSHD(lay); err != nil {
		return err
	}
	sshdEnv := append(daemonEnv,
		"LD_PRELOAD="+filepath.Join(c.Root, "usr/lib", lay.multiarch, "libnss_wrapper.so"),
		"NSS_WRAPPER_PASSWD="+filepath.Join(lay.sshDir, "passwd"),
		"NSS_WRAPPER_GROUP="+filepath.Join(lay.sshDir, "group"),
		"NSS_WRAPPER_SHADOW="+filepath.Join(lay.sshDir, "shadow"))
	if err := c.procs.start("sshd", exec.Command(lay.sbin("sshd"), "-D", "-e", "-f", filepath.Join(lay.sshDir, "sshd_config")),
		sshdEnv, nil); err != nil {
		return err
	}

	tok, err := c.MakeToken(c.User, lifespan)
	if err != nil {
		return err
	}
	c.Token = tok

	// Ready: the node is idle, slurmrestd answers a ping through the
	// controller, sshd accepts connections.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Add(3)
	go func() {
		defer wg.Done()
		errs[0] = waitFor(ctx, "node "+c.NodeName+" idle", func() error {
			out, err := c.Run("sinfo", "-h", "-n", c.NodeName, "-o", "%T")
			if err == nil && strings.TrimSpace(out) != "idle" {
				err = fmt.Errorf("node state %q", strings.TrimSpace(out))
			}
			return err
		}, c.procs.exited("slurmd"))
	}()
	go func() {
		defer wg.Done()
		errs[1] = waitFor(ctx, "slurmrestd", c.restPing, c.procs.exited("slurmrestd"))
	}()
	go func() {
		defer wg.Done()
		errs[2] = waitFor(ctx, "sshd", func() error {
			conn, err := net.Dial("tcp", c.SSHAddr)
			if err == nil {
				_ = conn.Close()
			}
			return err
		}, c.procs.exited("sshd"))
	}()
	wg.Wait()
	return errors.Join(errs...)
}

// restPing asks slurmrestd to ping the controller.
func (c *Cluster) restPing() error {
	req, err := http.NewRequest(http.MethodGet, c.RESTURL+"/slurm/"+OpenAPIVersion+"/ping", nil)
	if err != nil {
		return err
	}
	c.SetRESTAuth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Errors []json.RawMessage `json:"errors"`
		Pings  []struct {
			Ping string `json:"ping"`
		} `json:"pings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("ping: HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(body.Errors) > 0 || len(body.Pings) == 0 || body.Pings[0].Ping != "UP" {
		return fmt.Errorf("ping: HTTP %d, %+v", resp.StatusCode, body)
	}
	return nil
}

// SetRESTAuth sets the X-SLURM-USER-NAME and X-SLURM-USER-TOKEN headers of
// req to User and Token.
func (c *Cluster) SetRESTAuth(req *http.Request) {
	req.Header.Set("X-SLURM-USER-NAME", c.User)
	req.Header.Set("X-SLURM-USER-TOKEN", c.Token)
}

// MakeToken returns an HS256 JWT for user valid for lifespan, signed with the
// cluster's JWT key: what `scontrol token username=<user>
// lifespan=<seconds>` returns, without a round trip.
func (c *Cluster) MakeToken(user string, lifespan time.Duration) (string, error) {
	now := time.Now().Unix()
	claims, err := json.Marshal(map[string]any{"iat": now, "exp": now + int64(lifespan/time.Second), "sun": user})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, c.jwtKey)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// KnownHostsLine is a known_hosts line for sshd's host key at SSHAddr.
func (c *Cluster) KnownHostsLine() string {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.SSHHostKey))
	if err != nil {
		panic(err) // made by writeSSHD
	}
	return knownhosts.Line([]string{c.SSHAddr}, pub)
}

// Env is what a process needs to run the unpacked Slurm client commands
// against this cluster: PATH (the commands first), LD_LIBRARY_PATH and
// SLURM_CONF, as NAME=value entries.
func (c *Cluster) Env() []string { return append([]string(nil), c.env...) }

// Command returns a command running the Slurm client command args[0]
// (sbatch, squeue, sacct, scontrol, scancel, sinfo...) from the unpacked
// tree with args[1:], in Home, with Env added to this process's environment.
func (c *Cluster) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Root, "usr/bin", args[0]), args[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Dir = c.Home
	return cmd
}

// Run runs a Slurm client command as Command does, with a one-minute limit,
// and returns its standard output; the error holds standard error.
func (c *Cluster) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := c.Command(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Log returns the tail of one daemon's output: "munged", "slurmctld",
// "slurmd", "slurmrestd" or "sshd".
func (c *Cluster) Log(daemon string) string { return c.procs.log(daemon) }

// Logs returns the tails of every daemon's output, each under a header: for
// failure messages.
func (c *Cluster) Logs() string { return c.procs.logs() }

// waitFor polls check every 100 ms until it succeeds, ctx ends, or exited
// (when not nil) is closed because the daemon being waited for has died.
func waitFor(ctx context.Context, what string, check func() error, exited <-chan struct{}) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-exited:
			return fmt.Errorf("waiting for %s: the daemon exited (last: %v)", what, err)
		case <-tick.C:
		}
	}
}

// nobody is the uid and gid slurmrestd runs as.
func nobody() (uint32, uint32) {
	uid, gid := uint32(65534), uint32(65534)
	if u, err := user.Lookup("nobody"); err == nil {
		if n, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			uid = uint32(n)
		}
		if n, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			gid = uint32(n)
		}
	}
	return uid, gid
}

// capDACReadSearch is CAP_DAC_READ_SEARCH (linux/capability.h).
const capDACReadSearch = 2

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// multiarch is Debian's multiarch triplet for this architecture.
func multiarch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64-linux-gnu"
	default:
		return "x86_64-linux-gnu"
	}
}

package slurm_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"
	"github.com/flytedist/flyteplugins/internal/slurmenv"
)

const (
	sshKeySecret = "slurm-ssh-key" // #nosec G101 -- the name of a secret, not a secret
	jwtSecret    = "slurm-jwt"     // #nosec G101 -- the name of a secret, not a secret
)

// realEnv is a real Slurm and the two cluster entries pointing at it.
type realEnv struct {
	c        *slurmenv.Cluster
	cfg      slurm.Config
	secrets  map[string]string
	sshName  string
	restName string
}

func startReal(t *testing.T) *realEnv {
	c := slurmenv.Start(t, slurmenv.Options{MinJobAge: 5 * time.Second})
	e := &realEnv{c: c, sshName: "hpc-ssh", restName: "hpc-rest",
		secrets: map[string]string{sshKeySecret: string(c.SSHClientKeyPEM), jwtSecret: c.Token}}
	e.cfg = testConfig(
		slurm.Cluster{Name: e.sshName, Aliases: []string{"login.hpc.example"}, Transport: slurm.TransportSSH, Address: c.SSHAddr,
			User: c.User, HostKey: c.KnownHostsLine(), SecretKey: sshKeySecret, JobCompPath: c.JobCompPath},
		slurm.Cluster{Name: e.restName, Transport: slurm.TransportREST, Address: c.RESTURL, User: c.User,
			APIVersion: c.OpenAPIVersion, SecretKey: jwtSecret, JobCompPath: c.JobCompPath},
	)
	return e
}

// fnTask is a slurm_fn task running args on cluster host.
func fnTask(t *testing.T, e *realEnv, host string, args []string, sbatch map[string]any) *task {
	custom := map[string]any{"ssh_config": map[string]any{"host": host}}
	if sbatch != nil {
		custom["sbatch_config"] = sbatch
	}
	return newTask(t, taskSpec{taskType: slurm.TaskTypeFunction, custom: custom, args: args}, secretsFor(e.secrets))
}

// secretValues are the credentials no state, log or error may contain.
func (e *realEnv) secretValues() []string {
	key := strings.TrimSpace(e.secrets[sshKeySecret])
	lines := strings.Split(key, "\n")
	return []string{e.c.Token, lines[len(lines)/2]}
}

// TestRealSlurm drives the plugin through the web-API machinery against a
// real single-node Slurm, on both transports.
func TestRealSlurm(t *testing.T) {
	e := startReal(t)
	// Every log line the plugin and the machinery write, at debug level, is
	// kept to check that no credential is in any of them.
	logs := &syncBuffer{}
	logrus.SetOutput(io.MultiWriter(os.Stderr, logs))
	require.NoError(t, logger.SetConfig(&logger.Config{Level: logger.DebugLevel}))
	defer func() {
		logrus.SetOutput(os.Stderr)
		_ = logger.SetConfig(&logger.Config{Level: logger.WarnLevel})
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := loadMachinery(ctx, t, e.cfg, secretsFor(e.secrets))

	var states [][]byte
	var phases []core.PhaseInfo
	for _, host := range []string{e.sshName, e.restName} {
		host := host
		t.Run(host, func(t *testing.T) {
			t.Run("completes with outputs", func(t *testing.T) {
				k := newTask(t, taskSpec{taskType: slurm.TaskTypeScript, custom: map[string]any{
					"ssh_config":  map[string]any{"host": host},
					"script":      "#!/bin/bash\necho {inputs.x} > {outputs.o}\n",
					"output_locs": []any{map[string]any{"var": "o", "var_type": "str", "location": "/tmp/out-{inputs.x}-" + host}},
				}, inputs: map[string]*idlcore.Literal{"x": stringLiteral("hello")},
					outputs: map[string]*idlcore.LiteralType{"o": {Type: &idlcore.LiteralType_Simple{Simple: idlcore.SimpleType_STRING}}}},
					secretsFor(e.secrets))
				t.Cleanup(func() { _ = os.Remove("/tmp/out-hello-" + host) })
				r := m.start(k)
				ph := m.until(ctx, t, r, 60*time.Second, terminal)
				require.Equal(t, core.PhaseSuccess, ph.Phase(), ph.Reason())
				require.NotEmpty(t, ph.Info().Logs)
				assert.Contains(t, ph.Info().Logs[0].GetUri(), "https://hpc.example/logs/"+host+"/")
				assert.Contains(t, ph.Info().Logs[0].GetUri(), ".out")
				got, err := os.ReadFile("/tmp/out-hello-" + host)
				require.NoError(t, err)
				assert.Equal(t, "hello\n", string(got))
				lm, ee, err := k.outputs.GetReader().Read(ctx)
				require.NoError(t, err)
				require.Nil(t, ee)
				assert.Equal(t, "/tmp/out-hello-"+host, lm.GetLiterals()["o"].GetScalar().GetPrimitive().GetStringValue())
				require.NoError(t, m.plugin.Finalize(ctx, r.tCtx))
				states = append(states, r.state.bytes())
				phases = append(phases, ph)
			})
			t.Run("fails with an exit code", func(t *testing.T) {
				k := fnTask(t, e, host, []string{"bash", "-c", "echo failing; exit 3"}, nil)
				r := m.start(k)
				ph := m.until(ctx, t, r, 60*time.Second, terminal)
				require.Equal(t, core.PhasePermanentFailure, ph.Phase())
				assert.Equal(t, "SlurmJobFailed", ph.Err().GetCode())
				assert.Contains(t, ph.Err().GetMessage(), "exit code 3")
				states = append(states, r.state.bytes())
				phases = append(phases, ph)
			})
			t.Run("cancelled by abort", func(t *testing.T) {
				k := fnTask(t, e, host, []string{"sleep", "300"}, nil)
				r := m.start(k)
				m.until(ctx, t, r, 60*time.Second, func(ph core.PhaseInfo) bool { return ph.Phase() == core.PhaseRunning })
				require.NoError(t, m.plugin.Abort(ctx, r.tCtx))
				require.NoError(t, m.plugin.Finalize(ctx, r.tCtx))
				meta := jobMeta(t, r)
				p := load(t, e.cfg, secretsFor(e.secrets))
				require.NoError(t, p.Delete(ctx, deleteCtx(meta)), "cancelling a cancelled job is not an error")
				var ph core.PhaseInfo
				require.Eventually(t, func() bool {
					ph = phase(t, p, k, meta)
					return ph.Phase().IsTerminal()
				}, 30*time.Second, 200*time.Millisecond)
				assert.Equal(t, "SlurmJobCancelled", ph.Err().GetCode())
				assert.Contains(t, ph.Err().GetMessage(), "Flyte's abort")
				states = append(states, r.state.bytes())
			})
			t.Run("pending behind another", func(t *testing.T) {
				blocker, err := e.c.Run("sbatch", "--parsable", "--exclusive", "--job-name=blocker", "--wrap", "sleep 300")
				require.NoError(t, err, blocker)
				blocker = strings.TrimSpace(blocker)
				defer func() { _, _ = e.c.Run("scancel", blocker) }()
				require.Eventually(t, func() bool {
					out, _ := e.c.Run("squeue", "-h", "-j", blocker, "-o", "%T")
					return strings.TrimSpace(out) == "RUNNING"
				}, 30*time.Second, 200*time.Millisecond)
				k := fnTask(t, e, host, []string{"true"}, nil)
				r := m.start(k)
				ph := m.until(ctx, t, r, 30*time.Second, func(ph core.PhaseInfo) bool {
					return ph.Phase() == core.PhaseQueued && strings.HasPrefix(ph.Reason(), "Slurm: ")
				})
				assert.Contains(t, []string{"Slurm: Resources", "Slurm: Priority"}, ph.Reason())
				_, _ = e.c.Run("scancel", blocker)
				ph = m.until(ctx, t, r, 60*time.Second, terminal)
				assert.Equal(t, core.PhaseSuccess, ph.Phase(), ph.Reason())
			})
			t.Run("submitted twice across a restart", func(t *testing.T) {
				k := fnTask(t, e, host, []string{"sleep", "2"}, nil)
				first := load(t, e.cfg, secretsFor(e.secrets))
				m1, _, err := first.Create(ctx, k.createCtx())
				require.NoError(t, err)
				restarted := load(t, e.cfg, secretsFor(e.secrets))
				m2, _, err := restarted.Create(ctx, k.createCtx())
				require.NoError(t, err)
				assert.Equal(t, m1, m2, "the restarted plugin adopted the job")
				out, err := e.c.Run("squeue", "-h", "-t", "all", "--name="+m1.(slurm.JobMeta).Marker, "-o", "%i")
				require.NoError(t, err)
				assert.Len(t, strings.Fields(out), 1, "exactly one Slurm job")
			})
		})
	}

	t.Run("unknown host", func(t *testing.T) {
		k := fnTask(t, e, "elsewhere.example.org", []string{"true"}, nil)
		r := m.start(k)
		ph := m.until(ctx, t, r, 10*time.Second, terminal)
		assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
		assert.Equal(t, "BadTaskSpecification", ph.Err().GetCode())
		assert.Contains(t, ph.Err().GetMessage(), `"elsewhere.example.org"`)
	})
	t.Run("wrong host key", func(t *testing.T) {
		cfg := e.cfg
		cfg.Clusters = append([]slurm.Cluster(nil), e.cfg.Clusters...)
		cfg.Clusters[0].HostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
		p := load(t, cfg, secretsFor(e.secrets))
		k := fnTask(t, e, e.sshName, []string{"true"}, nil)
		meta, res, err := p.Create(ctx, k.createCtx())
		require.NoError(t, err)
		assert.Nil(t, meta)
		ph, err := p.Status(ctx, k.statusCtx(nil, res))
		require.NoError(t, err)
		assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
		assert.Contains(t, ph.Err().GetMessage(), "host key mismatch")
		phases = append(phases, ph)
	})
	t.Run("client_keys ignored", func(t *testing.T) {
		k := newTask(t, taskSpec{taskType: slurm.TaskTypeFunction, args: []string{"true"}, custom: map[string]any{
			"ssh_config": map[string]any{"host": "login.hpc.example", "username": "mallory", "client_keys": []any{"/home/mallory/.ssh/id"}},
		}}, secretsFor(e.secrets))
		r := m.start(k)
		ph := m.until(ctx, t, r, 60*time.Second, terminal)
		assert.Equal(t, core.PhaseSuccess, ph.Phase())
		assert.Contains(t, string(r.state.bytes()), "client_keys, username ignored")
	})

	t.Run("one connection per cluster", func(t *testing.T) {
		p := load(t, e.cfg, secretsFor(e.secrets))
		var metas []interface{}
		var tasks []*task
		for i := 0; i < 3; i++ {
			k := fnTask(t, e, e.sshName, []string{"true"}, nil)
			meta, _, err := p.Create(ctx, k.createCtx())
			require.NoError(t, err)
			metas, tasks = append(metas, meta), append(tasks, k)
		}
		for round := 0; round < 3; round++ {
			for i, meta := range metas {
				phase(t, p, tasks[i], meta)
			}
		}
		assert.Equal(t, int64(1), slurm.Dials(p, e.sshName), "3 submissions and 9 polls over one SSH connection")
	})

	t.Run("purged after MinJobAge", func(t *testing.T) {
		for _, host := range []string{e.sshName, e.restName} {
			k := fnTask(t, e, host, []string{"bash", "-c", "exit 4"}, nil)
			p := load(t, e.cfg, secretsFor(e.secrets))
			meta, _, err := p.Create(ctx, k.createCtx())
			require.NoError(t, err)
			id := meta.(slurm.JobMeta).JobID
			require.Eventually(t, func() bool {
				_, err := e.c.Run("scontrol", "show", "job", id)
				return err != nil
			}, e.c.MinJobAge+100*time.Second, time.Second, "job %s purged", id)
			// A fresh plugin (no memory of the job) resolves it from jobcomp.
			fresh := load(t, e.cfg, secretsFor(e.secrets))
			ph := phase(t, fresh, k, meta)
			assert.Equal(t, core.PhasePermanentFailure, ph.Phase(), host)
			assert.Contains(t, ph.Err().GetMessage(), "exit code 4")
			assert.Contains(t, ph.Err().GetMessage(), "jobcomp")
		}
	})

	t.Run("timeout", func(t *testing.T) {
		// Slurm's smallest time limit is one minute and slurmctld checks
		// limits about every 30 s: a real TIMEOUT costs 60-90 s.
		if os.Getenv("FLYTEDIST_SLURM_SLOW") != "1" {
			t.Skip("a real Slurm TIMEOUT takes 60-90 s (minimum --time is 1 minute); set FLYTEDIST_SLURM_SLOW=1 to run it")
		}
		// Both transports' jobs run at once, so the wait is paid once.
		hosts := []string{e.sshName, e.restName}
		runs := make([]*run, len(hosts))
		for i, host := range hosts {
			runs[i] = m.start(fnTask(t, e, host, []string{"sleep", "600"}, map[string]any{"time": "1"}))
		}
		for i, r := range runs {
			ph := m.until(ctx, t, r, 150*time.Second, terminal)
			assert.Equal(t, core.PhasePermanentFailure, ph.Phase(), hosts[i])
			assert.Equal(t, "SlurmJobTimeout", ph.Err().GetCode())
		}
	})

	t.Run("credentials never in state, logs or errors", func(t *testing.T) {
		require.NotEmpty(t, logs.String(), "logs were captured")
		for _, sec := range e.secretValues() {
			assert.NotContains(t, logs.String(), sec, "logs")
			for i, s := range states {
				assert.NotContains(t, string(s), sec, "state %d", i)
			}
			for _, ph := range phases {
				assert.NotContains(t, fmt.Sprint(ph), sec)
				assert.NotContains(t, ph.Err().GetMessage(), sec)
			}
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func stringLiteral(s string) *idlcore.Literal {
	return &idlcore.Literal{Value: &idlcore.Literal_Scalar{Scalar: &idlcore.Scalar{
		Value: &idlcore.Scalar_Primitive{Primitive: &idlcore.Primitive{Value: &idlcore.Primitive_StringValue{StringValue: s}}}}}}
}

// jobMeta reads the JobMeta out of the machinery's saved state.
func jobMeta(t *testing.T, r *run) slurm.JobMeta {
	var st struct{ ResourceMeta interface{} }
	_, err := r.state.Get(&st)
	require.NoError(t, err)
	meta, ok := st.ResourceMeta.(slurm.JobMeta)
	require.True(t, ok, "state holds a %T", st.ResourceMeta)
	return meta
}

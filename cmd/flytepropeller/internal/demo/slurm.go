package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/flytedist/flyteplugins/internal/slurmenv"
)

// SlurmKeyEnv is the environment variable propeller's secret manager reads
// the Slurm SSH private key from: the env-prefix FLYTE_SECRET_ plus the
// cluster's secretKey (slurmSecretKey).
const SlurmKeyEnv = "FLYTE_SECRET_" + slurmSecretKey // #nosec G101 -- a variable name

// slurmSecretKey is plugins.slurm.clusters[].secretKey in the demo's config.
const slurmSecretKey = "FLYTE_SLURM_SSH_KEY" // #nosec G101 -- a secret's name

// slurmClusterName is the demo cluster's name in plugins.slurm.clusters, and
// the host the slurm_fn task's ssh_config names.
const slurmClusterName = "local-slurm"

// slurmSettings are the plugins.slurm values for the local cluster.
type slurmSettings struct {
	Address     string // sshd host:port
	User        string
	HostKey     string // known_hosts line
	JobCompPath string
}

// slurm starts the real single-node Slurm cluster (local mode only) and
// gives propeller its SSH key through the secret manager.
func (s *session) slurm(context.Context) error {
	if !s.local {
		return nil
	}
	step(s.out, "starting a real single-node Slurm (munged, slurmctld, slurmd, sshd; Debian 12's packages from %s)", s.o.SlurmRoot)
	t := time.Now()
	c, stop, err := slurmenv.StartProcess(slurmenv.Options{Root: s.o.SlurmRoot, MinJobAge: time.Minute})
	if errors.Is(err, slurmenv.ErrUnavailable) {
		return fmt.Errorf("%w (the demo runs its slurm_fn task on a real local Slurm: run `bash hack/slurm/fetch.sh` as root and pass -slurm-root or %s)", err, slurmenv.EnvRoot)
	}
	if err != nil {
		return err
	}
	s.slurmCluster = c
	s.atEnd(func() {
		if err := stop(); err != nil {
			fmt.Fprintf(s.out, "    %v\n", err)
		}
	})
	s.propellerEnv = append(s.propellerEnv, SlurmKeyEnv+"="+string(c.SSHClientKeyPEM))
	fmt.Fprintf(s.out, "    cluster %s, node %s, partition %s: sbatch over SSH to %s@%s (%s)\n",
		c.ClusterName, c.NodeName, c.Partition, c.User, c.SSHAddr, since(t))
	return nil
}

// slurmSettings are the plugins.slurm values for the local cluster, or nil.
func (s *session) slurmSettings() *slurmSettings {
	c := s.slurmCluster
	if c == nil {
		return nil
	}
	return &slurmSettings{Address: c.SSHAddr, User: c.User, HostKey: c.KnownHostsLine(), JobCompPath: c.JobCompPath}
}

// slurmConfig is the plugins.slurm section for the local cluster.
//
//nolint:goconst // config keys read best as they appear in YAML
func slurmConfig(s slurmSettings) map[string]any {
	return map[string]any{
		"clusters": []map[string]any{{
			"name":        slurmClusterName,
			"transport":   "ssh",
			"address":     s.Address,
			"user":        s.User,
			"hostKey":     s.HostKey,
			"secretKey":   slurmSecretKey,
			"jobCompPath": s.JobCompPath,
		}},
		// The cluster's files are on this machine.
		"logs":        map[string]any{"stdout": "file://{{ .stdout }}"},
		"callTimeout": "30s",
		"webApi": map[string]any{
			"caching": map[string]any{"resyncInterval": "5s"},
		},
	}
}

// slurmWatcher polls the cluster for the demo's jobs (named flyte-...) and
// records each job's state changes: squeue while the controller lists it,
// then its jobcomp/filetxt record.
type slurmWatcher struct {
	c     *slurmenv.Cluster
	out   *progressWriter
	mu    sync.Mutex
	jobs  map[string]*slurmJob // by job ID
	order []string
}

type slurmJob struct {
	ID, Name string
	States   []string
	Record   string // the jobcomp/filetxt line, once the job ended
}

// progressWriter prints a progress line with the time since submission.
type progressWriter struct {
	out   interface{ Write([]byte) (int, error) }
	start time.Time
}

func (p *progressWriter) printf(format string, args ...any) {
	fmt.Fprintf(p.out, "  %6.1fs  "+format+"\n", append([]any{time.Since(p.start).Seconds()}, args...)...)
}

func (w *slurmWatcher) run(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			w.poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (w *slurmWatcher) poll(ctx context.Context) {
	if out, err := w.c.Command(ctx, "squeue", "-h", "-o", "%i %j %T").Output(); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && strings.HasPrefix(f[1], "flyte-") {
				w.observe(f[0], f[1], f[2], "")
			}
		}
	}
	if b, err := os.ReadFile(w.c.JobCompPath); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			id, name, state := field(line, "JobId"), field(line, "Name"), field(line, "JobState")
			if id != "" && strings.HasPrefix(name, "flyte-") {
				w.observe(id, name, state, line)
			}
		}
	}
}

// field is NAME's value in a jobcomp/filetxt record (NAME=value ...).
func field(line, name string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return ""
}

func (w *slurmWatcher) observe(id, name, state, record string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	j, ok := w.jobs[id]
	if !ok {
		j = &slurmJob{ID: id, Name: name}
		w.jobs[id] = j
		w.order = append(w.order, id)
	}
	if record != "" {
		j.Record = record
	}
	if n := len(j.States); n > 0 && j.States[n-1] == state {
		return
	}
	if record != "" && len(j.States) > 0 && isSlurmTerminal(j.States[len(j.States)-1]) {
		return
	}
	j.States = append(j.States, state)
	w.out.printf("%-10s Slurm job %s (%s): %s (slurmctld)", labelSlurm, id, name, state)
}

func isSlurmTerminal(state string) bool {
	switch state {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE":
		return true
	}
	return false
}

// job returns the demo's job for the execution (the job name carries the
// execution's generated name), or nil.
func (w *slurmWatcher) job() *slurmJob {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range w.order {
		j := *w.jobs[id]
		j.States = append([]string(nil), j.States...)
		return &j
	}
	return nil
}

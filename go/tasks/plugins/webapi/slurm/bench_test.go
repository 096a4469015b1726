package slurm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"
	"github.com/flytedist/flyteplugins/internal/slurmenv"
)

// benchRest is a minimal in-process slurmrestd (v0.0.41 shapes).
func benchRest(b *testing.B) *httptest.Server {
	var next atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/jobs"):
			_, _ = w.Write([]byte(`{"jobs":[],"errors":[]}`))
		case strings.HasSuffix(r.URL.Path, "/job/submit"):
			fmt.Fprintf(w, `{"job_id":%d,"errors":[]}`, next.Add(1))
		default:
			id := strconv.Itoa(atoiOr0(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]))
			fmt.Fprintf(w, `{"jobs":[{"job_id":%s,"name":"m","job_state":["RUNNING"],"exit_code":{"return_code":{"number":0}},"standard_output":"/tmp/slurm-%%j.out"}]}`, id)
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchPlugin(b *testing.B, cl slurm.Cluster, secrets map[string]string) (*slurm.Plugin, *task) {
	cfg := testConfig(cl)
	p := load(b, cfg, secretsFor(secrets)).(*slurm.Plugin)
	return p, newTask(b, taskSpec{taskType: slurm.TaskTypeFunction, custom: map[string]any{"ssh_config": map[string]any{"host": cl.Name}},
		args: []string{"true"}}, secretsFor(secrets))
}

func benchCreateAndPoll(b *testing.B, p *slurm.Plugin, k *task) {
	ctx := context.Background()
	b.Run("Create", func(b *testing.B) {
		b.ReportAllocs()
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			// A fresh task each time: an adopted job would skip the submission.
			kk := newTask(b, taskSpec{taskType: slurm.TaskTypeFunction, custom: map[string]any{"ssh_config": map[string]any{"host": k.tmpl.GetCustom().GetFields()["ssh_config"].GetStructValue().GetFields()["host"].GetStringValue()}},
				args: []string{"true"}, name: fmt.Sprintf("bench-%d-%d-n0-0", time.Now().UnixNano(), i)}, k.secrets)
			b.StartTimer()
			if _, _, err := p.Create(ctx, kk.createCtx()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
		}
	})
	meta, _, err := p.Create(ctx, k.createCtx())
	require.NoError(b, err)
	b.Run("GetStatus", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			res, err := p.Get(ctx, getCtx(meta))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Status(ctx, k.statusCtx(meta, res)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInProcessREST: Create and Get+Status against an in-process
// slurmrestd.
func BenchmarkInProcessREST(b *testing.B) {
	srv := benchRest(b)
	p, k := benchPlugin(b, slurm.Cluster{Name: "bench", Transport: slurm.TransportREST, Address: srv.URL, User: "u",
		APIVersion: "v0.0.41", SecretKey: jwtSecret}, map[string]string{jwtSecret: "tok"})
	benchCreateAndPoll(b, p, k)
}

// BenchmarkRealSlurm: Create and Get+Status against the local Slurm, both
// transports (skipped without the cached packages).
func BenchmarkRealSlurm(b *testing.B) {
	c := slurmenv.Start(b, slurmenv.Options{})
	secrets := map[string]string{sshKeySecret: string(c.SSHClientKeyPEM), jwtSecret: c.Token}
	for _, cl := range []slurm.Cluster{
		{Name: "ssh", Transport: slurm.TransportSSH, Address: c.SSHAddr, User: c.User, HostKey: c.KnownHostsLine(), SecretKey: sshKeySecret},
		{Name: "rest", Transport: slurm.TransportREST, Address: c.RESTURL, User: c.User, APIVersion: c.OpenAPIVersion, SecretKey: jwtSecret},
	} {
		b.Run(cl.Name, func(b *testing.B) {
			p, k := benchPlugin(b, cl, secrets)
			benchCreateAndPoll(b, p, k)
		})
	}
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

package slurm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutageBacksOffAcrossPolls: against a slurmrestd answering 503, polling
// once a second for 30 minutes costs at most 20 calls: the backoff grows
// across polls and is shared by the cluster's tasks.
func TestOutageBacksOffAcrossPolls(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := defaultConfig
	cfg.Clusters = []Cluster{{Name: "c", Transport: TransportREST, Address: srv.URL, User: "u", APIVersion: "v0.0.38", SecretKey: "k"}}
	p, err := New(cfg)
	require.NoError(t, err)
	p.secrets.Manager = staticSecrets{"k": "tok"}
	now := time.Unix(0, 0)
	p.now = func() time.Time { return now }
	p.retry.Now = p.now
	p.retry.Sleep = func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }
	metas := []JobMeta{{Cluster: "c", JobID: "1"}, {Cluster: "c", JobID: "2"}}
	start := now
	for now.Sub(start) < 30*time.Minute {
		for _, m := range metas {
			_, err := p.Get(context.Background(), getCtxFor(m))
			require.Error(t, err, "no state to show: an error the cache counts")
		}
		now = now.Add(time.Second)
	}
	assert.LessOrEqual(t, int(calls.Load()), 20, "calls in 30 minutes for two tasks polling every second")
	assert.Greater(t, int(calls.Load()), 3)
	assert.Equal(t, cfg.Retry.OutageBackoff, config.Duration{Duration: 30 * time.Second})
}

type staticSecrets map[string]string

func (s staticSecrets) Get(_ context.Context, key string) (string, error) { return s[key], nil }

type getCtxFor JobMeta

func (g getCtxFor) ResourceMeta() interface{} { return JobMeta(g) }

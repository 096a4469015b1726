package queueing_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/config/viper"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// TestReadmeExamplesLoad: README's worked examples (copied verbatim into
// testdata) load strictly and resolve as the README says.
func TestReadmeExamplesLoad(t *testing.T) {
	prev := *queueing.GetConfig()
	t.Cleanup(func() { _ = queueing.SetConfig(&prev) })
	load := func(path string) *queueing.Config {
		t.Helper()
		accessor := viper.NewAccessor(config.Options{StrictMode: true, SearchPaths: []string{path}})
		if err := accessor.UpdateConfig(context.Background()); err != nil {
			t.Fatal(err)
		}
		return queueing.GetConfig()
	}
	resolve := func(cfg *queueing.Config, task queueing.Task) queueing.Placement {
		t.Helper()
		p, err := queueing.Resolve(cfg, task)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	cfg := load("testdata/kueue.yaml")
	if cfg.Provider != queueing.Kueue || len(cfg.Overrides) != 3 || cfg.LiveView.MaxPodLinks != 16 || cfg.LiveView.MaxPhaseVersions != 1000 {
		t.Fatalf("kueue example loaded as %+v", cfg)
	}
	if p := resolve(cfg, queueing.Task{Project: "ml", Domain: "development", Namespace: "ml-development", TaskType: "pytorch"}); p.Queue != "gpu" || p.PriorityClass != "high" {
		t.Fatalf("ml pytorch task placed %+v", p)
	}
	if p := resolve(cfg, queueing.Task{Project: "web", Domain: "development", Namespace: "web-development", TaskType: "ray"}); p.Queue != "team-a" || p.PriorityClass != "standard" {
		t.Fatalf("other task placed %+v", p)
	}

	cfg = load("testdata/volcano.yaml")
	if p := resolve(cfg, queueing.Task{Project: "web", Domain: "production", TaskType: "ray"}); p.Provider != queueing.Volcano || p.Queue != "prod" || p.PriorityClass != "batch-high" {
		t.Fatalf("production ray task placed %+v", p)
	}
}

package pytorch_test

import (
	"context"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// The inputs of these benchmarks are duplicated in
// cmd/flytepropeller/bench, which runs upstream's plugin on them.

func benchBuild(b *testing.B, tk kittest.Task) {
	kittest.SetPlatform(b, richPlatform())
	p := registered(b)
	tCtx := kittest.New(tk)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.BuildResource(ctx, tCtx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildResource builds a v1 task with a master and four workers,
// each with its own image and resources, over a richly configured
// platform; elastic adds an elastic config (and drops the master).
func BenchmarkBuildResource(b *testing.B) {
	b.Run("master+4workers", func(b *testing.B) { benchBuild(b, task(b, 1, v1Job())) })
	b.Run("elastic", func(b *testing.B) { benchBuild(b, task(b, 1, elasticJob())) })
}

// benchLogs is a plugins.logs section with a Kubernetes link and a
// templated one, for one test.
func benchLogs(b testing.TB) {
	prev := *logs.GetLogConfig()
	require.NoError(b, logs.SetLogConfig(&logs.LogConfig{
		IsKubernetesEnabled:   true,
		KubernetesTemplateURI: "https://k8s/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}",
		Templates: []tasklog.TemplateLogPlugin{{
			DisplayName:  "Grafana",
			TemplateURIs: []tasklog.TemplateURI{"https://grafana/explore?pod={{ .podName }}&container={{ .containerName }}&from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}"},
		}},
	}))
	b.Cleanup(func() { _ = logs.SetLogConfig(&prev) })
}

// runningJob is a running PyTorchJob with a master and four workers.
func runningJob() *kubeflowv1.PyTorchJob {
	created := metav1.Unix(1767323045, 0)
	start := metav1.NewTime(created.Add(5 * time.Second))
	running := metav1.NewTime(created.Add(40 * time.Second))
	return &kubeflowv1.PyTorchJob{
		ObjectMeta: metav1.ObjectMeta{Name: "f8a1b2c3d4-n0-0", Namespace: "flyteproject-development", CreationTimestamp: created},
		Spec: kubeflowv1.PyTorchJobSpec{PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
			master: {Replicas: new(int32(1))},
			worker: {Replicas: new(int32(4))},
		}},
		Status: kubeflowv1.JobStatus{
			Conditions: []kubeflowv1.JobCondition{
				{Type: kubeflowv1.JobCreated, Status: v1.ConditionTrue, Reason: "PyTorchJobCreated", LastTransitionTime: start},
				{Type: kubeflowv1.JobRunning, Status: v1.ConditionTrue, Reason: "PyTorchJobRunning", LastTransitionTime: running},
			},
			StartTime: &start,
		},
	}
}

// BenchmarkGetTaskPhase maps a running job with per-replica links (five
// pods, two links each), as propeller does on every round.
func BenchmarkGetTaskPhase(b *testing.B) {
	benchLogs(b)
	p := registered(b)
	running := task(b, 1, v1Job())
	// A round has stored a Running state: the live-view version rule runs
	// in full.
	running.State = k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 3}
	pCtx := kittest.New(running)
	job := runningJob()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		phase, err := p.GetTaskPhase(ctx, pCtx, job)
		if err != nil || len(phase.Info().Logs) != 10 {
			b.Fatal(err, phase.Info())
		}
	}
}

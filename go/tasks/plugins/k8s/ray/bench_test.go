package ray_test

import (
	"context"
	"testing"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
)

func benchmarkBuild(b *testing.B, task kittest.Task) {
	p := registered(b)
	tCtx := kittest.New(task)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.BuildResource(ctx, tCtx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildResource builds a head and one worker group, without and
// with autoscaling (upstream: ~850 and ~1,280 allocs/op).
func BenchmarkBuildResource(b *testing.B) {
	b.Run("basic", func(b *testing.B) { benchmarkBuild(b, rayTask(b, basicJob())) })
	b.Run("autoscaling", func(b *testing.B) { benchmarkBuild(b, rayTask(b, autoscalingJob())) })
}

// BenchmarkGetTaskPhase maps a running job with log links, the dashboard
// link and the aggregate link for four workers, after a round that stored
// a Running state (upstream, without the aggregate: ~416 allocs/op).
func BenchmarkGetTaskPhase(b *testing.B) {
	cfg := *ray.GetConfig()
	cfg.Logs.IsKubernetesEnabled = true
	cfg.Logs.KubernetesTemplateURI = "https://k8s/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}"
	cfg.Logs.Templates = []tasklog.TemplateLogPlugin{{
		DisplayName:  "Ray Logs",
		TemplateURIs: []tasklog.TemplateURI{"https://logs/{{ .namespace }}/{{ .rayClusterName }}/{{ .rayJobID }}?from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}"},
	}}
	cfg.DashboardURLTemplate = &tasklog.TemplateLogPlugin{
		DisplayName:  "Ray Dashboard",
		TemplateURIs: []tasklog.TemplateURI{"https://dashboard/{{ .namespace }}/{{ .rayClusterName }}/#/jobs/{{ .rayJobID }}"},
	}
	withConfig(b, &cfg)

	p := registered(b)
	task := rayTask(b, basicJob())
	task.State = k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 3}
	pCtx := kittest.New(task)
	job := runningJob()
	job.Status.RayClusterStatus.DesiredWorkerReplicas = 4
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		phase, err := p.GetTaskPhase(ctx, pCtx, job)
		if err != nil || len(phase.Info().Logs) != 4 {
			b.Fatal(err, phase.Info())
		}
	}
}

// runningJob is a RayJob whose Ray job runs, with everything KubeRay reports.
func runningJob() *rayv1.RayJob {
	job := &rayv1.RayJob{}
	job.Name = "f8a1b2c3d4-n0-0"
	job.Namespace = "flyteproject-development"
	job.CreationTimestamp = metav1.Unix(1767323045, 0)
	job.Status = rayv1.RayJobStatus{
		JobDeploymentStatus: rayv1.JobDeploymentStatusRunning,
		JobStatus:           rayv1.JobStatusRunning,
		JobId:               "f8a1b2c3d4-n0-0-abcde",
		RayClusterName:      "f8a1b2c3d4-n0-0-raycluster-xyz",
		DashboardURL:        "f8a1b2c3d4-n0-0-head-svc.flyteproject-development.svc.cluster.local:8265",
	}
	job.Status.RayClusterStatus.Head.PodName = "f8a1b2c3d4-n0-0-raycluster-xyz-head-abc"
	return job
}

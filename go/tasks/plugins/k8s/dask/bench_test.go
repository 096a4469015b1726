package dask_test

import (
	"context"
	"testing"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// BenchmarkBuildResource builds the DaskJob of a basic Dask task (custom
// scheduler and worker images and resources) over a richly configured
// platform.
func BenchmarkBuildResource(b *testing.B) {
	kittest.SetPlatform(b, richPlatform())
	p := registered(b)
	tCtx := kittest.New(daskTask(b, basicJob()))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.BuildResource(ctx, tCtx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetTaskPhase maps a running job with the default log config (one
// Kubernetes log link), as propeller does on every round.
func BenchmarkGetTaskPhase(b *testing.B) {
	p := registered(b)
	task := daskTask(b, basicJob())
	task.State = k8s.PluginState{Phase: 4}
	pCtx := kittest.New(task)
	job := runningJob()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.GetTaskPhase(ctx, pCtx, job); err != nil {
			b.Fatal(err)
		}
	}
}

func runningJob() *daskAPI.DaskJob {
	return &daskAPI.DaskJob{
		ObjectMeta: metav1.ObjectMeta{Name: jobName, Namespace: "flyteproject-development"},
		Status: daskAPI.DaskJobStatus{
			ClusterName:      jobName,
			JobRunnerPodName: jobName + "-runner",
			JobStatus:        daskAPI.DaskJobRunning,
			StartTime:        metav1.Unix(1700000000, 0),
		},
	}
}

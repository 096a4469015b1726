package spark_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
)

func benchTask(b *testing.B, withPods bool) kittest.Task {
	task := pythonTask(b)
	task.Resources = &v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("2Gi")}}
	if withPods {
		pod := &v1.PodSpec{
			Tolerations:  []v1.Toleration{{Key: "gpu", Operator: v1.TolerationOpExists}},
			NodeSelector: map[string]string{"disk": "ssd"},
			Containers: []v1.Container{
				{Name: "primary", Env: []v1.EnvVar{{Name: "X", Value: "1"}}, VolumeMounts: []v1.VolumeMount{{Name: "data", MountPath: "/data"}},
					Resources: v1.ResourceRequirements{Limits: v1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}},
				{Name: "sidecar", Image: "envoy"},
			},
			Volumes: []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
		}
		task = withJob(b, task, func(j *plugins.SparkJob) {
			j.DriverPod = &core.K8SPod{PrimaryContainerName: "primary", PodSpec: kittest.ObjStruct(b, pod)}
			j.ExecutorPod = &core.K8SPod{PrimaryContainerName: "primary", PodSpec: kittest.ObjStruct(b, pod)}
		})
	}
	return task
}

func benchBuild(b *testing.B, withPods bool) {
	kittest.SetPlatform(b, richPlatform())
	setSpark(b, &spark.Config{DefaultSparkConfig: map[string]string{"spark.ui.enabled": "true"}})
	p := registered(b)
	tCtx := kittest.New(benchTask(b, withPods))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.BuildResource(ctx, tCtx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildResource is a Python Spark task over a richly configured
// platform.
func BenchmarkBuildResource(b *testing.B) { benchBuild(b, false) }

// BenchmarkBuildResourcePodTemplates adds driver and executor pod templates.
func BenchmarkBuildResourcePodTemplates(b *testing.B) { benchBuild(b, true) }

// BenchmarkGetTaskPhase is a running application with four log links, the
// Driver UI and per-pod links for four executors, after a round that
// stored a Running state (the live-view version rule runs in full).
func BenchmarkGetTaskPhase(b *testing.B) {
	k := logs.LogConfig{IsKubernetesEnabled: true, KubernetesTemplateURI: "https://k8s/{{ .namespace }}/{{ .podName }}"}
	setSpark(b, &spark.Config{LogConfig: spark.LogConfig{Mixed: k, User: k, System: k, AllUser: k}})
	p := registered(b)
	task := pythonTask(b)
	task.State = k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 3}
	tCtx := kittest.New(task)
	app := application(sparkv1beta2.ApplicationStateRunning)
	app.Status.DriverInfo.PodName = "app-driver"
	app.Status.DriverInfo.WebUIIngressAddress = "spark-ui.example.com"
	app.Status.ExecutorState = map[string]sparkv1beta2.ExecutorState{
		"app-exec-1": sparkv1beta2.ExecutorStateRunning, "app-exec-2": sparkv1beta2.ExecutorStateRunning,
		"app-exec-3": sparkv1beta2.ExecutorStateRunning, "app-exec-4": sparkv1beta2.ExecutorStatePending,
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		phase, err := p.GetTaskPhase(ctx, tCtx, app)
		if err != nil || len(phase.Info().Logs) != 9 {
			b.Fatal(err, len(phase.Info().Logs))
		}
	}
}

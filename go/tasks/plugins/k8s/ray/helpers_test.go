package ray_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
)

// registered returns the plugin as propeller gets it: from the registry by ID.
func registered(t testing.TB) k8s.Plugin {
	t.Helper()
	e := entry(t)
	return e.Plugin
}

func entry(t testing.TB) k8s.PluginEntry {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == ray.PluginID {
			return e
		}
	}
	t.Fatalf("plugin %q is not registered", ray.PluginID)
	return k8s.PluginEntry{}
}

// taskArgs is the command line flytekit registers for a Ray task (fast
// registration, map-task resolver), with its input/output templates and an
// empty argument.
var taskArgs = []string{
	"pyflyte-fast-execute", "--additional-distribution", "s3://my-s3-bucket/flytesnacks/development/ABCDEFG.tar.gz",
	"--dest-dir", ".", "--", "pyflyte-execute",
	"--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
	"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
	"--checkpoint-path", "{{.checkpointOutputPrefix}}", "--prev-checkpoint", "{{.prevCheckpointPrefix}}",
	"--resolver", "flytekit.core.array_node_map_task.ArrayNodeMapTaskResolver",
	"--", "vars", "", "resolver", "flytekit.core.python_auto_container.default_task_resolver",
	"task-module", "ray_example", "task-name", "ray_task",
}

// basicJob is a head and one worker group, as flytekit sends.
func basicJob() *plugins.RayJob {
	return &plugins.RayJob{
		RayCluster: &plugins.RayCluster{
			HeadGroupSpec: &plugins.HeadGroupSpec{RayStartParams: map[string]string{"num-cpus": "1"}},
			WorkerGroupSpec: []*plugins.WorkerGroupSpec{{
				GroupName: "workers", Replicas: 3, MinReplicas: 1, MaxReplicas: 5,
				RayStartParams: map[string]string{"num-cpus": "2"},
			}},
		},
		RuntimeEnvYaml: "pip:\n- numpy\n",
	}
}

// bareJob is a head and one worker group without start parameters.
func bareJob() *plugins.RayJob {
	return &plugins.RayJob{RayCluster: &plugins.RayCluster{
		HeadGroupSpec:   &plugins.HeadGroupSpec{},
		WorkerGroupSpec: []*plugins.WorkerGroupSpec{{GroupName: "workers", Replicas: 1}},
	}}
}

// autoscalingJob adds autoscaling with every option set.
func autoscalingJob() *plugins.RayJob {
	job := basicJob()
	job.RayCluster.EnableAutoscaling = true
	job.RayCluster.AutoscalerOptions = &plugins.AutoscalerOptions{
		UpscalingMode:      plugins.AutoscalerOptions_UPSCALING_MODE_AGGRESSIVE,
		IdleTimeoutSeconds: 120,
		Image:              "rayproject/ray:2.40.0",
		Env:                []*core.KeyValuePair{{Key: "AUTOSCALER_LOG_LEVEL", Value: "debug"}},
		Resources: &core.Resources{
			Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "500m"}, {Name: core.Resources_MEMORY, Value: "512Mi"}},
			Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "1"}, {Name: core.Resources_MEMORY, Value: "1Gi"}},
		},
	}
	return job
}

// taskResources are the resource overrides propeller computed for the task.
func taskResources() *v1.ResourceRequirements {
	return &v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("4Gi")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("4Gi")},
	}
}

// rayTask is a Ray task for job.
func rayTask(t testing.TB, job *plugins.RayJob) kittest.Task {
	t.Helper()
	return kittest.Task{
		Template:       kittest.ContainerTemplate(ray.TaskType, kittest.Struct(t, job), "ghcr.io/flyteorg/ray-task:1", taskArgs...),
		ServiceAccount: "task-sa",
		Resources:      taskResources(),
	}
}

// build runs BuildResource through the registered plugin.
func build(t testing.TB, task kittest.Task) (*rayv1.RayJob, error) {
	t.Helper()
	obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	if err != nil {
		return nil, err
	}
	return obj.(*rayv1.RayJob), nil
}

func mustBuild(t testing.TB, task kittest.Task) *rayv1.RayJob {
	t.Helper()
	job, err := build(t, task)
	require.NoError(t, err)
	return job
}

// withConfig installs cfg as plugins.ray for one test.
func withConfig(t testing.TB, cfg *ray.Config) {
	t.Helper()
	prev := ray.GetConfig()
	require.NoError(t, ray.SetConfig(cfg))
	t.Cleanup(func() { _ = ray.SetConfig(prev) })
}

// defaultConfig is a copy of the registered defaults, to modify per test.
func defaultConfig() *ray.Config {
	c := *ray.GetConfig()
	return &c
}

func container(spec *v1.PodSpec, name string) *v1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

func envMap(c *v1.Container) map[string]v1.EnvVar {
	out := make(map[string]v1.EnvVar, len(c.Env))
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

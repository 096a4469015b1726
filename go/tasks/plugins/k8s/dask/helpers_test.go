package dask_test

import (
	"context"
	"strings"
	"testing"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

const (
	taskImage      = "ghcr.io/flyteorg/dask-task:v1"
	schedulerImage = "ghcr.io/dask/dask:2026.6.0"
	workerImage    = "ghcr.io/dask/dask-worker:2026.6.0"
)

// flyte2 is what Flyte 2's executor needs beyond the v1 interface.
type flyte2 interface {
	IsTerminal(ctx context.Context, obj client.Object) (bool, error)
	GetCompletionTime(obj client.Object) (time.Time, error)
}

// registered is the plugin as propeller finds it: from the registry, by ID.
func registered(t testing.TB) k8s.Plugin {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == dask.PluginID {
			return e.Plugin
		}
	}
	t.Fatalf("plugin %q is not registered", dask.PluginID)
	return nil
}

// registeredEntry is the plugin's whole registry entry.
func registeredEntry(t testing.TB) k8s.PluginEntry {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == dask.PluginID {
			return e
		}
	}
	t.Fatalf("plugin %q is not registered", dask.PluginID)
	return k8s.PluginEntry{}
}

func q(s string) resource.Quantity { return resource.MustParse(s) }

func res(entries ...string) []*core.Resources_ResourceEntry {
	names := map[string]core.Resources_ResourceName{
		"cpu": core.Resources_CPU, "memory": core.Resources_MEMORY, "gpu": core.Resources_GPU,
		"ephemeral-storage": core.Resources_EPHEMERAL_STORAGE,
	}
	var out []*core.Resources_ResourceEntry
	for _, e := range entries {
		k, v, _ := strings.Cut(e, "=")
		out = append(out, &core.Resources_ResourceEntry{Name: names[k], Value: v})
	}
	return out
}

// basicJob is the custom config of a typical Dask task.
func basicJob() *plugins.DaskJob {
	return &plugins.DaskJob{
		Scheduler: &plugins.DaskScheduler{
			Image:     schedulerImage,
			Resources: &core.Resources{Limits: res("cpu=2", "memory=4Gi")},
		},
		Workers: &plugins.DaskWorkerGroup{
			NumberOfWorkers: 3,
			Image:           workerImage,
			Resources:       &core.Resources{Requests: res("cpu=1500m", "memory=2Gi"), Limits: res("cpu=1500m", "memory=2Gi")},
		},
	}
}

// daskTask is a Python Dask task with the given custom config.
func daskTask(t testing.TB, job *plugins.DaskJob) kittest.Task {
	t.Helper()
	tmpl := kittest.ContainerTemplate(dask.TaskType, kittest.Struct(t, job), taskImage,
		"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}")
	return kittest.Task{
		Template: tmpl,
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("500m"), v1.ResourceMemory: q("1Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("1Gi")},
		},
		Labels:      map[string]string{"execution-id": "f8a1b2c3d4"},
		Annotations: map[string]string{"flyte/owner": "team-a"},
	}
}

// build builds the DaskJob through the registered plugin.
func build(t testing.TB, task kittest.Task) *daskAPI.DaskJob {
	t.Helper()
	obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	if err != nil {
		t.Fatalf("BuildResource: %v", err)
	}
	job, ok := obj.(*daskAPI.DaskJob)
	if !ok {
		t.Fatalf("BuildResource returned %T, want *DaskJob", obj)
	}
	return job
}

// setDask installs cfg as plugins.dask for one test.
func setDask(t testing.TB, cfg *dask.Config) {
	t.Helper()
	prev := dask.GetConfig()
	if err := dask.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dask.SetConfig(prev) })
}

// richPlatform is a plugins.k8s section that sets what a platform typically
// does, with interruptible placement distinct from the default.
func richPlatform() *config.K8sPluginConfig {
	cfg := *config.GetK8sPluginConfig()
	cfg.DefaultTolerations = []v1.Toleration{{Key: "flyte", Operator: v1.TolerationOpExists}}
	cfg.InterruptibleTolerations = []v1.Toleration{{Key: "spot", Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}}
	cfg.InterruptibleNodeSelector = map[string]string{"node-lifecycle": "spot"}
	cfg.InterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"spot"}}
	cfg.NonInterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpNotIn, Values: []string{"spot"}}
	cfg.DefaultNodeSelector = map[string]string{"pool": "flyte"}
	cfg.DefaultLabels = map[string]string{"platform": "flyte"}
	cfg.DefaultAnnotations = map[string]string{"platform/annotated": "yes"}
	cfg.DefaultEnvVars = map[string]string{"PLATFORM_ENV": "1"}
	cfg.SchedulerName = "flyte-scheduler"
	cfg.AddTolerationsForExtendedResources = []string{"nvidia.com/gpu"}
	return &cfg
}

// container returns the named container of a pod spec.
func container(t testing.TB, spec v1.PodSpec, name string) v1.Container {
	t.Helper()
	for _, c := range spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q in %v", name, names(spec.Containers))
	return v1.Container{}
}

func names(cs []v1.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func env(c v1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

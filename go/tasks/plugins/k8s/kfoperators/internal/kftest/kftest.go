// Package kftest holds what the three Kubeflow plugins' tests share: the
// plugin as propeller finds it, a flytekit-shaped task, a platform config
// the tests were not tuned to, and lookups into built replicas.
package kftest

import (
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// Registered is the plugin registered under id, as propeller finds it.
func Registered(t testing.TB, id string) k8s.Plugin { t.Helper(); return kittest.Registered(t, id) }

// Resources are equal requests and limits of cpu and memory, as a replica
// spec in the custom proto carries them.
func Resources(cpu, memory string) *core.Resources {
	return &core.Resources{
		Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
		Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
	}
}

// Task is a task of taskType with custom at version, run as an execution
// would run it (service account, resources, labels, annotations).
func Task(t testing.TB, taskType string, version int32, custom proto.Message, image string, args ...string) kittest.Task {
	t.Helper()
	tmpl := kittest.ContainerTemplate(taskType, kittest.Struct(t, custom), image, args...)
	tmpl.TaskTypeVersion = version
	return kittest.Task{
		Template:       tmpl,
		ServiceAccount: "task-sa",
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("2Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("2Gi")},
		},
		Labels:      map[string]string{"execution-id": "f8a1b2c3d4"},
		Annotations: map[string]string{"flyte/owner": "team-a"},
	}
}

// Container is a replica pod's container with the given name.
func Container(t testing.TB, spec *kubeflowv1.ReplicaSpec, name string) v1.Container {
	t.Helper()
	require.NotNil(t, spec)
	for _, c := range spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return v1.Container{}
}

// Env is a container's variable by name.
func Env(c v1.Container, name string) (v1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return v1.EnvVar{}, false
}

// spot is the platform's interruptible node label value.
const spot = "spot"

// RichPlatform is a plugins.k8s section such as a platform sets.
func RichPlatform() *config.K8sPluginConfig {
	cfg := *config.GetK8sPluginConfig()
	cfg.DefaultTolerations = []v1.Toleration{{Key: "flyte", Operator: v1.TolerationOpExists}}
	cfg.InterruptibleTolerations = []v1.Toleration{{Key: spot, Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}}
	cfg.InterruptibleNodeSelector = map[string]string{"node-lifecycle": spot}
	cfg.InterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{spot}}
	cfg.NonInterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpNotIn, Values: []string{spot}}
	cfg.DefaultNodeSelector = map[string]string{"pool": "training"}
	cfg.DefaultLabels = map[string]string{"platform": "flyte"}
	cfg.DefaultAnnotations = map[string]string{"platform/annotated": "yes"}
	cfg.DefaultEnvVars = map[string]string{"PLATFORM_ENV": "1"}
	cfg.SchedulerName = "volcano"
	cfg.AddTolerationsForExtendedResources = []string{"nvidia.com/gpu"}
	return &cfg
}

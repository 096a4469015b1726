package mpi_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
)

const taskImage = "ghcr.io/flyteorg/horovod-task:v1"

// taskArgs is what flytekit registers for an MPI (Horovod) task: the
// launcher runs mpirun, which starts the task on the workers.
var taskArgs = []string{
	"mpirun", "--allow-run-as-root", "-bind-to", "none", "-map-by", "slot", "-x", "LD_LIBRARY_PATH", "-x", "PATH",
	"-np", "4", "python", "-m", "flytekit.bin.entrypoint", "pyflyte-execute",
	"--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
	"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
	"--", "task-module", "horovod_mnist", "task-name", "train",
}

// registered is the plugin as propeller finds it: from the registry, by ID.
func registered(t testing.TB) k8s.Plugin {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == mpi.PluginID {
			return e.Plugin
		}
	}
	t.Fatalf("plugin %q is not registered", mpi.PluginID)
	return nil
}

func res(cpu, memory string) *core.Resources {
	return &core.Resources{
		Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
		Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
	}
}

// v1Job is a flytekit MPI task: a launcher and four workers with their
// own images, resources and commands, two slots a worker, a run policy.
func v1Job() *kfplugins.DistributedMPITrainingTask {
	return &kfplugins.DistributedMPITrainingTask{
		LauncherReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
			Common:  &plugins.CommonReplicaSpec{Image: "ghcr.io/flyteorg/mpi-launcher:v1", Resources: res("1", "1Gi")},
			Command: []string{"mpirun", "-np", "8", "python", "train.py"},
		},
		WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
			Common:  &plugins.CommonReplicaSpec{Replicas: 4, Image: "ghcr.io/flyteorg/mpi-worker:v1", Resources: res("8", "32Gi")},
			Command: []string{"/usr/sbin/sshd", "-De"},
		},
		Slots:     2,
		RunPolicy: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL},
	}
}

// task is an MPI task with custom at version.
func task(t testing.TB, version int32, custom proto.Message) kittest.Task {
	t.Helper()
	tmpl := kittest.ContainerTemplate(mpi.TaskType, kittest.Struct(t, custom), taskImage, taskArgs...)
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

func build(t testing.TB, task kittest.Task) (*kubeflowv1.MPIJob, error) {
	t.Helper()
	obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	if err != nil {
		return nil, err
	}
	return obj.(*kubeflowv1.MPIJob), nil
}

func mustBuild(t testing.TB, task kittest.Task) *kubeflowv1.MPIJob {
	t.Helper()
	job, err := build(t, task)
	require.NoError(t, err)
	return job
}

// container is a replica pod's container named mpi, the operator's.
func container(t testing.TB, spec *kubeflowv1.ReplicaSpec) v1.Container {
	t.Helper()
	require.NotNil(t, spec)
	for _, c := range spec.Template.Spec.Containers {
		if c.Name == "mpi" {
			return c
		}
	}
	t.Fatalf("no container %q", "mpi")
	return v1.Container{}
}

// richPlatform is a plugins.k8s section such as a platform sets.
func richPlatform() *config.K8sPluginConfig {
	cfg := *config.GetK8sPluginConfig()
	cfg.DefaultTolerations = []v1.Toleration{{Key: "flyte", Operator: v1.TolerationOpExists}}
	cfg.InterruptibleTolerations = []v1.Toleration{{Key: "spot", Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}}
	cfg.InterruptibleNodeSelector = map[string]string{"node-lifecycle": "spot"}
	cfg.InterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"spot"}}
	cfg.NonInterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpNotIn, Values: []string{"spot"}}
	cfg.DefaultNodeSelector = map[string]string{"pool": "training"}
	cfg.DefaultLabels = map[string]string{"platform": "flyte"}
	cfg.DefaultAnnotations = map[string]string{"platform/annotated": "yes"}
	cfg.DefaultEnvVars = map[string]string{"PLATFORM_ENV": "1"}
	cfg.SchedulerName = "volcano"
	cfg.AddTolerationsForExtendedResources = []string{"nvidia.com/gpu"}
	return &cfg
}

package mpi_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/internal/kftest"
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
func registered(t testing.TB) k8s.Plugin { t.Helper(); return kftest.Registered(t, mpi.PluginID) }

func res(cpu, memory string) *core.Resources { return kftest.Resources(cpu, memory) }

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

// task is a mpi task with custom at version.
func task(t testing.TB, version int32, custom proto.Message) kittest.Task {
	t.Helper()
	return kftest.Task(t, mpi.TaskType, version, custom, taskImage, taskArgs...)
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
	return kftest.Container(t, spec, "mpi")
}

// richPlatform is a plugins.k8s section such as a platform sets.
func richPlatform() *config.K8sPluginConfig { return kftest.RichPlatform() }

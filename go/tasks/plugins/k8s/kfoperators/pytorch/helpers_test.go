package pytorch_test

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
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
)

const taskImage = "ghcr.io/flyteorg/pytorch-task:v1"

// taskArgs is what flytekit registers for a PyTorch task.
var taskArgs = []string{
	"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
	"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
	"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
	"--", "task-module", "mnist", "task-name", "train",
}

// registered is the plugin as propeller finds it: from the registry, by ID.
func registered(t testing.TB) k8s.Plugin { t.Helper(); return kftest.Registered(t, pytorch.PluginID) }

func res(cpu, memory string) *core.Resources { return kftest.Resources(cpu, memory) }

// v1Job is a flytekit PyTorch task: a master and four workers with their
// own images and resources, and a run policy.
func v1Job() *kfplugins.DistributedPyTorchTrainingTask {
	return &kfplugins.DistributedPyTorchTrainingTask{
		MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
			Image: "ghcr.io/flyteorg/pytorch-master:v1", Resources: res("2", "4Gi"),
			RestartPolicy: plugins.RestartPolicy_RESTART_POLICY_ON_FAILURE,
		}},
		WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
			Replicas: 4, Image: "ghcr.io/flyteorg/pytorch-worker:v1", Resources: res("4", "16Gi"),
		}},
		RunPolicy: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL, BackoffLimit: 3, TtlSecondsAfterFinished: 3600},
	}
}

// elasticJob is v1Job with an elastic config (flytekit's Elastic task).
func elasticJob() *kfplugins.DistributedPyTorchTrainingTask {
	j := v1Job()
	j.ElasticConfig = &kfplugins.ElasticConfig{RdzvBackend: "c10d", MinReplicas: 2, MaxReplicas: 4, NprocPerNode: 8, MaxRestarts: 3}
	return j
}

// task is a pytorch task with custom at version.
func task(t testing.TB, version int32, custom proto.Message) kittest.Task {
	t.Helper()
	return kftest.Task(t, pytorch.TaskType, version, custom, taskImage, taskArgs...)
}

func build(t testing.TB, task kittest.Task) (*kubeflowv1.PyTorchJob, error) {
	t.Helper()
	obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	if err != nil {
		return nil, err
	}
	return obj.(*kubeflowv1.PyTorchJob), nil
}

func mustBuild(t testing.TB, task kittest.Task) *kubeflowv1.PyTorchJob {
	t.Helper()
	job, err := build(t, task)
	require.NoError(t, err)
	return job
}

// container is a replica pod's container named pytorch, the operator's.
func container(t testing.TB, spec *kubeflowv1.ReplicaSpec) v1.Container {
	t.Helper()
	return kftest.Container(t, spec, "pytorch")
}

func env(c v1.Container, name string) (v1.EnvVar, bool) { return kftest.Env(c, name) }

// richPlatform is a plugins.k8s section such as a platform sets.
func richPlatform() *config.K8sPluginConfig { return kftest.RichPlatform() }

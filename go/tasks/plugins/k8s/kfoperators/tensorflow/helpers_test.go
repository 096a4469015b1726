package tensorflow_test

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
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
)

const taskImage = "ghcr.io/flyteorg/tensorflow-task:v1"

// taskArgs is what flytekit registers for a TensorFlow task.
var taskArgs = []string{
	"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
	"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
	"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
	"--", "task-module", "cifar", "task-name", "train",
}

// registered is the plugin as propeller finds it: from the registry, by ID.
func registered(t testing.TB) k8s.Plugin {
	t.Helper()
	return kftest.Registered(t, tensorflow.PluginID)
}

func res(cpu, memory string) *core.Resources { return kftest.Resources(cpu, memory) }

// v1Job is a flytekit TensorFlow task: a chief, two parameter servers,
// four workers and an evaluator, each with its own image and resources.
func v1Job() *kfplugins.DistributedTensorflowTrainingTask {
	spec := func(n int32, image string, r *core.Resources) *kfplugins.DistributedTensorflowTrainingReplicaSpec {
		return &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: n, Image: image, Resources: r}}
	}
	return &kfplugins.DistributedTensorflowTrainingTask{
		ChiefReplicas:     spec(1, "ghcr.io/flyteorg/tf-chief:v1", res("2", "4Gi")),
		PsReplicas:        spec(2, "ghcr.io/flyteorg/tf-ps:v1", res("1", "8Gi")),
		WorkerReplicas:    spec(4, "ghcr.io/flyteorg/tf-worker:v1", res("4", "16Gi")),
		EvaluatorReplicas: spec(1, "ghcr.io/flyteorg/tf-eval:v1", res("1", "2Gi")),
		RunPolicy:         &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_RUNNING, BackoffLimit: 2},
	}
}

// task is a tensorflow task with custom at version.
func task(t testing.TB, version int32, custom proto.Message) kittest.Task {
	t.Helper()
	return kftest.Task(t, tensorflow.TaskType, version, custom, taskImage, taskArgs...)
}

func build(t testing.TB, task kittest.Task) (*kubeflowv1.TFJob, error) {
	t.Helper()
	obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	if err != nil {
		return nil, err
	}
	return obj.(*kubeflowv1.TFJob), nil
}

func mustBuild(t testing.TB, task kittest.Task) *kubeflowv1.TFJob {
	t.Helper()
	job, err := build(t, task)
	require.NoError(t, err)
	return job
}

// container is a replica pod's container named tensorflow, the operator's.
func container(t testing.TB, spec *kubeflowv1.ReplicaSpec) v1.Container {
	t.Helper()
	return kftest.Container(t, spec, "tensorflow")
}

func env(c v1.Container, name string) (v1.EnvVar, bool) { return kftest.Env(c, name) }

// richPlatform is a plugins.k8s section such as a platform sets.
func richPlatform() *config.K8sPluginConfig { return kftest.RichPlatform() }

package tensorflow_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
)

const (
	chief     = kubeflowv1.TFJobReplicaTypeChief
	ps        = kubeflowv1.TFJobReplicaTypePS
	worker    = kubeflowv1.TFJobReplicaTypeWorker
	evaluator = kubeflowv1.TFJobReplicaTypeEval
)

// Replica types and counts for both proto versions: each type with
// replicas is there, the others are left out.
func TestReplicas(t *testing.T) {
	spec := func(n int32) *kfplugins.DistributedTensorflowTrainingReplicaSpec {
		return &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: n}}
	}
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    map[kubeflowv1.ReplicaType]int32
	}{
		{"v0 every type", 0, &plugins.DistributedTensorflowTrainingTask{ChiefReplicas: 1, PsReplicas: 2, Workers: 3, EvaluatorReplicas: 1},
			map[kubeflowv1.ReplicaType]int32{chief: 1, ps: 2, worker: 3, evaluator: 1}},
		{"v0 workers only", 0, &plugins.DistributedTensorflowTrainingTask{Workers: 2}, map[kubeflowv1.ReplicaType]int32{worker: 2}},
		{"v0 workers and ps", 0, &plugins.DistributedTensorflowTrainingTask{Workers: 2, PsReplicas: 1}, map[kubeflowv1.ReplicaType]int32{worker: 2, ps: 1}},
		{"v1 every type", 1, v1Job(), map[kubeflowv1.ReplicaType]int32{chief: 1, ps: 2, worker: 4, evaluator: 1}},
		{"v1 workers only", 1, &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: spec(1)}, map[kubeflowv1.ReplicaType]int32{worker: 1}},
		{"v1 zero-replica types left out", 1, &kfplugins.DistributedTensorflowTrainingTask{
			WorkerReplicas: spec(2), ChiefReplicas: spec(0), PsReplicas: spec(0), EvaluatorReplicas: spec(1),
		}, map[kubeflowv1.ReplicaType]int32{worker: 2, evaluator: 1}},
		{"v1 deprecated replica fields", 1, &kfplugins.DistributedTensorflowTrainingTask{
			WorkerReplicas: &kfplugins.DistributedTensorflowTrainingReplicaSpec{Replicas: 3},
			ChiefReplicas:  &kfplugins.DistributedTensorflowTrainingReplicaSpec{Replicas: 1},
		}, map[kubeflowv1.ReplicaType]int32{worker: 3, chief: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := mustBuild(t, task(t, tc.version, tc.custom))
			assert.Equal(t, kubeflowv1.TFJobKind, job.Kind)
			assert.Equal(t, "kubeflow.org/v1", job.APIVersion)
			got := map[kubeflowv1.ReplicaType]int32{}
			for rt, spec := range job.Spec.TFReplicaSpecs {
				require.NotNil(t, spec.Replicas, rt)
				got[rt] = *spec.Replicas
				require.Len(t, spec.Template.Spec.Containers, 1, rt)
				c := container(t, spec)
				assert.NotEmpty(t, c.Image, rt)
				assert.Equal(t, "mem://inputs/inputs.pb", c.Args[2], rt)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// v0: every replica runs the task pod as it is, container named tensorflow.
func TestV0(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	job := mustBuild(t, task(t, 0, &plugins.DistributedTensorflowTrainingTask{ChiefReplicas: 1, PsReplicas: 1, Workers: 2, EvaluatorReplicas: 1}))
	assert.Equal(t, kubeflowv1.RunPolicy{}, job.Spec.RunPolicy)
	require.Len(t, job.Spec.TFReplicaSpecs, 4)
	for rt, spec := range job.Spec.TFReplicaSpecs {
		c := container(t, spec)
		assert.Equal(t, taskImage, c.Image, rt)
		assert.Equal(t, resource.MustParse("1"), c.Resources.Limits[v1.ResourceCPU], rt)
		assert.Equal(t, kubeflowv1.RestartPolicyNever, spec.RestartPolicy, rt)
		assert.Equal(t, "task-sa", spec.Template.Spec.ServiceAccountName, rt)
		assert.Equal(t, "volcano", spec.Template.Spec.SchedulerName, rt)
		assert.Equal(t, "flyte", spec.Template.Labels["platform"], rt)
		_, ok := env(c, "PLATFORM_ENV")
		assert.True(t, ok, rt)
	}
	assert.Equal(t, "f8a1b2c3d4", job.Labels["execution-id"])
	assert.Equal(t, "flyte", job.Labels["platform"])
}

// v1: each replica type's image and resources replace the task's for it.
func TestV1PerReplica(t *testing.T) {
	job := mustBuild(t, task(t, 1, v1Job()))
	for rt, want := range map[kubeflowv1.ReplicaType]struct{ image, cpu, memory string }{
		chief:     {"ghcr.io/flyteorg/tf-chief:v1", "2", "4Gi"},
		ps:        {"ghcr.io/flyteorg/tf-ps:v1", "1", "8Gi"},
		worker:    {"ghcr.io/flyteorg/tf-worker:v1", "4", "16Gi"},
		evaluator: {"ghcr.io/flyteorg/tf-eval:v1", "1", "2Gi"},
	} {
		spec := job.Spec.TFReplicaSpecs[rt]
		c := container(t, spec)
		assert.Equal(t, want.image, c.Image, rt)
		assert.Equal(t, resource.MustParse(want.cpu), c.Resources.Limits[v1.ResourceCPU], rt)
		assert.Equal(t, resource.MustParse(want.memory), c.Resources.Requests[v1.ResourceMemory], rt)
		assert.Equal(t, kubeflowv1.RestartPolicyNever, spec.RestartPolicy, rt)
	}
	assert.Equal(t, kubeflowv1.RunPolicy{CleanPodPolicy: new(kubeflowv1.CleanPodPolicyRunning), BackoffLimit: new(int32(2))}, job.Spec.RunPolicy)
	assert.Equal(t, k8s.PluginProperties{}, registered(t).GetProperties(), "TensorFlow does not aggregate errors")
}

// TensorFlow's bad input: each is a BadTaskSpecification naming the field.
func TestBadInput(t *testing.T) {
	spec := func(n int32) *kfplugins.DistributedTensorflowTrainingReplicaSpec {
		return &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: n}}
	}
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    []string
	}{
		{"v0 no workers", 0, &plugins.DistributedTensorflowTrainingTask{ChiefReplicas: 1, PsReplicas: 1}, []string{"workers", `"0"`, "at least one"}},
		{"v0 nothing at all", 0, &plugins.DistributedTensorflowTrainingTask{}, []string{"workers", `"0"`}},
		{"v1 no workers", 1, &kfplugins.DistributedTensorflowTrainingTask{ChiefReplicas: spec(1)}, []string{"workerReplicas", `"0"`, "at least one"}},
		{"v1 zero workers", 1, &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: spec(0), PsReplicas: spec(2)}, []string{"workerReplicas", `"0"`}},
		{"v0 negative ps", 0, &plugins.DistributedTensorflowTrainingTask{Workers: 1, PsReplicas: -1}, []string{"psReplicas", `"-1"`}},
		{"v0 negative chief", 0, &plugins.DistributedTensorflowTrainingTask{Workers: 1, ChiefReplicas: -1}, []string{"chiefReplicas", `"-1"`}},
		{"v0 negative evaluators", 0, &plugins.DistributedTensorflowTrainingTask{Workers: 1, EvaluatorReplicas: -7}, []string{"evaluatorReplicas", `"-7"`}},
		{"v1 negative ps", 1, &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: spec(1), PsReplicas: spec(-2)}, []string{"psReplicas", `"-2"`}},
		{"v1 negative chief", 1, &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: spec(1), ChiefReplicas: spec(-1)}, []string{"chiefReplicas", `"-1"`}},
		{"v1 negative evaluators", 1, &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: spec(1), EvaluatorReplicas: spec(-1)}, []string{"evaluatorReplicas", `"-1"`}},
		{"v1 ps restart policy 42", 1, &kfplugins.DistributedTensorflowTrainingTask{
			WorkerReplicas: spec(1),
			PsReplicas:     &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 1, RestartPolicy: 42}},
		}, []string{"psReplicas.restartPolicy", "42"}},
		{"v1 chief bad memory", 1, &kfplugins.DistributedTensorflowTrainingTask{
			WorkerReplicas: spec(1),
			ChiefReplicas:  &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 1, Resources: res("1", "a lot")}},
		}, []string{"chiefReplicas.resources.requests.memory", `"a lot"`}},
		{"v1 evaluator bad cpu, deprecated field", 1, &kfplugins.DistributedTensorflowTrainingTask{
			WorkerReplicas:    spec(1),
			EvaluatorReplicas: &kfplugins.DistributedTensorflowTrainingReplicaSpec{Replicas: 1, Resources: res("1.2.3", "1Gi")},
		}, []string{"evaluatorReplicas.resources.requests.cpu", `"1.2.3"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, err := build(t, task(t, tc.version, tc.custom))
			require.Error(t, err)
			assert.Nil(t, job)
			assert.True(t, flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification), "want a BadTaskSpecification, got %v", err)
			for _, s := range tc.want {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// New and the registered plugin are the same plugin.
func TestRegistration(t *testing.T) {
	obj, err := tensorflow.New().BuildIdentityResource(context.Background(), nil)
	require.NoError(t, err)
	assert.IsType(t, &kubeflowv1.TFJob{}, obj)
}

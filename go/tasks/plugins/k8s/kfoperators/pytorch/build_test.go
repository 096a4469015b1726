package pytorch_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
)

const (
	master = kubeflowv1.PyTorchJobReplicaTypeMaster
	worker = kubeflowv1.PyTorchJobReplicaTypeWorker
)

// Replica types and counts for both proto versions: the master is always
// one and may be alone; a type with no replicas is left out.
func TestReplicas(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    map[kubeflowv1.ReplicaType]int32
	}{
		{"v0 master and workers", 0, &plugins.DistributedPyTorchTrainingTask{Workers: 3}, map[kubeflowv1.ReplicaType]int32{master: 1, worker: 3}},
		{"v0 master only", 0, &plugins.DistributedPyTorchTrainingTask{}, map[kubeflowv1.ReplicaType]int32{master: 1}},
		{"v1 master and workers", 1, v1Job(), map[kubeflowv1.ReplicaType]int32{master: 1, worker: 4}},
		{"v1 master only (flyteorg/flyte#6201)", 1, &kfplugins.DistributedPyTorchTrainingTask{}, map[kubeflowv1.ReplicaType]int32{master: 1}},
		{"v1 zero workers", 1, &kfplugins.DistributedPyTorchTrainingTask{
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 0, Image: "w:1"}},
		}, map[kubeflowv1.ReplicaType]int32{master: 1}},
		{"v1 master asks for three: one", 1, &kfplugins.DistributedPyTorchTrainingTask{
			MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 3}},
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Replicas: 2},
		}, map[kubeflowv1.ReplicaType]int32{master: 1, worker: 2}},
		{"v0 elastic: workers only", 0, &plugins.DistributedPyTorchTrainingTask{Workers: 2, ElasticConfig: &plugins.ElasticConfig{MinReplicas: 1, MaxReplicas: 2}},
			map[kubeflowv1.ReplicaType]int32{worker: 2}},
		{"v1 elastic: workers only", 1, elasticJob(), map[kubeflowv1.ReplicaType]int32{worker: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := mustBuild(t, task(t, tc.version, tc.custom))
			assert.Equal(t, kubeflowv1.PyTorchJobKind, job.Kind)
			assert.Equal(t, "kubeflow.org/v1", job.APIVersion)
			got := map[kubeflowv1.ReplicaType]int32{}
			for rt, spec := range job.Spec.PyTorchReplicaSpecs {
				require.NotNil(t, spec.Replicas, rt)
				got[rt] = *spec.Replicas
				require.Len(t, spec.Template.Spec.Containers, 1, rt)
				c := container(t, spec)
				assert.NotEmpty(t, c.Image, rt)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// v0: every replica runs the task pod as it is, container named pytorch.
func TestV0(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	job := mustBuild(t, task(t, 0, &plugins.DistributedPyTorchTrainingTask{Workers: 2}))
	assert.Nil(t, job.Spec.ElasticPolicy)
	assert.Equal(t, kubeflowv1.RunPolicy{}, job.Spec.RunPolicy)
	for rt, spec := range job.Spec.PyTorchReplicaSpecs {
		c := container(t, spec)
		assert.Equal(t, taskImage, c.Image, rt)
		assert.Equal(t, resource.MustParse("1"), c.Resources.Limits[v1.ResourceCPU], rt)
		assert.Equal(t, "mem://inputs/inputs.pb", c.Args[2], rt)
		assert.Equal(t, kubeflowv1.RestartPolicyNever, spec.RestartPolicy, rt)
		assert.Equal(t, v1.RestartPolicyNever, spec.Template.Spec.RestartPolicy, rt)
		assert.Equal(t, "task-sa", spec.Template.Spec.ServiceAccountName, rt)
		assert.Equal(t, "volcano", spec.Template.Spec.SchedulerName, rt)
		assert.Equal(t, "flyte", spec.Template.Labels["platform"], rt)
		assert.Equal(t, "f8a1b2c3d4", spec.Template.Labels["execution-id"], rt)
	}
	assert.Equal(t, "f8a1b2c3d4", job.Labels["execution-id"])
	assert.Equal(t, "team-a", job.Annotations["flyte/owner"])
}

// v1: each replica's image, resources and restart policy replace the
// task's for that replica.
func TestV1PerReplica(t *testing.T) {
	job := mustBuild(t, task(t, 1, v1Job()))
	m, w := job.Spec.PyTorchReplicaSpecs[master], job.Spec.PyTorchReplicaSpecs[worker]
	mc, wc := container(t, m), container(t, w)
	assert.Equal(t, "ghcr.io/flyteorg/pytorch-master:v1", mc.Image)
	assert.Equal(t, "ghcr.io/flyteorg/pytorch-worker:v1", wc.Image)
	assert.Equal(t, resource.MustParse("2"), mc.Resources.Limits[v1.ResourceCPU])
	assert.Equal(t, resource.MustParse("4Gi"), mc.Resources.Requests[v1.ResourceMemory])
	assert.Equal(t, resource.MustParse("4"), wc.Resources.Limits[v1.ResourceCPU])
	assert.Equal(t, resource.MustParse("16Gi"), wc.Resources.Requests[v1.ResourceMemory])
	assert.Equal(t, kubeflowv1.RestartPolicyOnFailure, m.RestartPolicy)
	assert.Equal(t, v1.RestartPolicyOnFailure, m.Template.Spec.RestartPolicy)
	assert.Equal(t, kubeflowv1.RestartPolicyNever, w.RestartPolicy, "the proto default")
	assert.Equal(t, mc.Args, wc.Args, "both run the task")
	assert.Equal(t, kubeflowv1.RunPolicy{
		CleanPodPolicy: new(kubeflowv1.CleanPodPolicyAll), BackoffLimit: new(int32(3)), TTLSecondsAfterFinished: new(int32(3600)),
	}, job.Spec.RunPolicy)
	assert.Nil(t, job.Spec.ElasticPolicy)

	// Replica specs share no memory: changing one leaves the other.
	m.Template.Spec.Containers[0].Env[0].Value = "changed"
	m.Template.Labels["changed"] = "yes"
	assert.NotEqual(t, "changed", w.Template.Spec.Containers[0].Env[0].Value)
	assert.NotContains(t, w.Template.Labels, "changed")
	assert.NotContains(t, job.Labels, "changed")
}

// Elastic: the master is dropped; min/max replicas, rendezvous backend and
// max restarts reach the operator's elasticPolicy, processes per node the
// job's nprocPerNode; zero values are left to the operator's defaults.
func TestElastic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    kubeflowv1.ElasticPolicy
		nproc   *string
	}{
		{"v1 everything", 1, elasticJob(), kubeflowv1.ElasticPolicy{
			MinReplicas: new(int32(2)), MaxReplicas: new(int32(4)), MaxRestarts: new(int32(3)),
			RDZVBackend: new(kubeflowv1.BackendC10D),
		}, new("8")},
		{"v0 everything", 0, &plugins.DistributedPyTorchTrainingTask{Workers: 2, ElasticConfig: &plugins.ElasticConfig{
			RdzvBackend: "etcd-v2", MinReplicas: 1, MaxReplicas: 3, NprocPerNode: 4, MaxRestarts: 1,
		}}, kubeflowv1.ElasticPolicy{
			MinReplicas: new(int32(1)), MaxReplicas: new(int32(3)), MaxRestarts: new(int32(1)),
			RDZVBackend: new(kubeflowv1.BackendETCDV2),
		}, new("4")},
		{"v1 zero values unset", 1, &kfplugins.DistributedPyTorchTrainingTask{
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}},
			ElasticConfig:  &kfplugins.ElasticConfig{},
		}, kubeflowv1.ElasticPolicy{}, nil},
		{"v0 only nproc", 0, &plugins.DistributedPyTorchTrainingTask{Workers: 1, ElasticConfig: &plugins.ElasticConfig{NprocPerNode: 2}},
			kubeflowv1.ElasticPolicy{}, new("2")},
		{"min equals max", 1, &kfplugins.DistributedPyTorchTrainingTask{
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}},
			ElasticConfig:  &kfplugins.ElasticConfig{MinReplicas: 2, MaxReplicas: 2},
		}, kubeflowv1.ElasticPolicy{MinReplicas: new(int32(2)), MaxReplicas: new(int32(2))}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := mustBuild(t, task(t, tc.version, tc.custom))
			require.NotNil(t, job.Spec.ElasticPolicy)
			assert.Equal(t, tc.want, *job.Spec.ElasticPolicy)
			assert.Nil(t, job.Spec.ElasticPolicy.NProcPerNode, "deprecated by the operator, forbidden with nprocPerNode")
			assert.Equal(t, tc.nproc, job.Spec.NprocPerNode)
			assert.NotContains(t, job.Spec.PyTorchReplicaSpecs, master, "an elastic job has no master")
			require.Contains(t, job.Spec.PyTorchReplicaSpecs, worker)
			w := job.Spec.PyTorchReplicaSpecs[worker]
			_, ok := env(container(t, w), flytek8s.FlyteInternalWorkerNameEnvVarKey)
			assert.True(t, ok)
		})
	}
	// Not elastic: neither is set.
	job := mustBuild(t, task(t, 1, v1Job()))
	assert.Nil(t, job.Spec.ElasticPolicy)
	assert.Nil(t, job.Spec.NprocPerNode)
}

// Every replica's primary container, found by name, learns its pod's name
// (FLYTE_INTERNAL_WORKER_NAME); with distributed error aggregation on, also
// the strategy, and the plugin asks propeller for the earliest error.
func TestErrorAggregationEnv(t *testing.T) {
	workerName := v1.EnvVar{Name: flytek8s.FlyteInternalWorkerNameEnvVarKey, ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}}}
	strategy := v1.EnvVar{Name: flytek8s.FlyteInternalDistErrorStrategyEnvVarKey, Value: k8s.EarliestErrorAggregationStrategy.String()}
	sidecarFirst := func(t *testing.T, tk kittest.Task) kittest.Task {
		tk.Template.Target = &core.TaskTemplate_K8SPod{K8SPod: &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{
			{Name: "proxy", Image: "envoy:1", Env: []v1.EnvVar{{Name: "PROXY", Value: "1"}}},
			{Name: "trainer", Image: taskImage, Args: []string{"pyflyte-execute", "--inputs", "{{.input}}"}},
		}})}}
		tk.Template.Config = map[string]string{flytek8s.PrimaryContainerKey: "trainer"}
		return tk
	}
	for _, aggregate := range []bool{false, true} {
		platform := *config.GetK8sPluginConfig()
		platform.EnableDistributedErrorAggregation = aggregate
		kittest.SetPlatform(t, &platform)
		want := k8s.PluginProperties{}
		if aggregate {
			want.ErrorAggregationStrategy = k8s.EarliestErrorAggregationStrategy
		}
		assert.Equal(t, want, registered(t).GetProperties(), "aggregate=%v", aggregate)
		for name, tk := range map[string]kittest.Task{
			"v0":            task(t, 0, &plugins.DistributedPyTorchTrainingTask{Workers: 2}),
			"v1":            task(t, 1, v1Job()),
			"v1 elastic":    task(t, 1, elasticJob()),
			"sidecar first": sidecarFirst(t, task(t, 1, v1Job())),
			"v0 sidecar":    sidecarFirst(t, task(t, 0, &plugins.DistributedPyTorchTrainingTask{Workers: 1})),
		} {
			job := mustBuild(t, tk)
			for rt, spec := range job.Spec.PyTorchReplicaSpecs {
				c := container(t, spec)
				got, ok := env(c, workerName.Name)
				assert.True(t, ok, "%s %s aggregate=%v: worker name", name, rt, aggregate)
				assert.Equal(t, workerName, got)
				got, ok = env(c, strategy.Name)
				assert.Equal(t, aggregate, ok, "%s %s aggregate=%v: strategy", name, rt, aggregate)
				if aggregate {
					assert.Equal(t, strategy, got)
				}
				for _, other := range spec.Template.Spec.Containers {
					if other.Name == "pytorch" {
						continue
					}
					_, ok := env(other, workerName.Name)
					assert.False(t, ok, "%s %s: the sidecar %s gets no worker name", name, rt, other.Name)
					assert.Contains(t, other.Env, v1.EnvVar{Name: "PROXY", Value: "1"})
				}
				n := 0
				for _, e := range c.Env {
					if e.Name == workerName.Name {
						n++
					}
				}
				assert.Equal(t, 1, n, "%s %s: set once", name, rt)
			}
		}
	}
}

// A pod template (execution override) that already sets the worker name
// env var does not get it twice.
func TestErrorAggregationEnvSetByName(t *testing.T) {
	tk := task(t, 1, v1Job())
	tk.PodTemplate = &core.K8SPod{
		PrimaryContainerName: "main",
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{{
			Name: "main", Image: taskImage, Args: []string{"train"},
			Env: []v1.EnvVar{{Name: flytek8s.FlyteInternalWorkerNameEnvVarKey, Value: "stale"}},
		}}}),
	}
	for rt, spec := range mustBuild(t, tk).Spec.PyTorchReplicaSpecs {
		c := container(t, spec)
		var found []v1.EnvVar
		for _, e := range c.Env {
			if e.Name == flytek8s.FlyteInternalWorkerNameEnvVarKey {
				found = append(found, e)
			}
		}
		require.Len(t, found, 1, rt)
		assert.Equal(t, "metadata.name", found[0].ValueFrom.FieldRef.FieldPath, rt)
	}
}

// PyTorch's bad input: each is a BadTaskSpecification naming the field.
func TestBadInput(t *testing.T) {
	elastic := func(cfg *kfplugins.ElasticConfig, workers int32) *kfplugins.DistributedPyTorchTrainingTask {
		return &kfplugins.DistributedPyTorchTrainingTask{
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: workers}},
			ElasticConfig:  cfg,
		}
	}
	withMaster := func(edit func(*plugins.CommonReplicaSpec)) *kfplugins.DistributedPyTorchTrainingTask {
		j := v1Job()
		edit(j.GetMasterReplicas().GetCommon())
		return j
	}
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    []string
	}{
		{"v0 negative workers", 0, &plugins.DistributedPyTorchTrainingTask{Workers: -2}, []string{"workers", `"-2"`}},
		{"v1 negative workers", 1, &kfplugins.DistributedPyTorchTrainingTask{WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Replicas: -1}},
			[]string{"workerReplicas", `"-1"`}},
		{"v1 negative master replicas", 1, withMaster(func(c *plugins.CommonReplicaSpec) { c.Replicas = -1 }), []string{"masterReplicas", `"-1"`}},
		{"v1 elastic without workers", 1, elastic(&kfplugins.ElasticConfig{MinReplicas: 1, MaxReplicas: 2}, 0), []string{"workerReplicas", `"0"`, "elastic"}},
		{"v0 elastic without workers", 0, &plugins.DistributedPyTorchTrainingTask{ElasticConfig: &plugins.ElasticConfig{NprocPerNode: 1}}, []string{"workers", `"0"`, "elastic"}},
		{"elastic min above max", 1, elastic(&kfplugins.ElasticConfig{MinReplicas: 4, MaxReplicas: 2}, 2), []string{"elasticConfig.minReplicas", `"4"`, "maxReplicas 2"}},
		{"v0 elastic min above max", 0, &plugins.DistributedPyTorchTrainingTask{Workers: 2, ElasticConfig: &plugins.ElasticConfig{MinReplicas: 3, MaxReplicas: 1}},
			[]string{"elasticConfig.minReplicas", `"3"`}},
		{"elastic negative min", 1, elastic(&kfplugins.ElasticConfig{MinReplicas: -1}, 2), []string{"elasticConfig.minReplicas", `"-1"`}},
		{"elastic negative max", 1, elastic(&kfplugins.ElasticConfig{MaxReplicas: -1}, 2), []string{"elasticConfig.maxReplicas", `"-1"`}},
		{"elastic negative nproc", 1, elastic(&kfplugins.ElasticConfig{NprocPerNode: -8}, 2), []string{"elasticConfig.nprocPerNode", `"-8"`}},
		{"elastic negative max restarts", 1, elastic(&kfplugins.ElasticConfig{MaxRestarts: -3}, 2), []string{"elasticConfig.maxRestarts", `"-3"`}},
		{"master restart policy 42", 1, withMaster(func(c *plugins.CommonReplicaSpec) { c.RestartPolicy = 42 }), []string{"masterReplicas.restartPolicy", "42"}},
		{"master bad cpu", 1, withMaster(func(c *plugins.CommonReplicaSpec) { c.Resources = res("lots", "1Gi") }), []string{"masterReplicas.resources.requests.cpu", `"lots"`}},
		{"run policy clean-pod 42", 1, func() proto.Message {
			j := v1Job()
			j.RunPolicy.CleanPodPolicy = 42
			return j
		}(), []string{"runPolicy.cleanPodPolicy", "42"}},
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
	p := pytorch.New()
	obj, err := p.BuildIdentityResource(context.Background(), nil)
	require.NoError(t, err)
	assert.IsType(t, &kubeflowv1.PyTorchJob{}, obj)
	assert.Equal(t, registered(t).GetProperties(), p.GetProperties())
}

package kf_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
)

// flyte2 is what Flyte 2's executor needs beyond the v1 interface.
type flyte2 interface {
	IsTerminal(ctx context.Context, obj client.Object) (bool, error)
	GetCompletionTime(obj client.Object) (time.Time, error)
}

// plugin is one of the three Kubeflow plugins with what the shared tests
// need to write its tasks: a legacy (v0) custom with n workers and a
// kubeflow (v1) custom whose workers are worker and whose run policy is rp.
type plugin struct {
	id, kind, container string
	v0                  func(workers int32) proto.Message
	v1                  func(worker *plugins.CommonReplicaSpec, rp *kfplugins.RunPolicy) proto.Message
}

// allPlugins are the three plugins, in the order tests walk them.
var allPlugins = []plugin{
	{
		id: pytorch.PluginID, kind: kubeflowv1.PyTorchJobKind, container: "pytorch",
		v0: func(n int32) proto.Message { return &plugins.DistributedPyTorchTrainingTask{Workers: n} },
		v1: func(w *plugins.CommonReplicaSpec, rp *kfplugins.RunPolicy) proto.Message {
			return &kfplugins.DistributedPyTorchTrainingTask{
				WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: w},
				RunPolicy:      rp,
			}
		},
	},
	{
		id: tensorflow.PluginID, kind: kubeflowv1.TFJobKind, container: "tensorflow",
		v0: func(n int32) proto.Message { return &plugins.DistributedTensorflowTrainingTask{Workers: n} },
		v1: func(w *plugins.CommonReplicaSpec, rp *kfplugins.RunPolicy) proto.Message {
			return &kfplugins.DistributedTensorflowTrainingTask{
				WorkerReplicas: &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: w},
				RunPolicy:      rp,
			}
		},
	},
	{
		id: mpi.PluginID, kind: kubeflowv1.MPIJobKind, container: "mpi",
		v0: func(n int32) proto.Message { return &plugins.DistributedMPITrainingTask{NumWorkers: n} },
		v1: func(w *plugins.CommonReplicaSpec, rp *kfplugins.RunPolicy) proto.Message {
			return &kfplugins.DistributedMPITrainingTask{
				WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{Common: w},
				RunPolicy:      rp,
			}
		},
	},
}

// eachPlugin runs f as a subtest per plugin.
func eachPlugin(t *testing.T, f func(t *testing.T, p plugin)) {
	t.Helper()
	for _, p := range allPlugins {
		t.Run(p.id, func(t *testing.T) { f(t, p) })
	}
}

// registered is the plugin as propeller finds it: from the registry, by ID.
func (p plugin) registered(t testing.TB) k8s.Plugin {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == p.id {
			return e.Plugin
		}
	}
	t.Fatalf("plugin %q is not registered", p.id)
	return nil
}

const taskImage = "ghcr.io/flyteorg/train:v1"

// taskArgs is what flytekit registers for a distributed training task.
var taskArgs = []string{
	"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
	"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
	"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
	"--", "task-module", "train", "task-name", "train",
}

// task is a task of the plugin's type with the given custom at version.
func (p plugin) task(t testing.TB, version int32, custom proto.Message) kittest.Task {
	t.Helper()
	tmpl := kittest.ContainerTemplate(p.id, kittest.Struct(t, custom), taskImage, taskArgs...)
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

// workers is a v1 task with n workers and nothing else set.
func (p plugin) workers(t testing.TB, n int32) kittest.Task {
	t.Helper()
	return p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: n}, nil))
}

// build runs BuildResource of the registered plugin.
func (p plugin) build(t testing.TB, task kittest.Task) (client.Object, error) {
	t.Helper()
	return p.registered(t).BuildResource(context.Background(), kittest.New(task))
}

func (p plugin) mustBuild(t testing.TB, task kittest.Task) client.Object {
	t.Helper()
	obj, err := p.build(t, task)
	require.NoError(t, err)
	require.NotNil(t, obj)
	return obj
}

const (
	jobName   = "f8a1b2c3d4-n0-0"
	namespace = "flyteproject-development"
)

// created is when the jobs of these tests were created.
var created = metav1.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// job is what propeller would watch after creating the task's job: the
// built object, named, created at created, with status.
func (p plugin) job(t testing.TB, task kittest.Task, status kubeflowv1.JobStatus) client.Object {
	t.Helper()
	obj := p.mustBuild(t, task)
	obj.SetName(jobName)
	obj.SetNamespace(namespace)
	obj.SetCreationTimestamp(created)
	*parts(obj).status = status
	return obj
}

// phase runs GetTaskPhase of the registered plugin; it must not fail.
func (p plugin) phase(t testing.TB, task kittest.Task, obj client.Object) pluginsCore.PhaseInfo {
	t.Helper()
	info, err := p.registered(t).GetTaskPhase(context.Background(), kittest.New(task), obj)
	require.NoError(t, err)
	return info
}

// jobParts are the pieces of any of the three job kinds tests read.
type jobParts struct {
	replicas  map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec
	runPolicy *kubeflowv1.RunPolicy
	status    *kubeflowv1.JobStatus
	meta      *metav1.ObjectMeta
}

func parts(obj client.Object) jobParts {
	switch j := obj.(type) {
	case *kubeflowv1.PyTorchJob:
		return jobParts{j.Spec.PyTorchReplicaSpecs, &j.Spec.RunPolicy, &j.Status, &j.ObjectMeta}
	case *kubeflowv1.TFJob:
		return jobParts{j.Spec.TFReplicaSpecs, &j.Spec.RunPolicy, &j.Status, &j.ObjectMeta}
	case *kubeflowv1.MPIJob:
		return jobParts{j.Spec.MPIReplicaSpecs, &j.Spec.RunPolicy, &j.Status, &j.ObjectMeta}
	}
	panic("not a Kubeflow job")
}

// primary is the replica's container named name.
func primary(t testing.TB, spec *kubeflowv1.ReplicaSpec, name string) v1.Container {
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

// cond is a condition of the given type and status that became so at at.
func cond(typ kubeflowv1.JobConditionType, status v1.ConditionStatus, at time.Time, reason, message string) kubeflowv1.JobCondition {
	return kubeflowv1.JobCondition{
		Type: typ, Status: status, Reason: reason, Message: message,
		LastUpdateTime: metav1.NewTime(at), LastTransitionTime: metav1.NewTime(at),
	}
}

// started is a status the operator writes once it picked the job up.
func started(conds ...kubeflowv1.JobCondition) kubeflowv1.JobStatus {
	start := metav1.NewTime(created.Add(time.Second))
	return kubeflowv1.JobStatus{Conditions: conds, StartTime: &start}
}

// reasonOf is a phase's reason wherever it travels: the phase reason, the
// error message, or the additional reasons of a Running phase.
func reasonOf(p pluginsCore.PhaseInfo) string {
	var parts []string
	if p.Reason() != "" {
		parts = append(parts, p.Reason())
	}
	if p.Err() != nil {
		parts = append(parts, p.Err().GetMessage())
	}
	if info := p.Info(); info != nil {
		for _, r := range info.AdditionalReasons {
			parts = append(parts, r.Reason)
		}
	}
	return strings.Join(parts, "; ")
}

// withKF installs cfg as plugins.kf-operator for one test.
func withKF(t testing.TB, cfg kf.Config) {
	t.Helper()
	prev := *kf.GetConfig()
	require.NoError(t, kf.SetConfig(&cfg))
	t.Cleanup(func() { _ = kf.SetConfig(&prev) })
}

// withLogs installs cfg as plugins.logs for one test.
func withLogs(t testing.TB, cfg logs.LogConfig) {
	t.Helper()
	prev := *logs.GetLogConfig()
	require.NoError(t, logs.SetLogConfig(&cfg))
	t.Cleanup(func() { _ = logs.SetLogConfig(&prev) })
}

// writeErrorFile writes the error document a task's entrypoint writes when
// its code fails, where propeller reads it.
func writeErrorFile(t *testing.T, task kittest.Task, kind core.ContainerError_Kind) {
	t.Helper()
	task = task.Defaults()
	doc := &core.ErrorDocument{Error: &core.ContainerError{
		Code: "USER:RuntimeError", Message: "RuntimeError: CUDA out of memory", Kind: kind, Origin: core.ExecutionError_USER,
	}}
	path := task.OutputPrefix + "/error.pb"
	store := kittest.New(task).DataStore()
	require.NoError(t, store.WriteProtobuf(context.Background(), path, storage.Options{}, doc))
	t.Cleanup(func() { _ = store.Delete(context.Background(), path) })
}

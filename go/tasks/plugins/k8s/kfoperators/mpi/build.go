package mpi

import (
	"context"
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// workerSpecCommandKey is the task config key holding a v0 task's worker
// command, as flytekit's MPI plugin writes it.
const workerSpecCommandKey = "worker_spec_command"

// build turns a task into its MPIJob: one launcher (running mpirun) and
// the workers it starts ranks on.
func build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*kubeflowv1.MPIJob, error) {
	v0, v1task := &plugins.DistributedMPITrainingTask{}, &kfplugins.DistributedMPITrainingTask{}
	tmpl, version, err := kf.ReadTask(ctx, tCtx, v0, v1task)
	if err != nil {
		return nil, err
	}
	var launcher, worker kf.Replica
	var rp *kfplugins.RunPolicy
	var slots int32
	if version == 0 {
		launcher = kf.Replica{Type: kubeflowv1.MPIJobReplicaTypeLauncher, Field: "numLauncherReplicas", Count: max(1, v0.GetNumLauncherReplicas())}
		worker = kf.Replica{Type: kubeflowv1.MPIJobReplicaTypeWorker, Field: "numWorkers", Count: v0.GetNumWorkers(),
			// Workers run the worker command (typically an sshd for mpirun
			// to reach), split on spaces; without one, the image's own.
			Args: strings.Fields(tmpl.GetConfig()[workerSpecCommandKey]), ReplaceArgs: true, ClearCommand: true}
		slots = v0.GetSlots()
	} else {
		launcher = kf.FromV1(kubeflowv1.MPIJobReplicaTypeLauncher, "launcherReplicas", v1task.GetLauncherReplicas())
		launcher.Count = 1
		launcher.Args = v1task.GetLauncherReplicas().GetCommand()
		worker = kf.FromV1(kubeflowv1.MPIJobReplicaTypeWorker, "workerReplicas", v1task.GetWorkerReplicas())
		worker.Args = v1task.GetWorkerReplicas().GetCommand()
		rp = v1task.GetRunPolicy()
		slots = v1task.GetSlots()
	}
	if err := kf.CheckCount(worker.Field, worker.Count); err != nil {
		return nil, err
	}
	if worker.Count < 1 {
		return nil, kf.Need(worker.Field, worker.Count, "mpirun needs workers to start ranks on")
	}
	if slots < 0 {
		return nil, kit.BadSpec("slots", slots, "cannot be negative")
	}
	// One slot per worker unless the task says otherwise (v1 tasks too:
	// upstream drops theirs).
	slots = max(1, slots)

	task, err := kf.NewTask(ctx, tCtx, tmpl, kubeflowv1.MPIJobDefaultContainerName)
	if err != nil {
		return nil, err
	}
	runPolicy, err := task.RunPolicy("runPolicy", rp)
	if err != nil {
		return nil, err
	}
	// The launcher holds mpirun and no GPUs: losing it loses the job, so
	// it never goes on interruptible nodes. Workers follow the task.
	worker.Interruptible = task.Meta.IsInterruptible()
	specs, err := task.Replicas(launcher, worker)
	if err != nil {
		return nil, err
	}
	return &kubeflowv1.MPIJob{
		TypeMeta:   typeMeta,
		ObjectMeta: task.ObjectMeta(),
		Spec: kubeflowv1.MPIJobSpec{
			SlotsPerWorker:  new(slots),
			RunPolicy:       runPolicy,
			MPIReplicaSpecs: specs,
		},
	}, nil
}

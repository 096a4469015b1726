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
		n := v0.GetNumLauncherReplicas()
		if err := kf.CheckCount("numLauncherReplicas", n); err != nil {
			return nil, err
		}
		// The operator reconciles no MPIJob with more than one launcher
		// (the job would never get a status); say so now.
		if n > 1 {
			return nil, kit.BadSpec("numLauncherReplicas", n, "the Training Operator runs exactly one MPI launcher")
		}
		launcher = kf.Replica{Type: kubeflowv1.MPIJobReplicaTypeLauncher, Field: "numLauncherReplicas", Count: 1}
		worker = kf.Replica{Type: kubeflowv1.MPIJobReplicaTypeWorker, Field: "numWorkers", Count: v0.GetNumWorkers()}
		workerCommand(&worker, strings.Fields(tmpl.GetConfig()[workerSpecCommandKey]))
		slots = v0.GetSlots()
	} else {
		launcher = kf.FromV1(kubeflowv1.MPIJobReplicaTypeLauncher, "launcherReplicas", v1task.GetLauncherReplicas())
		// Always one launcher; a negative count is still rejected.
		if err := kf.CheckCount(launcher.Field, launcher.Count); err != nil {
			return nil, err
		}
		launcher.Count = 1
		launcher.Args = v1task.GetLauncherReplicas().GetCommand()
		worker = kf.FromV1(kubeflowv1.MPIJobReplicaTypeWorker, "workerReplicas", v1task.GetWorkerReplicas())
		if cmd := v1task.GetWorkerReplicas().GetCommand(); len(cmd) > 0 {
			workerCommand(&worker, cmd)
		}
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
	// The operator takes each MPI pod's first container as its main one.
	launcher.PrimaryFirst, worker.PrimaryFirst = true, true
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

// workerCommand makes the workers run cmd as their command, args cleared.
// The operator replaces a worker's command with `sleep 365d` whenever the
// command is empty, so a worker command sent as args (upstream's way)
// never runs; an empty cmd leaves the workers to the operator's sleep, as
// upstream's v0 tasks without worker_spec_command.
func workerCommand(w *kf.Replica, cmd []string) {
	w.Command, w.ReplaceCommand = cmd, true
	w.Args, w.ReplaceArgs = nil, true
}

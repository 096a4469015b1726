package tensorflow

import (
	"context"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// build turns a task into its TFJob: chief, parameter servers, workers and
// evaluators, each type left out when it has no replicas.
func build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*kubeflowv1.TFJob, error) {
	v0, v1task := &plugins.DistributedTensorflowTrainingTask{}, &kfplugins.DistributedTensorflowTrainingTask{}
	tmpl, version, err := kf.ReadTask(ctx, tCtx, v0, v1task)
	if err != nil {
		return nil, err
	}
	var replicas []kf.Replica
	var rp *kfplugins.RunPolicy
	if version == 0 {
		replicas = []kf.Replica{
			{Type: kubeflowv1.TFJobReplicaTypeChief, Field: "chiefReplicas", Count: v0.GetChiefReplicas()},
			{Type: kubeflowv1.TFJobReplicaTypePS, Field: "psReplicas", Count: v0.GetPsReplicas()},
			{Type: kubeflowv1.TFJobReplicaTypeWorker, Field: "workers", Count: v0.GetWorkers()},
			{Type: kubeflowv1.TFJobReplicaTypeEval, Field: "evaluatorReplicas", Count: v0.GetEvaluatorReplicas()},
		}
	} else {
		replicas = []kf.Replica{
			kf.FromV1(kubeflowv1.TFJobReplicaTypeChief, "chiefReplicas", v1task.GetChiefReplicas()),
			kf.FromV1(kubeflowv1.TFJobReplicaTypePS, "psReplicas", v1task.GetPsReplicas()),
			kf.FromV1(kubeflowv1.TFJobReplicaTypeWorker, "workerReplicas", v1task.GetWorkerReplicas()),
			kf.FromV1(kubeflowv1.TFJobReplicaTypeEval, "evaluatorReplicas", v1task.GetEvaluatorReplicas()),
		}
		rp = v1task.GetRunPolicy()
	}
	for _, r := range replicas {
		if err := kf.CheckCount(r.Field, r.Count); err != nil {
			return nil, err
		}
	}
	if w := replicas[2]; w.Count < 1 {
		return nil, kf.Need(w.Field, w.Count, "a TFJob trains on its workers")
	}

	task, err := kf.NewTask(ctx, tCtx, tmpl, kubeflowv1.TFJobDefaultContainerName)
	if err != nil {
		return nil, err
	}
	runPolicy, err := task.RunPolicy("runPolicy", rp)
	if err != nil {
		return nil, err
	}
	for i := range replicas {
		replicas[i].Interruptible = task.Meta.IsInterruptible()
	}
	specs, err := task.Replicas(replicas...)
	if err != nil {
		return nil, err
	}
	return &kubeflowv1.TFJob{
		TypeMeta:   typeMeta,
		ObjectMeta: task.ObjectMeta(),
		Spec:       kubeflowv1.TFJobSpec{RunPolicy: runPolicy, TFReplicaSpecs: specs},
	}, nil
}

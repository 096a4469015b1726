package pytorch

import (
	"context"
	"strconv"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// elasticConfig is what both proto versions' elastic configs have.
type elasticConfig interface {
	GetMinReplicas() int32
	GetMaxReplicas() int32
	GetNprocPerNode() int32
	GetMaxRestarts() int32
	GetRdzvBackend() string
}

// build turns a task into its PyTorchJob.
func build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*kubeflowv1.PyTorchJob, error) {
	v0, v1task := &plugins.DistributedPyTorchTrainingTask{}, &kfplugins.DistributedPyTorchTrainingTask{}
	tmpl, version, err := kf.ReadTask(ctx, tCtx, v0, v1task)
	if err != nil {
		return nil, err
	}
	var master, worker kf.Replica
	var elastic elasticConfig
	var rp *kfplugins.RunPolicy
	if version == 0 {
		master = kf.Replica{Type: kubeflowv1.PyTorchJobReplicaTypeMaster, Field: "master"}
		worker = kf.Replica{Type: kubeflowv1.PyTorchJobReplicaTypeWorker, Field: "workers", Count: v0.GetWorkers()}
		if e := v0.GetElasticConfig(); e != nil {
			elastic = e
		}
	} else {
		master = kf.FromV1(kubeflowv1.PyTorchJobReplicaTypeMaster, "masterReplicas", v1task.GetMasterReplicas())
		worker = kf.FromV1(kubeflowv1.PyTorchJobReplicaTypeWorker, "workerReplicas", v1task.GetWorkerReplicas())
		if e := v1task.GetElasticConfig(); e != nil {
			elastic = e
		}
		rp = v1task.GetRunPolicy()
	}
	// The master is always exactly one; workers may be none (a master-only
	// job, flyteorg/flyte#6201). A negative count is still rejected.
	for _, r := range []kf.Replica{master, worker} {
		if err := kf.CheckCount(r.Field, r.Count); err != nil {
			return nil, err
		}
	}
	master.Count = 1
	var policy *kubeflowv1.ElasticPolicy
	var nproc *string
	replicas := []kf.Replica{master, worker}
	if elastic != nil {
		if policy, nproc, err = elasticPolicy(elastic); err != nil {
			return nil, err
		}
		// Elastic jobs rendezvous among workers; the master goes, as upstream.
		if worker.Count < 1 {
			return nil, kf.Need(worker.Field, worker.Count, "an elastic job runs on workers only")
		}
		replicas = replicas[1:]
	}

	task, err := kf.NewTask(ctx, tCtx, tmpl, kubeflowv1.PyTorchJobDefaultContainerName)
	if err != nil {
		return nil, err
	}
	runPolicy, err := task.RunPolicy("runPolicy", rp)
	if err != nil {
		return nil, err
	}
	env := errorAggregationEnv()
	for i := range replicas {
		replicas[i].Interruptible = task.Meta.IsInterruptible()
		replicas[i].Env = env
	}
	specs, err := task.Replicas(replicas...)
	if err != nil {
		return nil, err
	}
	return &kubeflowv1.PyTorchJob{
		TypeMeta:   typeMeta,
		ObjectMeta: task.ObjectMeta(),
		Spec: kubeflowv1.PyTorchJobSpec{
			RunPolicy:           runPolicy,
			ElasticPolicy:       policy,
			NprocPerNode:        nproc,
			PyTorchReplicaSpecs: specs,
		},
	}, nil
}

// elasticPolicy carries the elastic config to the operator, which turns it
// into the pods' PET_* environment. Unset (zero) values are left to the
// operator's defaults instead of being sent as zeros. Processes per node
// go in the job's nprocPerNode: the operator's webhook deprecates
// elasticPolicy.nProcPerNode and forbids the two together.
func elasticPolicy(e elasticConfig) (*kubeflowv1.ElasticPolicy, *string, error) {
	const field = "elasticConfig"
	p := &kubeflowv1.ElasticPolicy{}
	var nproc int32
	for _, f := range []struct {
		name string
		v    int32
		dst  **int32
	}{
		{"minReplicas", e.GetMinReplicas(), &p.MinReplicas},
		{"maxReplicas", e.GetMaxReplicas(), &p.MaxReplicas},
		{"nprocPerNode", e.GetNprocPerNode(), nil},
		{"maxRestarts", e.GetMaxRestarts(), &p.MaxRestarts},
	} {
		if f.v < 0 {
			return nil, nil, kit.BadSpec(field+"."+f.name, f.v, "cannot be negative")
		}
		switch {
		case f.dst == nil:
			nproc = f.v
		case f.v > 0:
			*f.dst = new(f.v)
		}
	}
	if p.MinReplicas != nil && p.MaxReplicas != nil && *p.MinReplicas > *p.MaxReplicas {
		return nil, nil, kit.BadSpecf(field+".minReplicas", *p.MinReplicas, "is above maxReplicas %d", *p.MaxReplicas)
	}
	if b := e.GetRdzvBackend(); b != "" {
		p.RDZVBackend = new(kubeflowv1.RDZVBackend(b))
	}
	if nproc > 0 {
		return p, new(strconv.Itoa(int(nproc))), nil
	}
	return p, nil, nil
}

// errorAggregationEnv tells each replica's Flyte entrypoint its pod's name
// and, when the platform aggregates distributed errors, the strategy, so
// that each replica writes its own error file (propeller then reports the
// earliest). Set on the primary container by name.
func errorAggregationEnv() []v1.EnvVar {
	env := []v1.EnvVar{{
		Name:      flytek8s.FlyteInternalWorkerNameEnvVarKey,
		ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}},
	}}
	if properties().ErrorAggregationStrategy == k8s.EarliestErrorAggregationStrategy {
		env = append(env, v1.EnvVar{Name: flytek8s.FlyteInternalDistErrorStrategyEnvVarKey, Value: k8s.EarliestErrorAggregationStrategy.String()})
	}
	return env
}

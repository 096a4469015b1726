package pytorch

import (
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// Identity of the plugin; upstream's, so configs enabling "pytorch" get it.
const (
	// PluginID is the ID the plugin registers under.
	PluginID = "pytorch"
	// TaskType is the task type it handles.
	TaskType = "pytorch"
)

// Plugin builds PyTorchJobs and maps their status: a k8s.Plugin, plus
// IsTerminal and GetCompletionTime for Flyte 2's executor.
type Plugin = kit.Adapter[*kubeflowv1.PyTorchJob]

var typeMeta = metav1.TypeMeta{Kind: kubeflowv1.PyTorchJobKind, APIVersion: kubeflowv1.SchemeGroupVersion.String()}

// New returns a PyTorch plugin.
func New() *Plugin {
	return kit.NewAdapter(PluginID, kf.NewJob(kf.Kind[*kubeflowv1.PyTorchJob]{
		Name:      kubeflowv1.PyTorchJobKind,
		Container: kubeflowv1.PyTorchJobDefaultContainerName,
		New:       func() *kubeflowv1.PyTorchJob { return &kubeflowv1.PyTorchJob{TypeMeta: typeMeta} },
		Build:     build,
		Parts: func(j *kubeflowv1.PyTorchJob) kf.Parts {
			return kf.Parts{Replicas: j.Spec.PyTorchReplicaSpecs, RunPolicy: &j.Spec.RunPolicy, Status: &j.Status}
		},
		LinkOrder:  []kubeflowv1.ReplicaType{kubeflowv1.PyTorchJobReplicaTypeMaster, kubeflowv1.PyTorchJobReplicaTypeWorker},
		Properties: properties,
		// Kueue's kubeflow.org/pytorchjob / tfjob integrations.
		KueueManaged: true,
	}))
}

// properties turn on propeller's earliest-error aggregation when the
// platform enables distributed error aggregation, as upstream.
func properties() k8s.PluginProperties {
	if config.GetK8sPluginConfig().EnableDistributedErrorAggregation {
		return k8s.PluginProperties{ErrorAggregationStrategy: k8s.EarliestErrorAggregationStrategy}
	}
	return k8s.PluginProperties{}
}

func init() { kf.Register(PluginID, TaskType, &kubeflowv1.PyTorchJob{}, New()) }

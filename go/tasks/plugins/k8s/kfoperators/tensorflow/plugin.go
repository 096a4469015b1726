package tensorflow

import (
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// Identity of the plugin; upstream's, so configs enabling "tensorflow" get it.
const (
	// PluginID is the ID the plugin registers under.
	PluginID = "tensorflow"
	// TaskType is the task type it handles.
	TaskType = "tensorflow"
)

// Plugin builds TFJobs and maps their status: a k8s.Plugin, plus
// IsTerminal and GetCompletionTime for Flyte 2's executor.
type Plugin = kit.Adapter[*kubeflowv1.TFJob]

var typeMeta = metav1.TypeMeta{Kind: kubeflowv1.TFJobKind, APIVersion: kubeflowv1.SchemeGroupVersion.String()}

// replicaOrder is the order of the job's replica types in links.
var replicaOrder = []kubeflowv1.ReplicaType{
	kubeflowv1.TFJobReplicaTypeChief,
	kubeflowv1.TFJobReplicaTypePS,
	kubeflowv1.TFJobReplicaTypeWorker,
	kubeflowv1.TFJobReplicaTypeEval,
}

// New returns a TensorFlow plugin.
func New() *Plugin {
	return kit.NewAdapter(PluginID, kf.NewJob(kf.Kind[*kubeflowv1.TFJob]{
		Name:      kubeflowv1.TFJobKind,
		Container: kubeflowv1.TFJobDefaultContainerName,
		New:       func() *kubeflowv1.TFJob { return &kubeflowv1.TFJob{TypeMeta: typeMeta} },
		Build:     build,
		Parts: func(j *kubeflowv1.TFJob) kf.Parts {
			return kf.Parts{Replicas: j.Spec.TFReplicaSpecs, RunPolicy: &j.Spec.RunPolicy, Status: &j.Status}
		},
		LinkOrder: replicaOrder,
		// Kueue's kubeflow.org/tfjob integration.
		KueueManaged: true,
	}))
}

func init() { kf.Register(PluginID, TaskType, &kubeflowv1.TFJob{}, New()) }

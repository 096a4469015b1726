package mpi

import (
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// Identity of the plugin; upstream's, so configs enabling "mpi" get it.
const (
	// PluginID is the ID the plugin registers under.
	PluginID = "mpi"
	// TaskType is the task type it handles (flytekit's MPI and Horovod tasks).
	TaskType = "mpi"
)

// Plugin builds the Training Operator's MPIJobs and maps their status: a
// k8s.Plugin, plus IsTerminal and GetCompletionTime for Flyte 2's executor.
type Plugin = kit.Adapter[*kubeflowv1.MPIJob]

var typeMeta = metav1.TypeMeta{Kind: kubeflowv1.MPIJobKind, APIVersion: kubeflowv1.SchemeGroupVersion.String()}

// New returns an MPI plugin.
func New() *Plugin {
	return kit.NewAdapter(PluginID, kf.NewJob(kf.Kind[*kubeflowv1.MPIJob]{
		Name:      kubeflowv1.MPIJobKind,
		Container: kubeflowv1.MPIJobDefaultContainerName,
		New:       func() *kubeflowv1.MPIJob { return &kubeflowv1.MPIJob{TypeMeta: typeMeta} },
		Build:     build,
		Parts: func(j *kubeflowv1.MPIJob) kf.Parts {
			return kf.Parts{Replicas: j.Spec.MPIReplicaSpecs, RunPolicy: &j.Spec.RunPolicy, Status: &j.Status}
		},
		LinkOrder: []kubeflowv1.ReplicaType{kubeflowv1.MPIJobReplicaTypeLauncher, kubeflowv1.MPIJobReplicaTypeWorker},
		PodName:   podName,
		// Not KueueManaged: Kueue's kubeflow.org/mpijob integration is the
		// MPI Operator's v2beta1 MPIJob; a suspended v1 MPIJob would wait forever.
	}))
}

// podName names the operator's pods: the launcher is <job>-launcher (one
// pod, no index); workers are indexed.
func podName(job string, rt kubeflowv1.ReplicaType, index int32) (pod, label string) {
	if rt == kubeflowv1.MPIJobReplicaTypeLauncher {
		return job + "-launcher", "launcher"
	}
	return kf.DefaultPodName(job, rt, index)
}

func init() { kf.Register(PluginID, TaskType, &kubeflowv1.MPIJob{}, New()) }

package kf

import (
	"strconv"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// PodNamer names a replica's pod as the operator creates it, and the label
// its links carry.
type PodNamer func(job string, rt kubeflowv1.ReplicaType, index int32) (pod, label string)

// DefaultPodName is the operator's pod name for every replica it runs as
// indexed pods: <job>-<replica type lower-cased>-<index>; the link label
// drops the job's name ("worker-3").
func DefaultPodName(job string, rt kubeflowv1.ReplicaType, index int32) (pod, label string) {
	label = strings.ToLower(string(rt)) + "-" + strconv.Itoa(int(index))
	return job + "-" + label, label
}

// linkRequest is what one GetTaskPhase renders links for.
type linkRequest struct {
	meta      *metav1.ObjectMeta
	replicas  map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec
	order     []kubeflowv1.ReplicaType
	podName   PodNamer
	container string
	finish    time.Time
	execID    pluginsCore.TaskExecutionID
	tmpl      *core.TaskTemplate
	limit     int
}

// render gives one set of links per replica pod, each named after its
// pod's replica and index, at the pod names the operator creates; each
// replica type gets at most limit pods' links (0: no cap).
func renderLinks(l *kit.LogLinks, cfg *logs.LogConfig, r linkRequest) ([]*core.TaskLog, error) {
	var out []*core.TaskLog
	in := kit.LogInput{
		Namespace:     r.meta.Namespace,
		ContainerName: r.container,
		Start:         r.meta.CreationTimestamp.Time,
		Finish:        r.finish,
		TaskExecID:    r.execID,
		TaskTemplate:  r.tmpl,
	}
	for _, rt := range r.order {
		spec, ok := r.replicas[rt]
		if !ok || spec == nil || spec.Replicas == nil {
			continue
		}
		n := *spec.Replicas
		if r.limit > 0 && int(n) > r.limit {
			n = int32(r.limit)
		}
		for i := int32(0); i < n; i++ {
			pod, label := r.podName(r.meta.Name, rt, i)
			in.PodName, in.LogName = pod, kit.LogName(label)
			var err error
			if out, err = l.Render(out, cfg, in); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func objectMeta(obj client.Object) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace(), CreationTimestamp: obj.GetCreationTimestamp()}
}

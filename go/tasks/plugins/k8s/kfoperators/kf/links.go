package kf

import (
	"slices"
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
	podCap    int
}

// podLinks is what renderLinks gives: the links, and the pods it linked
// (in link order) out of the job's total, for the Running reason.
type podLinks struct {
	links []*core.TaskLog
	pods  []string
	total int
}

// renderLinks gives one set of links per replica pod, each named after its
// pod's replica and index, at the pod names the operator creates. Two caps
// apply and the smaller wins: each replica type gets at most limit pods'
// links (plugins.kf-operator.maxReplicaLinks), and the job at most podCap
// (plugins.queueing.liveView.maxPodLinks), 0 meaning no cap for either.
// When pods were left out, one aggregate link on the job's name, which
// prefixes every pod name, reaches them all.
func renderLinks(l *kit.LogLinks, cfg *logs.LogConfig, r linkRequest) (podLinks, error) {
	var out podLinks
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
		if !ok || spec == nil || spec.Replicas == nil || *spec.Replicas <= 0 {
			continue
		}
		n := *spec.Replicas
		out.total += int(n)
		if r.limit > 0 && int(n) > r.limit {
			n = int32(r.limit) //nolint:gosec // below n, an int32
		}
		if r.podCap > 0 {
			n = min(n, int32(max(0, r.podCap-len(out.pods)))) //nolint:gosec // below n, an int32
		}
		for i := int32(0); i < n; i++ {
			pod, label := r.podName(r.meta.Name, rt, i)
			in.PodName, in.LogName = pod, kit.LogName(label)
			var err error
			if out.links, err = l.Render(out.links, cfg, in); err != nil {
				return podLinks{}, err
			}
			out.pods = append(out.pods, pod)
		}
	}
	if out.total > len(out.pods) {
		out.links = l.RenderAggregate(out.links, cfg, in, kit.PodSet{
			Linked: len(out.pods), Total: out.total, Prefix: r.meta.Name, Job: r.meta.Name,
		})
	}
	return out, nil
}

// reason is the pod set for a Running reason.
func (p *podLinks) reason() string {
	pods := slices.Clone(p.pods)
	slices.SortFunc(pods, kit.PodNameCompare)
	return kit.PodSetReason(pods, p.total)
}

func objectMeta(obj client.Object) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace(), CreationTimestamp: obj.GetCreationTimestamp()}
}

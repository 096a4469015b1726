package ray

import (
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Template variables Ray's links can use besides the standard ones.
const (
	varClusterName = "rayClusterName"
	varJobID       = "rayJobID"
)

// links renders a RayJob's log and dashboard links, each config parsed
// once and reused across calls.
type links struct {
	logs      kit.LogLinks
	dashboard kit.LogLinks
}

// now is the clock of a running job's finish time; tests may pin it.
var now = time.Now

// taskInfo is the job's links. Log templates get {{ .rayClusterName }},
// {{ .rayJobID }} and, once KubeRay reports the head pod, {{ .podName }};
// the time range runs from the RayJob's creation to its end (now while it
// runs). The dashboard link shows while the Ray job is RUNNING and KubeRay
// reports a dashboard.
func (l *links) taskInfo(cfg *Config, job *rayv1.RayJob, id pluginsCore.TaskExecutionID, tmpl *core.TaskTemplate) *pluginsCore.TaskInfo {
	status := &job.Status
	var vars [2]kit.Var
	in := kit.LogInput{
		PodName:      status.RayClusterStatus.Head.PodName,
		Namespace:    job.Namespace,
		Start:        job.CreationTimestamp.Time,
		Finish:       finishTime(job),
		Vars:         vars[:],
		TaskExecID:   id,
		TaskTemplate: tmpl,
	}
	vars[0] = kit.Var{Name: varClusterName, Value: status.RayClusterName}
	vars[1] = kit.Var{Name: varJobID, Value: status.JobId}
	// A link that names the head pod, the cluster or the job waits for
	// KubeRay to report it (kit leaves it out until then); the others show
	// from the start.
	taskLogs, _ := l.logs.Render(nil, &cfg.Logs, in)
	// KubeRay's status names the head pod only (the links above); the
	// workers are reached through one link on the cluster's name, which
	// prefixes every pod of the cluster.
	taskLogs = l.logs.RenderPods(taskLogs, &cfg.Logs, in, podSet(job), kit.MaxPodLinks())
	if status.JobStatus == rayv1.JobStatusRunning && status.DashboardURL != "" {
		taskLogs = l.dashboard.RenderTemplate(taskLogs, cfg.DashboardURLTemplate, in)
	}
	return &pluginsCore.TaskInfo{Logs: taskLogs}
}

// podSet is the cluster's pods as KubeRay's status tells them: the head
// by name, the workers by count (the desired count, or the available one
// when larger, so pods shown as coming up count).
func podSet(job *rayv1.RayJob) kit.PodSet {
	cs := &job.Status.RayClusterStatus
	set := kit.PodSet{Prefix: job.Status.RayClusterName, Job: job.Status.RayClusterName}
	if cs.Head.PodName != "" {
		set.Linked = 1
	}
	set.Total = set.Linked + int(max(cs.DesiredWorkerReplicas, cs.AvailableWorkerReplicas, 0))
	return set
}

// podSetReason is the cluster's pods for a Running reason: "3 pods:
// <head> and 2 more".
func podSetReason(job *rayv1.RayJob) string {
	set := podSet(job)
	if set.Linked == 0 {
		return kit.PodSetReason(nil, set.Total)
	}
	head := [1]string{job.Status.RayClusterStatus.Head.PodName}
	return kit.PodSetReason(head[:], set.Total)
}

// finishTime is when the job ended, by KubeRay, once it is terminal; now
// while it runs (or if KubeRay has not recorded an end).
func finishTime(job *rayv1.RayJob) time.Time {
	if terminal(job.Status.JobDeploymentStatus) {
		if t := job.Status.EndTime; t != nil && !t.IsZero() {
			return t.Time
		}
	}
	return now()
}

package ray

import (
	"fmt"
	"strconv"

	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// A RayJob can wait in a queue: KubeRay honours spec.suspend (Kueue's
// RayJob integration admits by clearing it) and hands the cluster's pods
// to Volcano or YuniKorn by labels it copies from the RayJob to its
// RayCluster.
var (
	_ kit.Suspender[*rayv1.RayJob]      = (*job)(nil)
	_ kit.KueueChecker[*rayv1.RayJob]   = (*job)(nil)
	_ kit.BatchScheduled[*rayv1.RayJob] = (*job)(nil)
)

// Labels KubeRay's batch-scheduler plugins read.
const (
	labelSchedulerName     = "ray.io/scheduler-name"
	labelPriorityClassName = "ray.io/priority-class-name"
	labelGangScheduling    = "ray.io/gang-scheduling-enabled"
	labelYunikornAppID     = "yunikorn.apache.org/app-id"
)

// kueueMaxPodSets is the most pod sets a Kueue Workload holds (v0.17's
// Workload API); a RayJob's are its head, each worker group and, in
// K8sJobMode (ours), its submitter.
const kueueMaxPodSets = 8

// Suspend creates the RayJob suspended.
func (j *job) Suspend(rj *rayv1.RayJob) { rj.Spec.Suspend = true }

// Suspended reports whether the RayJob is held.
func (j *job) Suspended(rj *rayv1.RayJob) bool { return rj.Spec.Suspend }

// CheckKueue refuses what Kueue cannot admit: an autoscaling cluster
// (unless plugins.queueing.kueue.allowRayAutoscaling says the platform's
// Kueue runs elastic workloads), more worker groups than a Workload has pod
// sets for, a worker group named like Kueue's head pod set, and a cluster
// that outlives its job (it would hold the queue's quota after the job).
func (j *job) CheckKueue(rj *rayv1.RayJob) error {
	cluster := rj.Spec.RayClusterSpec
	if cluster == nil {
		return nil
	}
	if cluster.EnableInTreeAutoscaling != nil && *cluster.EnableInTreeAutoscaling && !queueing.GetConfig().Kueue.AllowRayAutoscaling {
		return kit.BadSpec(fieldCluster+".enableAutoscaling", true,
			"Kueue admits a Ray cluster of a fixed size only; turn autoscaling off, or let the platform set plugins.queueing.kueue.allowRayAutoscaling where Kueue runs elastic workloads")
	}
	podSets := 1 + len(cluster.WorkerGroupSpecs)
	if rj.Spec.SubmissionMode == "" || rj.Spec.SubmissionMode == rayv1.K8sJobMode {
		podSets++
	}
	if podSets > kueueMaxPodSets {
		return kit.BadSpecf(fieldWorkers, len(cluster.WorkerGroupSpecs),
			"Kueue admits at most %d pod sets per job and this RayJob needs %d (head, submitter and one per worker group); use at most %d worker groups",
			kueueMaxPodSets, podSets, len(cluster.WorkerGroupSpecs)-(podSets-kueueMaxPodSets))
	}
	for i := range cluster.WorkerGroupSpecs {
		if cluster.WorkerGroupSpecs[i].GroupName == "head" {
			return kit.BadSpec(fmt.Sprintf("%s[%d].groupName", fieldWorkers, i), "head", "Kueue reserves the name for the head group's pod set")
		}
	}
	if !rj.Spec.ShutdownAfterJobFinishes {
		return kit.BadSpec("shutdownAfterJobFinishes", false,
			"Kueue admits a RayJob only if its cluster is deleted when the job finishes (it would keep the queue's quota); set it in the task or plugins.ray.shutdownAfterJobFinishes")
	}
	return nil
}

// ScheduleWith labels the RayJob for KubeRay's Volcano or YuniKorn
// batch-scheduler plugin (the operator must run with that scheduler on).
func (j *job) ScheduleWith(rj *rayv1.RayJob, p queueing.Placement) {
	labels := make(map[string]string, len(rj.Labels)+4)
	for k, v := range rj.Labels {
		labels[k] = v
	}
	labels[labelSchedulerName] = p.Provider
	switch p.Provider {
	case queueing.Volcano:
		setIfEmpty(labels, queueing.VolcanoQueueLabel, p.Queue)
		if p.PriorityClass != "" {
			setIfEmpty(labels, labelPriorityClassName, p.PriorityClass)
		}
	case queueing.Yunikorn:
		setIfEmpty(labels, queueing.YunikornQueueLabel, p.Queue)
		setIfEmpty(labels, labelYunikornAppID, p.JobName)
		labels[labelGangScheduling] = strconv.FormatBool(true)
		if p.PriorityClass != "" {
			setIfEmpty(labels, labelPriorityClassName, p.PriorityClass)
		}
	}
	rj.Labels = labels
}

// setIfEmpty sets a label the task did not set itself.
func setIfEmpty(labels map[string]string, key, value string) {
	if labels[key] == "" && value != "" {
		labels[key] = value
	}
}

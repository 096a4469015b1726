package kf

import (
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// Every Kubeflow job can wait in a queue: the Training Operator honours
// runPolicy.suspend (Kueue's Kubeflow integrations admit by clearing it)
// and hands the pods to Volcano or a scheduler-plugins gang scheduler
// through runPolicy.schedulingPolicy (the operator's --gang-scheduler-name
// picks which). Kueue admits every PyTorchJob and TFJob shape the plugins
// build (at most four replica types, well under a Workload's eight pod
// sets), so there is no KueueChecker here; an MPIJob (v1) Kueue does not
// manage at all (Kind.KueueManaged), so it runs unqueued.

// ManagedByKueue reports whether Kueue has an integration for the kind.
func (j *Job[T]) ManagedByKueue() bool { return j.kind.KueueManaged }

// Suspend creates the job suspended.
func (j *Job[T]) Suspend(obj T) {
	rp := j.kind.Parts(obj).RunPolicy
	if rp != nil {
		rp.Suspend = new(true)
	}
}

// Suspended reports whether the job is held.
func (j *Job[T]) Suspended(obj T) bool {
	rp := j.kind.Parts(obj).RunPolicy
	return rp != nil && rp.Suspend != nil && *rp.Suspend
}

// ScheduleWith sets the job's scheduling policy: its queue, priority class
// and, for a gang, every replica as the minimum to start together.
func (j *Job[T]) ScheduleWith(obj T, p queueing.Placement) {
	parts := j.kind.Parts(obj)
	if parts.RunPolicy == nil {
		return
	}
	sp := parts.RunPolicy.SchedulingPolicy
	if sp == nil {
		sp = &kubeflowv1.SchedulingPolicy{}
		parts.RunPolicy.SchedulingPolicy = sp
	}
	if sp.Queue == "" {
		sp.Queue = p.Queue
	}
	if sp.PriorityClass == "" {
		sp.PriorityClass = p.PriorityClass
	}
	if sp.MinAvailable == nil {
		var total int32
		for _, r := range parts.Replicas {
			if r != nil && r.Replicas != nil {
				total += *r.Replicas
			}
		}
		sp.MinAvailable = new(total)
	}
}

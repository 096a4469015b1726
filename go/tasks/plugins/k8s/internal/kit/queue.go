package kit

import (
	"context"
	"fmt"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// Queueing grows the kit the way Kueue grows its job framework: a job kind
// opts into what applies to it by implementing a small interface, and the
// Adapter does the rest for every kind alike (placement at build time, the
// Queued phase and its reason at status time).

// Suspender is a job kind a queue can hold: Kueue admits a job by
// unsuspending it and evicts one by suspending it again. DaskJob has no
// suspend field, so it is not one (its package doc says what that means).
type Suspender[T client.Object] interface {
	// Suspend marks a job being built as suspended.
	Suspend(obj T)
	// Suspended reports whether the job is held now.
	Suspended(obj T) bool
}

// KueueManaged is a Suspender that Kueue may still not manage: a kind
// with no Kueue integration (the Training Operator's v1 MPIJob; Kueue's
// kubeflow.org/mpijob is the MPI Operator's v2beta1). Suspending such a
// job would hold it forever, so ManagedByKueue false runs it unqueued.
type KueueManaged interface {
	ManagedByKueue() bool
}

// KueueChecker is a job kind with shapes Kueue cannot admit; CheckKueue
// returns a BadTaskSpecification naming the field, or nil.
type KueueChecker[T client.Object] interface {
	CheckKueue(obj T) error
}

// BatchScheduled is a job kind its operator can hand to Volcano or
// YuniKorn; ScheduleWith writes the placement where the operator reads it.
type BatchScheduled[T client.Object] interface {
	ScheduleWith(obj T, p queueing.Placement)
}

// place puts a freshly built job in the queue the task resolves to. With
// no provider configured it costs one config read.
func (a *Adapter[T]) place(ctx context.Context, tCtx pluginsCore.TaskExecutionContext, obj T) error {
	cfg := queueing.GetConfig()
	if cfg.Provider == "" || cfg.Provider == queueing.None {
		return nil
	}
	tmpl, err := ReadTemplate(ctx, tCtx.TaskReader())
	if err != nil {
		return err
	}
	meta := tCtx.TaskExecutionMetadata()
	taskExecID := meta.GetTaskExecutionID()
	id := taskExecID.GetID()
	exec := id.GetNodeExecutionId().GetExecutionId()
	p, err := queueing.Resolve(cfg, queueing.Task{
		Project:   exec.GetProject(),
		Domain:    exec.GetDomain(),
		Namespace: meta.GetNamespace(),
		TaskType:  tmpl.GetType(),
		Labels:    []map[string]string{meta.GetLabels(), tmpl.GetK8SPod().GetMetadata().GetLabels(), obj.GetLabels()},
	})
	if err != nil {
		return BadSpec("plugins.queueing placement", p.Queue, err.Error())
	}
	if !p.Queued() {
		return nil
	}
	p.JobName = taskExecID.GetGeneratedName()
	switch p.Provider {
	case queueing.Kueue:
		s, ok := a.kueueHolds()
		if !ok {
			// Kueue cannot hold this kind (DaskJob, v1 MPIJob): it runs
			// unqueued, and its waiting reason says so.
			return nil
		}
		labels := make(map[string]string, len(obj.GetLabels())+2)
		for k, v := range obj.GetLabels() {
			labels[k] = v
		}
		labels[queueing.KueueQueueLabel] = p.Queue
		if p.PriorityClass != "" {
			labels[queueing.KueuePriorityClassLabel] = p.PriorityClass
		}
		obj.SetLabels(labels)
		s.Suspend(obj)
		if c, ok := a.job.(KueueChecker[T]); ok {
			return c.CheckKueue(obj)
		}
	case queueing.Volcano, queueing.Yunikorn:
		if b, ok := a.job.(BatchScheduled[T]); ok {
			b.ScheduleWith(obj, p)
		}
	}
	return nil
}

// queued turns the plugin's phase for a held job into Queued, with the
// reason Kueue gives for its Workload when the job is Kueue's, and keeps
// the plugin's links. A job Kueue evicted (suspended again) is Queued too.
func (a *Adapter[T]) queued(ctx context.Context, obj T, phase pluginsCore.PhaseInfo) pluginsCore.PhaseInfo {
	reason := "the job is suspended (spec.suspend); it starts when resumed"
	if q := obj.GetLabels()[queueing.KueueQueueLabel]; q != "" {
		reason = kueueReason(ctx, obj, q)
	} else if phase.Phase() == pluginsCore.PhaseQueued {
		// Held by hand, and the operator already says so.
		return phase
	}
	return pluginsCore.PhaseInfoQueuedWithTaskInfo(pluginsCore.DefaultPhaseVersion, reason, phase.Info())
}

// kueueReason reads the job's Workload (from the informer cache) into the
// reason a user sees.
func kueueReason(ctx context.Context, obj client.Object, queue string) string {
	w, err := queueing.FindWorkload(ctx, queueing.GetConfig().Kueue.WorkloadAPIVersion, obj.GetNamespace(), obj.GetUID())
	switch {
	case err != nil:
		return fmt.Sprintf("waiting in Kueue queue %q (its Workload could not be read: %v)", queue, err)
	case w == nil:
		return fmt.Sprintf("waiting in Kueue queue %q: Kueue has not made a Workload for the job yet (is Kueue running and managing this job kind?)", queue)
	}
	return queueing.ReadWorkload(w).Reason()
}

// unqueuedNote is added to the reason of a kind Kueue cannot hold while it
// waits to run (Queued, Initializing) when the platform runs Kueue, so the
// user knows why it skipped the queue.
func (a *Adapter[T]) unqueuedNote(phase *pluginsCore.PhaseInfo) {
	p := phase.Phase()
	if p != pluginsCore.PhaseQueued && p != pluginsCore.PhaseInitializing {
		return
	}
	if queueing.GetConfig().Provider != queueing.Kueue {
		return
	}
	if _, ok := a.kueueHolds(); ok {
		return
	}
	reason := phase.Reason() + " (not queued by Kueue: Kueue cannot hold this job kind, so it runs as soon as it is created)"
	if p == pluginsCore.PhaseQueued {
		*phase = pluginsCore.PhaseInfoQueuedWithTaskInfo(phase.Version(), reason, phase.Info())
	} else {
		*phase = pluginsCore.PhaseInfoInitializing(phase.Version(), reason, phase.Info())
	}
}

// kueueHolds is the job as Kueue can hold it: a Suspender Kueue manages.
func (a *Adapter[T]) kueueHolds() (Suspender[T], bool) {
	s, ok := a.job.(Suspender[T])
	if !ok {
		return nil, false
	}
	if m, ok := a.job.(KueueManaged); ok && !m.ManagedByKueue() {
		return nil, false
	}
	return s, true
}

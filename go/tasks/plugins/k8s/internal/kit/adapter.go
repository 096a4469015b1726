package kit

import (
	"context"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Job is what a plugin package supplies for its resource kind; Adapter turns
// it into the k8s.Plugin propeller drives (and the IsTerminal and
// GetCompletionTime Flyte 2's executor needs), so each plugin is a thin
// adapter over one framework, the way Kueue's job kinds are.
type Job[T client.Object] interface {
	// Identity is an empty resource with its type meta.
	Identity() T
	// Build builds the resource for a task.
	Build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (T, error)
	// Phase maps the resource's status to a phase with its links (tmpl is
	// the task template, read once by the adapter, for task-config links);
	// the adapter applies the kit's phase-version rule (FinalizePhase) afterwards.
	Phase(ctx context.Context, pluginContext k8s.PluginContext, obj T, tmpl *core.TaskTemplate) (pluginsCore.PhaseInfo, error)
	// Terminal reports whether the operator is done with the resource.
	Terminal(obj T) bool
	// Finished is when a terminal resource finished.
	Finished(obj T) time.Time
	// Properties are the plugin's propeller properties.
	Properties() k8s.PluginProperties
}

// Adapter is a k8s.Plugin over a Job. Safe for concurrent use when the Job is.
type Adapter[T client.Object] struct {
	name string
	job  Job[T]
}

var _ k8s.Plugin = (*Adapter[client.Object])(nil)

// NewAdapter returns the plugin for job; name prefixes its errors.
func NewAdapter[T client.Object](name string, job Job[T]) *Adapter[T] {
	return &Adapter[T]{name: name, job: job}
}

// GetProperties returns the job's properties.
func (a *Adapter[T]) GetProperties() k8s.PluginProperties { return a.job.Properties() }

// BuildIdentityResource is an empty resource with its type meta.
func (a *Adapter[T]) BuildIdentityResource(context.Context, pluginsCore.TaskExecutionMetadata) (client.Object, error) {
	return a.job.Identity(), nil
}

// BuildResource builds the resource for a task.
func (a *Adapter[T]) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	obj, err := a.job.Build(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	if err := a.place(ctx, tCtx, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// GetTaskPhase maps the resource's status to a Flyte phase, with
// the queue's Queued phase for a held job and the kit's phase-version rule
// (FinalizePhase) applied.
func (a *Adapter[T]) GetTaskPhase(ctx context.Context, pluginContext k8s.PluginContext, r client.Object) (pluginsCore.PhaseInfo, error) {
	obj, err := As[T](a.name, r)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	tmpl, err := pluginContext.TaskReader().Read(ctx)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	phase, err := a.job.Phase(ctx, pluginContext, obj, tmpl)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	// A held job waits, whatever its operator last wrote (Kueue evicts a
	// running job by suspending it); a finished one keeps its outcome.
	if s, ok := a.job.(Suspender[T]); ok && s.Suspended(obj) && !phase.Phase().IsTerminal() {
		phase = a.queued(ctx, obj, phase)
	}
	a.unqueuedNote(&phase)
	if err := FinalizePhase(pluginContext, &phase); err != nil {
		return phase, err
	}
	return phase, nil
}

// IsTerminal reports whether the operator is done with the resource.
func (a *Adapter[T]) IsTerminal(_ context.Context, r client.Object) (bool, error) {
	obj, err := As[T](a.name, r)
	if err != nil {
		return false, err
	}
	return a.job.Terminal(obj), nil
}

// GetCompletionTime is when the resource finished; the zero time while it
// has not.
func (a *Adapter[T]) GetCompletionTime(r client.Object) (time.Time, error) {
	obj, err := As[T](a.name, r)
	if err != nil || !a.job.Terminal(obj) {
		return time.Time{}, err
	}
	return a.job.Finished(obj), nil
}

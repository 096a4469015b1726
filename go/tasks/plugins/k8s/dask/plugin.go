package dask

import (
	"context"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Identity of the plugin; the same as upstream's so propeller configs that
// enable "dask" get this plugin.
const (
	// PluginID is the ID the plugin registers under.
	PluginID = "dask"
	// TaskType is the task type it handles.
	TaskType = "dask"
)

// Plugin builds DaskJobs and maps their status. Safe for concurrent use:
// its only state is the cache of log plugins.
type Plugin struct {
	links linkers
}

var _ k8s.Plugin = (*Plugin)(nil)

// New returns a Dask plugin.
func New() *Plugin { return &Plugin{} }

// GetProperties uses propeller's defaults.
func (p *Plugin) GetProperties() k8s.PluginProperties { return k8s.PluginProperties{} }

// BuildIdentityResource is an empty DaskJob with its type meta.
func (p *Plugin) BuildIdentityResource(context.Context, pluginsCore.TaskExecutionMetadata) (client.Object, error) {
	return &daskAPI.DaskJob{TypeMeta: typeMeta}, nil
}

// BuildResource builds the DaskJob for a task: its job runner, scheduler
// (with its Service) and workers.
func (p *Plugin) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	return buildJob(ctx, tCtx)
}

// GetTaskPhase maps the job's status to a Flyte phase with its links.
func (p *Plugin) GetTaskPhase(ctx context.Context, pluginContext k8s.PluginContext, r client.Object) (pluginsCore.PhaseInfo, error) {
	job, err := asJob(r)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	tmpl, err := pluginContext.TaskReader().Read(ctx)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	taskLogs, err := p.links.render(GetConfig(), job, pluginContext.TaskExecutionMetadata().GetTaskExecutionID(), tmpl)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	now := time.Now()
	ph := phase(job, &pluginsCore.TaskInfo{OccurredAt: &now, Logs: taskLogs})
	if err := kit.FinalizePhase(pluginContext, &ph); err != nil {
		return ph, err
	}
	return ph, nil
}

// IsTerminal reports whether the job succeeded or failed (for Flyte 2's
// executor).
func (p *Plugin) IsTerminal(_ context.Context, r client.Object) (bool, error) {
	job, err := asJob(r)
	if err != nil {
		return false, err
	}
	return terminal(job.Status.JobStatus), nil
}

// GetCompletionTime is when the job finished: the operator's end time, else
// its start time, else the job's creation. It is the zero time while the job
// has not finished.
func (p *Plugin) GetCompletionTime(r client.Object) (time.Time, error) {
	job, err := asJob(r)
	if err != nil {
		return time.Time{}, err
	}
	if !terminal(job.Status.JobStatus) {
		return time.Time{}, nil
	}
	return kit.FirstTime(job.Status.EndTime.Time, job.Status.StartTime.Time, job.CreationTimestamp.Time), nil
}

func asJob(r client.Object) (*daskAPI.DaskJob, error) {
	return kit.As[*daskAPI.DaskJob](PluginID, r)
}

func init() {
	if err := daskAPI.AddToScheme(scheme.Scheme); err != nil {
		panic(err)
	}
	pluginmachinery.PluginRegistry().RegisterK8sPlugin(k8s.PluginEntry{
		ID:                  PluginID,
		RegisteredTaskTypes: []pluginsCore.TaskType{TaskType},
		ResourceToWatch:     &daskAPI.DaskJob{},
		Plugin:              New(),
	})
}

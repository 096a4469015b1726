package dask

import (
	"context"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"k8s.io/client-go/kubernetes/scheme"

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

// Plugin builds DaskJobs and maps their status: a k8s.Plugin, plus
// IsTerminal and GetCompletionTime for Flyte 2's executor.
type Plugin = kit.Adapter[*daskAPI.DaskJob]

// New returns a Dask plugin.
func New() *Plugin { return kit.NewAdapter(PluginID, &job{}) }

// job is Dask's part of the plugin. Safe for concurrent use: its only state
// is the cache of parsed link templates.
type job struct {
	links linkers
}

var _ kit.Job[*daskAPI.DaskJob] = (*job)(nil)

// Properties are propeller's defaults.
func (j *job) Properties() k8s.PluginProperties { return k8s.PluginProperties{} }

// Identity is an empty DaskJob with its type meta.
func (j *job) Identity() *daskAPI.DaskJob { return &daskAPI.DaskJob{TypeMeta: typeMeta} }

// Build builds the DaskJob for a task: its job runner, scheduler (with its
// Service) and workers.
func (j *job) Build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*daskAPI.DaskJob, error) {
	return buildJob(ctx, tCtx)
}

// Phase maps the job's status to a Flyte phase with its links.
func (j *job) Phase(ctx context.Context, pluginContext k8s.PluginContext, dj *daskAPI.DaskJob, tmpl *core.TaskTemplate) (pluginsCore.PhaseInfo, error) {
	taskLogs, err := j.links.render(GetConfig(), dj, pluginContext.TaskExecutionMetadata().GetTaskExecutionID(), tmpl)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	now := time.Now()
	return phase(dj, &pluginsCore.TaskInfo{OccurredAt: &now, Logs: taskLogs}), nil
}

// Terminal reports whether the job succeeded or failed.
func (j *job) Terminal(dj *daskAPI.DaskJob) bool { return terminal(dj.Status.JobStatus) }

// Finished is the operator's end time, else its start time, else the job's
// creation.
func (j *job) Finished(dj *daskAPI.DaskJob) time.Time {
	return kit.FirstTime(dj.Status.EndTime.Time, dj.Status.StartTime.Time, dj.CreationTimestamp.Time)
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

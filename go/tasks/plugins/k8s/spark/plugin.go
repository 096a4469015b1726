package spark

import (
	"context"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Identity of the plugin; the same as upstream's so propeller configs that
// enable "spark" get this plugin.
const (
	// PluginID is the ID the plugin registers under.
	PluginID = "spark"
	// TaskType is the task type it handles.
	TaskType = "spark"
)

// Plugin builds SparkApplications and maps their status: a k8s.Plugin, plus
// IsTerminal and GetCompletionTime for Flyte 2's executor.
type Plugin = kit.Adapter[*sparkv1beta2.SparkApplication]

// New returns a Spark plugin.
func New() *Plugin { return kit.NewAdapter(PluginID, &job{}) }

// job is Spark's part of the plugin. Safe for concurrent use: its only
// state is the cache of parsed link templates.
type job struct {
	links linkers
}

var _ kit.Job[*sparkv1beta2.SparkApplication] = (*job)(nil)

// Properties are propeller's defaults.
func (j *job) Properties() k8s.PluginProperties { return k8s.PluginProperties{} }

// Identity is an empty SparkApplication with its type meta.
func (j *job) Identity() *sparkv1beta2.SparkApplication {
	return &sparkv1beta2.SparkApplication{TypeMeta: typeMeta}
}

// Build builds the SparkApplication for a task.
func (j *job) Build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*sparkv1beta2.SparkApplication, error) {
	return buildApplication(ctx, tCtx)
}

// Phase maps the application's state to a Flyte phase with its links.
func (j *job) Phase(ctx context.Context, pluginContext k8s.PluginContext, app *sparkv1beta2.SparkApplication, tmpl *core.TaskTemplate) (pluginsCore.PhaseInfo, error) {
	info, err := j.links.taskInfo(GetConfig(), app, pluginContext.TaskExecutionMetadata().GetTaskExecutionID(), tmpl)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	rule := kit.Lookup(stateTable, "spark-operator", app.Status.AppState.State)
	detail := app.Status.AppState.ErrorMessage
	if rule.Outcome == kit.Running {
		detail = kit.JoinReason(detail, podSetReason(app.Status.DriverInfo.PodName, app.Status.ExecutorState))
	}
	return rule.Phase(detail, info), nil
}

// Terminal reports whether the application reached a final state.
func (j *job) Terminal(app *sparkv1beta2.SparkApplication) bool {
	return terminal(app.Status.AppState.State)
}

// Finished is the operator's termination time, else the last submission
// attempt, else the application's creation.
func (j *job) Finished(app *sparkv1beta2.SparkApplication) time.Time {
	return kit.FirstTime(app.Status.TerminationTime.Time, app.Status.LastSubmissionAttemptTime.Time, app.CreationTimestamp.Time)
}

func init() {
	if err := sparkv1beta2.AddToScheme(scheme.Scheme); err != nil {
		panic(err)
	}
	pluginmachinery.PluginRegistry().RegisterK8sPlugin(k8s.PluginEntry{
		ID:                  PluginID,
		RegisteredTaskTypes: []pluginsCore.TaskType{TaskType},
		ResourceToWatch:     &sparkv1beta2.SparkApplication{},
		Plugin:              New(),
	})
}

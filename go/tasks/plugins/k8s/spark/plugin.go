package spark

import (
	"context"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// Plugin builds SparkApplications and maps their status. Safe for
// concurrent use: its only state is the cache of log plugins.
type Plugin struct {
	links linkers
}

var _ k8s.Plugin = (*Plugin)(nil)

// New returns a Spark plugin.
func New() *Plugin { return &Plugin{} }

// GetProperties uses propeller's defaults.
func (p *Plugin) GetProperties() k8s.PluginProperties { return k8s.PluginProperties{} }

// BuildIdentityResource is an empty SparkApplication with its type meta.
func (p *Plugin) BuildIdentityResource(context.Context, pluginsCore.TaskExecutionMetadata) (client.Object, error) {
	return &sparkv1beta2.SparkApplication{TypeMeta: typeMeta}, nil
}

// BuildResource builds the SparkApplication for a task.
func (p *Plugin) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	return buildApplication(ctx, tCtx)
}

// GetTaskPhase maps the application's state to a Flyte phase with its links.
func (p *Plugin) GetTaskPhase(ctx context.Context, pluginContext k8s.PluginContext, r client.Object) (pluginsCore.PhaseInfo, error) {
	app, err := asApplication(r)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	tmpl, err := pluginContext.TaskReader().Read(ctx)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	info, err := p.links.taskInfo(GetConfig(), app, pluginContext.TaskExecutionMetadata().GetTaskExecutionID(), tmpl)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	state := app.Status.AppState.State
	phase := kit.Lookup(stateTable, "spark-operator", state).Phase(app.Status.AppState.ErrorMessage, info)
	if err := kit.FinalizePhase(pluginContext, &phase); err != nil {
		return phase, err
	}
	return phase, nil
}

// IsTerminal reports whether the application reached a final state (for
// Flyte 2's executor).
func (p *Plugin) IsTerminal(_ context.Context, r client.Object) (bool, error) {
	app, err := asApplication(r)
	if err != nil {
		return false, err
	}
	return terminal(app.Status.AppState.State), nil
}

// GetCompletionTime is when the application finished: the operator's
// termination time, else its last submission attempt, else its creation.
// It is the zero time while the application has not finished.
func (p *Plugin) GetCompletionTime(r client.Object) (time.Time, error) {
	app, err := asApplication(r)
	if err != nil {
		return time.Time{}, err
	}
	if !terminal(app.Status.AppState.State) {
		return time.Time{}, nil
	}
	return kit.FirstTime(app.Status.TerminationTime.Time, app.Status.LastSubmissionAttemptTime.Time, app.CreationTimestamp.Time), nil
}

func asApplication(r client.Object) (*sparkv1beta2.SparkApplication, error) {
	return kit.As[*sparkv1beta2.SparkApplication](PluginID, r)
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

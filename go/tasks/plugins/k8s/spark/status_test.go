package spark_test

import (
	"context"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
)

func reasons(p pluginsCore.PhaseInfo) string {
	if p.Reason() != "" {
		return p.Reason()
	}
	if p.Info() != nil && len(p.Info().AdditionalReasons) > 0 {
		return p.Info().AdditionalReasons[0].Reason
	}
	return ""
}

// Every state spark-operator v2.5 defines, plus ones it may add, walked
// through GetTaskPhase.
func TestGetTaskPhaseForEveryState(t *testing.T) {
	setSpark(t, &spark.Config{})
	tests := []struct {
		state  sparkv1beta2.ApplicationStateType
		phase  pluginsCore.Phase
		reason string
		code   string
		kind   core.ExecutionError_ErrorKind
	}{
		{state: sparkv1beta2.ApplicationStateNew, phase: pluginsCore.PhaseQueued, reason: "job queued"},
		{state: sparkv1beta2.ApplicationStateSubmitted, phase: pluginsCore.PhaseInitializing, reason: "job submitted"},
		{state: sparkv1beta2.ApplicationStateRunning, phase: pluginsCore.PhaseRunning},
		{state: sparkv1beta2.ApplicationStatePendingRerun, phase: pluginsCore.PhaseRunning, reason: "job pending rerun"},
		{state: sparkv1beta2.ApplicationStateInvalidating, phase: pluginsCore.PhaseRunning, reason: "job invalidating"},
		{state: sparkv1beta2.ApplicationStateSucceeding, phase: pluginsCore.PhaseRunning, reason: "job succeeding"},
		{state: sparkv1beta2.ApplicationStateFailing, phase: pluginsCore.PhaseRunning, reason: "job failing"},
		{state: sparkv1beta2.ApplicationStateSuspending, phase: pluginsCore.PhaseQueued, reason: "job suspending"},
		{state: sparkv1beta2.ApplicationStateSuspended, phase: pluginsCore.PhaseQueued, reason: "job suspended"},
		{state: sparkv1beta2.ApplicationStateResuming, phase: pluginsCore.PhaseInitializing, reason: "job resuming"},
		{state: sparkv1beta2.ApplicationStateCompleted, phase: pluginsCore.PhaseSuccess},
		{state: sparkv1beta2.ApplicationStateFailedSubmission, phase: pluginsCore.PhaseRetryableFailure, code: "DownstreamSystemError", kind: core.ExecutionError_USER, reason: "Spark job submission failed: driver OOM"},
		{state: sparkv1beta2.ApplicationStateFailed, phase: pluginsCore.PhaseRetryableFailure, code: "DownstreamSystemError", kind: core.ExecutionError_USER, reason: "Spark job failed: driver OOM"},
		{state: sparkv1beta2.ApplicationStateUnknown, phase: pluginsCore.PhaseRunning, reason: "UNKNOWN"},
		{state: "QUARANTINED", phase: pluginsCore.PhaseRunning, reason: `"QUARANTINED"`},
		{state: "running", phase: pluginsCore.PhaseRunning, reason: `"running"`},
	}
	covered := map[sparkv1beta2.ApplicationStateType]bool{}
	for _, tt := range tests {
		covered[tt.state] = true
		t.Run(string(tt.state), func(t *testing.T) {
			app := application(tt.state)
			app.Status.AppState.ErrorMessage = "driver OOM"
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
			require.NoError(t, err, "a state is never an error")
			assert.Equal(t, tt.phase, phase.Phase())
			if tt.code != "" {
				require.NotNil(t, phase.Err())
				assert.Equal(t, tt.code, phase.Err().GetCode())
				assert.Equal(t, tt.kind, phase.Err().GetKind())
				assert.Equal(t, tt.reason, phase.Err().GetMessage())
				return
			}
			assert.Nil(t, phase.Err())
			assert.Contains(t, reasons(phase), tt.reason)
		})
	}
	for _, s := range []sparkv1beta2.ApplicationStateType{
		sparkv1beta2.ApplicationStateNew, sparkv1beta2.ApplicationStateSubmitted, sparkv1beta2.ApplicationStateRunning,
		sparkv1beta2.ApplicationStateCompleted, sparkv1beta2.ApplicationStateFailed, sparkv1beta2.ApplicationStateFailedSubmission,
		sparkv1beta2.ApplicationStatePendingRerun, sparkv1beta2.ApplicationStateInvalidating, sparkv1beta2.ApplicationStateSucceeding,
		sparkv1beta2.ApplicationStateFailing, sparkv1beta2.ApplicationStateSuspending, sparkv1beta2.ApplicationStateSuspended,
		sparkv1beta2.ApplicationStateResuming, sparkv1beta2.ApplicationStateUnknown,
	} {
		assert.True(t, covered[s], "operator state %q has no test row", s)
	}
}

func TestGetTaskPhaseRejectsForeignObjects(t *testing.T) {
	_, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), &sparkv1beta2.ScheduledSparkApplication{})
	assert.Error(t, err)
}

// The live-view rule (spec/queueing.md, superseding propeller's): the
// version counts from the stored one, one step up when the phase repeats
// with a new reason, Running included, and never falls.
func TestPhaseVersion(t *testing.T) {
	setSpark(t, &spark.Config{})
	for _, tc := range []struct {
		name    string
		stored  k8s.PluginState
		state   sparkv1beta2.ApplicationStateType
		version uint32
		// above: the version is only known to exceed version (Running's
		// carries a fingerprint of what it shows).
		above bool
	}{
		{"same phase, new reason", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 2, Reason: "older"}, sparkv1beta2.ApplicationStateNew, 3, false},
		{"same phase, same reason: the stored version", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 2, Reason: "job queued"}, sparkv1beta2.ApplicationStateNew, 2, false},
		{"new phase", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 2, Reason: "job queued"}, sparkv1beta2.ApplicationStateSubmitted, 0, false},
		{"running counts up from the stored version", k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 5}, sparkv1beta2.ApplicationStateRunning, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := pythonTask(t)
			task.State = tc.stored
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), application(tc.state))
			require.NoError(t, err)
			if tc.above {
				assert.Greater(t, phase.Version(), tc.version)
			} else {
				assert.Equal(t, tc.version, phase.Version())
			}
		})
	}
}

func logsConfig(uri string) logs.LogConfig {
	return logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{{DisplayName: "Kibana", TemplateURIs: []string{uri}}}}
}

func TestLogLinks(t *testing.T) {
	const tmpl = "https://logs/{{ .namespace }}/{{ .podName }}?from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}&rfc={{ .podRFC3339StartTime }}"
	setSpark(t, &spark.Config{
		SparkHistoryServerURL: "https://history.example.com/",
		LogConfig: spark.LogConfig{
			Mixed:   logsConfig(tmpl),
			User:    logsConfig(tmpl),
			System:  logsConfig(tmpl),
			AllUser: logsConfig(tmpl),
		},
	})
	created := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	ended := created.Add(90 * time.Second)
	ns := "flyteproject-development"

	t.Run("new application: no driver yet", func(t *testing.T) {
		app := application(sparkv1beta2.ApplicationStateNew)
		app.CreationTimestamp.Time = created
		phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
		require.NoError(t, err)
		got := phase.Info().Logs
		require.Len(t, got, 2, "no driver or user log link before the driver pod has a name")
		assert.Equal(t, "Kibana(System Logs)", got[0].GetName())
		assert.Equal(t, "https://logs/"+ns+"/f8a1b2c3d4-n0-0?from=1793527200&to=0&rfc=2026-11-01T10:00:00Z", got[0].GetUri())
		assert.Equal(t, "Kibana(Spark-Submit/All User Logs)", got[1].GetName())
		assert.True(t, got[1].GetShowWhilePending(), "all-user logs show while pending")
		assert.False(t, got[0].GetShowWhilePending())
	})

	t.Run("a user-log template that does not name the pod shows at once; driver logs wait", func(t *testing.T) {
		cfg := *spark.GetConfig()
		cfg.LogConfig.User = logsConfig("https://logs/{{ .namespace }}/{{ .taskID }}")
		cfg.LogConfig.Mixed = cfg.LogConfig.User
		setSpark(t, &cfg)
		phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), application(sparkv1beta2.ApplicationStateNew))
		require.NoError(t, err)
		names := make([]string, 0, 3)
		for _, l := range phase.Info().Logs {
			names = append(names, l.GetName())
		}
		assert.Equal(t, []string{"Kibana(User Logs)", "Kibana(System Logs)", "Kibana(Spark-Submit/All User Logs)"}, names)
	})

	t.Run("running application with driver UI", func(t *testing.T) {
		app := application(sparkv1beta2.ApplicationStateRunning)
		app.CreationTimestamp.Time = created
		app.Status.DriverInfo.PodName = "app-driver"
		app.Status.DriverInfo.WebUIIngressAddress = "spark-ui.example.com/app"
		phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
		require.NoError(t, err)
		got := phase.Info().Logs
		require.Len(t, got, 5)
		assert.Equal(t, "Kibana(Driver Logs)", got[0].GetName())
		assert.Equal(t, "https://logs/"+ns+"/app-driver?from=1793527200&to=0&rfc=2026-11-01T10:00:00Z", got[0].GetUri())
		assert.Equal(t, "https://logs/"+ns+"/app-driver?from=1793527200&to=0&rfc=2026-11-01T10:00:00Z", got[1].GetUri(), "user logs follow the driver pod")
		ui := got[4]
		assert.Equal(t, "Spark Driver UI", ui.GetName())
		assert.Equal(t, "https://spark-ui.example.com/app", ui.GetUri(), "https:// added when the address has no scheme")
		assert.Equal(t, core.TaskLog_JSON, ui.GetMessageFormat())
		assert.Equal(t, "https://spark-ui.example.com/app", phase.Info().CustomInfo.GetFields()["sparkDriverUI"].GetStringValue())
	})

	t.Run("driver UI keeps an explicit scheme", func(t *testing.T) {
		app := application(sparkv1beta2.ApplicationStateRunning)
		app.Status.DriverInfo.WebUIIngressAddress = "http://10.0.0.1:4040"
		phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
		require.NoError(t, err)
		assert.Equal(t, "http://10.0.0.1:4040", phase.Info().CustomInfo.GetFields()["sparkDriverUI"].GetStringValue())
	})

	for _, state := range []sparkv1beta2.ApplicationStateType{sparkv1beta2.ApplicationStateCompleted, sparkv1beta2.ApplicationStateFailed} {
		t.Run("finished "+string(state), func(t *testing.T) {
			app := application(state)
			app.CreationTimestamp.Time = created
			app.Status.TerminationTime.Time = ended
			app.Status.DriverInfo.PodName = "app-driver"
			app.Status.DriverInfo.WebUIIngressAddress = "spark-ui.example.com/app"
			app.Status.SparkApplicationID = "spark-123"
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
			require.NoError(t, err)
			got := phase.Info().Logs
			require.Len(t, got, 5)
			assert.Contains(t, got[0].GetUri(), "to=1793527290", "finish time once terminal")
			assert.Equal(t, "Spark History UI", got[4].GetName())
			assert.Equal(t, "https://history.example.com/history/spark-123", got[4].GetUri())
			assert.Equal(t, "https://history.example.com/history/spark-123", phase.Info().CustomInfo.GetFields()["sparkHistoryUI"].GetStringValue())
			assert.NotContains(t, phase.Info().CustomInfo.GetFields(), "sparkDriverUI")
		})
	}

	t.Run("no history link without an application ID", func(t *testing.T) {
		app := application(sparkv1beta2.ApplicationStateCompleted)
		phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
		require.NoError(t, err)
		assert.Nil(t, phase.Info().CustomInfo)
	})
}

func TestLogLinksFollowConfigChanges(t *testing.T) {
	setSpark(t, &spark.Config{LogConfig: spark.LogConfig{System: logsConfig("https://one/{{ .podName }}")}})
	app := application(sparkv1beta2.ApplicationStateRunning)
	phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
	require.NoError(t, err)
	require.Len(t, phase.Info().Logs, 1)
	assert.Equal(t, "https://one/f8a1b2c3d4-n0-0", phase.Info().Logs[0].GetUri())

	setSpark(t, &spark.Config{LogConfig: spark.LogConfig{System: logsConfig("https://two/{{ .podName }}")}})
	phase, err = registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
	require.NoError(t, err)
	assert.Equal(t, "https://two/f8a1b2c3d4-n0-0", phase.Info().Logs[0].GetUri())
}

// Dynamic links come from the mixed config only (as upstream): listed in
// every section, the link still shows once.
func TestDynamicLogLinks(t *testing.T) {
	dynamic := logs.LogConfig{DynamicLogLinks: map[string]tasklog.TemplateLogPlugin{
		"wandb": {DisplayName: "Weights & Biases", TemplateURIs: []string{"https://wandb.ai/{{ .taskConfig.project }}/{{ .podName }}"}},
	}}
	setSpark(t, &spark.Config{LogConfig: spark.LogConfig{Mixed: dynamic, User: dynamic, System: dynamic, AllUser: dynamic}})
	task := pythonTask(t)
	task.Template = cloneTemplate(task.Template)
	task.Template.Config = map[string]string{"link_type": "wandb", "project": "churn"}
	app := application(sparkv1beta2.ApplicationStateRunning)
	app.Status.DriverInfo.PodName = "app-driver"
	phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), app)
	require.NoError(t, err)
	require.Len(t, phase.Info().Logs, 1)
	assert.Equal(t, "https://wandb.ai/churn/app-driver", phase.Info().Logs[0].GetUri())
}

func TestDefaultConfigLinksTheDriver(t *testing.T) {
	app := application(sparkv1beta2.ApplicationStateRunning)
	app.Status.DriverInfo.PodName = "app-driver"
	phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app)
	require.NoError(t, err)
	require.NotEmpty(t, phase.Info().Logs)
	assert.Equal(t, "http://localhost:30082/#!/log/flyteproject-development/app-driver/pod?namespace=flyteproject-development", phase.Info().Logs[0].GetUri())
}

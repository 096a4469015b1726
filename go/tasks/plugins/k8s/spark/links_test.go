package spark_test

import (
	"context"
	"testing"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
)

// setLiveView sets the live-view bounds for one test.
func setLiveView(t testing.TB, maxPodLinks, maxPhaseVersions int) {
	t.Helper()
	prev := *queueing.GetConfig()
	cfg := prev
	cfg.LiveView = queueing.LiveViewConfig{MaxPodLinks: maxPodLinks, MaxPhaseVersions: maxPhaseVersions}
	require.NoError(t, queueing.SetConfig(&cfg))
	t.Cleanup(func() { _ = queueing.SetConfig(&prev) })
}

const appName = "f8a1b2c3d4-n0-0"

// running is a running application with a driver and executors.
func running(executors map[string]sparkv1beta2.ExecutorState) *sparkv1beta2.SparkApplication {
	app := application(sparkv1beta2.ApplicationStateRunning)
	app.Status.DriverInfo.PodName = appName + "-driver"
	app.Status.ExecutorState = executors
	return app
}

func names(p pluginsCore.PhaseInfo) []string {
	var out []string
	for _, l := range p.Info().Logs {
		out = append(out, l.GetName())
	}
	return out
}

func TestPerPodLinks(t *testing.T) {
	setSpark(t, &spark.Config{LogConfig: spark.LogConfig{Mixed: logsConfig("https://logs/{{ .namespace }}/{{ .podName }}")}})
	executors := map[string]sparkv1beta2.ExecutorState{
		appName + "-exec-1":  sparkv1beta2.ExecutorStateRunning,
		appName + "-exec-2":  sparkv1beta2.ExecutorStatePending,
		appName + "-exec-3":  sparkv1beta2.ExecutorStateCompleted,
		appName + "-exec-10": sparkv1beta2.ExecutorStateRunning,
	}
	for _, tc := range []struct {
		name   string
		cap    int
		links  []string
		reason string
	}{
		{"no cap: the driver, then live executors by number, then finished ones", 0, []string{
			"Kibana(Driver Logs)", "Kibana(" + appName + "-exec-1)", "Kibana(" + appName + "-exec-2)",
			"Kibana(" + appName + "-exec-10)", "Kibana(" + appName + "-exec-3)",
		}, "4 pods: " + appName + "-driver, " + appName + "-exec-1, " + appName + "-exec-2, " + appName + "-exec-10"},
		{"cap counts the driver; the rest share the aggregate", 3, []string{
			"Kibana(Driver Logs)", "Kibana(" + appName + "-exec-1)", "Kibana(" + appName + "-exec-2)",
			"Kibana(all 5 pods of " + appName + ")",
		}, "4 pods: "},
		{"cap of one: the driver and the aggregate", 1, []string{
			"Kibana(Driver Logs)", "Kibana(all 5 pods of " + appName + ")",
		}, "4 pods: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setLiveView(t, tc.cap, 100000)
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), running(executors))
			require.NoError(t, err)
			assert.Equal(t, pluginsCore.PhaseRunning, phase.Phase())
			assert.Equal(t, tc.links, names(phase))
			assert.Contains(t, reasons(phase), tc.reason)
			last := phase.Info().Logs[len(phase.Info().Logs)-1]
			if tc.cap > 0 {
				assert.Equal(t, "https://logs/flyteproject-development/"+appName, last.GetUri(), "the aggregate queries the name prefix")
			} else {
				assert.Equal(t, "https://logs/flyteproject-development/"+appName+"-exec-3", last.GetUri())
			}
		})
	}
}

// Rounds the way propeller runs them, each feeding the state propeller
// stores into the next: the version grows when the executor set or the
// reason changes, holds otherwise, never falls, and stops at the bound.
func TestLiveViewVersions(t *testing.T) {
	setSpark(t, &spark.Config{LogConfig: spark.LogConfig{Mixed: logsConfig("https://logs/{{ .podName }}")}})
	exec := func(states ...sparkv1beta2.ExecutorState) map[string]sparkv1beta2.ExecutorState {
		m := map[string]sparkv1beta2.ExecutorState{}
		for i, s := range states {
			m[appName+"-exec-"+string(rune('1'+i))] = s
		}
		return m
	}
	failing := running(exec(sparkv1beta2.ExecutorStateRunning, sparkv1beta2.ExecutorStateRunning))
	failing.Status.AppState.State = sparkv1beta2.ApplicationStateFailing
	rounds := []struct {
		name string
		app  *sparkv1beta2.SparkApplication
		bump bool
	}{
		{"submitted", application(sparkv1beta2.ApplicationStateSubmitted), false},
		{"running, driver only", running(nil), false},
		{"same again", running(nil), false},
		{"an executor pending", running(exec(sparkv1beta2.ExecutorStatePending)), true},
		{"it runs (same set)", running(exec(sparkv1beta2.ExecutorStateRunning)), false},
		{"a second executor", running(exec(sparkv1beta2.ExecutorStateRunning, sparkv1beta2.ExecutorStatePending)), true},
		{"same again", running(exec(sparkv1beta2.ExecutorStateRunning, sparkv1beta2.ExecutorStatePending)), false},
		{"the first finishes", running(exec(sparkv1beta2.ExecutorStateCompleted, sparkv1beta2.ExecutorStateRunning)), true},
		{"a new reason, failing", failing, true},
	}
	for _, bound := range []int{100000, 1000, 40} {
		setLiveView(t, 8, bound)
		var st k8s.PluginState
		var prev pluginsCore.PhaseInfo
		for i, r := range rounds {
			task := pythonTask(t)
			task.State = st
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), r.app)
			require.NoError(t, err)
			assert.LessOrEqual(t, int(phase.Version()), bound, "bound %d, %s", bound, r.name)
			if i > 0 && phase.Phase() == prev.Phase() {
				assert.GreaterOrEqual(t, phase.Version(), prev.Version(), "bound %d, %s: never falls", bound, r.name)
				// A small bound leaves room for a few changes only; past
				// them the version holds.
				if r.bump && uint64(prev.Version())+256 <= uint64(bound) {
					assert.Greater(t, phase.Version(), prev.Version(), "bound %d, %s", bound, r.name)
				}
				if !r.bump {
					assert.Equal(t, prev.Version(), phase.Version(), "bound %d, %s", bound, r.name)
				}
			}
			prev = phase
			st = k8s.PluginState{Phase: phase.Phase(), PhaseVersion: phase.Version(), Reason: phase.Reason()}
		}
	}
}

package kf_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flytestdlib/config"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

var (
	t0 = created.Add(10 * time.Second)
	t1 = t0.Add(time.Minute)
	t2 = t1.Add(time.Minute)
	t3 = t2.Add(time.Minute)
)

// Every row of the spec's status table, for every plugin: each condition
// type the operator declares, no conditions, conditions none of which is
// True, and a type a newer operator may add.
func TestConditionToPhase(t *testing.T) {
	running := cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "PyTorchJobRunning", "job is running")
	for _, tc := range []struct {
		name   string
		status kubeflowv1.JobStatus
		phase  pluginsCore.Phase
		// reason: substrings of the phase's reason; "" for none at all.
		reason []string
		kind   core.ExecutionError_ErrorKind
	}{
		{name: "no conditions yet", status: kubeflowv1.JobStatus{}, phase: pluginsCore.PhaseQueued, reason: []string{"waiting for the training operator"}},
		{name: string(kubeflowv1.JobCreated), status: started(cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "PyTorchJobCreated", "created")),
			phase: pluginsCore.PhaseQueued, reason: []string{"JobCreated"}},
		// Running shows the pod set (spec/queueing.md, "While it runs").
		{name: string(kubeflowv1.JobRunning), status: started(cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""), running), phase: pluginsCore.PhaseRunning,
			reason: []string{" pods: ", "-worker-0, ", "-worker-1"}},
		{name: string(kubeflowv1.JobRestarting), status: started(cond(kubeflowv1.JobRestarting, v1.ConditionTrue, t1, "JobRestarting", "worker-2 exited with code 137")),
			phase: pluginsCore.PhaseRunning, reason: []string{"Restarting", "[JobRestarting] worker-2 exited with code 137"}},
		{name: string(kubeflowv1.JobSucceeded), status: started(running, cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t2, "JobSucceeded", "done")), phase: pluginsCore.PhaseSuccess},
		{name: string(kubeflowv1.JobSuspended), status: kubeflowv1.JobStatus{Conditions: []kubeflowv1.JobCondition{cond(kubeflowv1.JobSuspended, v1.ConditionTrue, t0, "JobSuspended", "suspended by Kueue")}},
			phase: pluginsCore.PhaseQueued, reason: []string{"Suspended"}},
		{name: string(kubeflowv1.JobFailed), status: started(running, cond(kubeflowv1.JobFailed, v1.ConditionTrue, t2, "JobFailed", "worker-1 exited with code 1")),
			phase: pluginsCore.PhaseRetryableFailure, reason: []string{"failed: [JobFailed] worker-1 exited with code 1"}, kind: core.ExecutionError_SYSTEM},
		{name: "all False", status: started(cond(kubeflowv1.JobCreated, v1.ConditionFalse, t0, "", ""), cond(kubeflowv1.JobRunning, v1.ConditionFalse, t1, "", "")),
			phase: pluginsCore.PhaseQueued, reason: []string{"waiting for the training operator"}},
		{name: "Unknown status only", status: started(cond(kubeflowv1.JobRunning, v1.ConditionUnknown, t1, "", "")),
			phase: pluginsCore.PhaseQueued, reason: []string{"waiting"}},
		{name: "a type this plugin does not know", status: started(running, cond("Quiescing", v1.ConditionTrue, t2, "", "")),
			phase: pluginsCore.PhaseRunning, reason: []string{`"Quiescing"`, "Kubeflow Training Operator"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 2)
				task.GeneratedName = "status-" + p.id
				obj := p.job(t, task, tc.status)
				// Created just now: a job without status is not yet overdue.
				obj.SetCreationTimestamp(metav1.NewTime(time.Now().Add(-10 * time.Second)))
				info := p.phase(t, task, obj)
				assert.Equal(t, tc.phase, info.Phase())
				require.NotNil(t, info.Info(), "links and reasons travel in the task info")
				reason := reasonOf(info)
				if len(tc.reason) == 0 {
					assert.Empty(t, reason)
				}
				for _, want := range tc.reason {
					assert.Contains(t, reason, want)
				}
				if tc.phase.IsFailure() {
					require.NotNil(t, info.Err())
					assert.Equal(t, tc.kind, info.Err().GetKind())
					assert.Contains(t, info.Err().GetMessage(), p.kind+" failed", "the message names the job kind")
				} else {
					assert.Nil(t, info.Err())
				}
			})
		})
	}
}

// The current condition is the latest True one by transition time, from a
// list in any order; the list itself (propeller's informer cache) is left
// as it was.
func TestLatestTrueCondition(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conds []kubeflowv1.JobCondition
		phase pluginsCore.Phase
	}{
		{"running after created, listed first", []kubeflowv1.JobCondition{
			cond(kubeflowv1.JobRunning, v1.ConditionTrue, t2, "", ""),
			cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""),
		}, pluginsCore.PhaseRunning},
		{"a later condition that is False does not count", []kubeflowv1.JobCondition{
			cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""),
			cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", ""),
			cond(kubeflowv1.JobRestarting, v1.ConditionFalse, t3, "", ""),
			cond(kubeflowv1.JobFailed, v1.ConditionFalse, t3, "", ""),
		}, pluginsCore.PhaseRunning},
		{"succeeded out of order", []kubeflowv1.JobCondition{
			cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t3, "", ""),
			cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""),
			cond(kubeflowv1.JobRunning, v1.ConditionFalse, t2, "", ""),
		}, pluginsCore.PhaseSuccess},
		{"restarting after running", []kubeflowv1.JobCondition{
			cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", ""),
			cond(kubeflowv1.JobRestarting, v1.ConditionTrue, t2, "", ""),
			cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""),
		}, pluginsCore.PhaseRunning},
		{"a tie goes to the later in the list", []kubeflowv1.JobCondition{
			cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""),
			cond(kubeflowv1.JobRunning, v1.ConditionTrue, t2, "", ""),
			cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t2, "", ""),
		}, pluginsCore.PhaseSuccess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 1)
				obj := p.job(t, task, started(tc.conds...))
				before := append([]kubeflowv1.JobCondition(nil), tc.conds...)
				assert.Equal(t, tc.phase, p.phase(t, task, obj).Phase())
				assert.Equal(t, before, parts(obj).status.Conditions, "the job's conditions were reordered or changed")
				terminal, err := p.registered(t).(flyte2).IsTerminal(context.Background(), obj)
				require.NoError(t, err)
				assert.Equal(t, tc.phase.IsTerminal(), terminal)
			})
		})
	}
	assert.Equal(t, kubeflowv1.JobRunning, kf.Current([]kubeflowv1.JobCondition{
		cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", ""),
		cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", ""),
	}).Type)
	assert.Empty(t, kf.Current(nil).Type)
}

// A job the operator never reported on: queued until kf-operator.timeout
// has passed since it was created, then a system-retryable failure that
// says the operator may be missing. A suspended job (Kueue) and a job with
// conditions but no start time are never timed out.
func TestOperatorTimeout(t *testing.T) {
	withKF(t, kf.Config{Timeout: config.Duration{Duration: time.Minute}, MaxReplicaLinks: 32})
	suspend := true
	for _, tc := range []struct {
		name    string
		age     time.Duration
		suspend bool
		status  kubeflowv1.JobStatus
		phase   pluginsCore.Phase
		reason  string
	}{
		{name: "just created", age: 10 * time.Second, phase: pluginsCore.PhaseQueued, reason: "waiting"},
		{name: "no status past the timeout", age: 2 * time.Minute, phase: pluginsCore.PhaseRetryableFailure, reason: "installed"},
		{name: "suspended, no conditions, long ago", age: 48 * time.Hour, suspend: true, phase: pluginsCore.PhaseQueued, reason: "Suspended"},
		{name: "suspended, conditions all False, long ago", age: 48 * time.Hour, suspend: true,
			status: kubeflowv1.JobStatus{Conditions: []kubeflowv1.JobCondition{cond(kubeflowv1.JobRunning, v1.ConditionFalse, t1, "", "")}},
			phase:  pluginsCore.PhaseQueued, reason: "Suspended"},
		{name: "created condition, no start time, long ago", age: 48 * time.Hour,
			status: kubeflowv1.JobStatus{Conditions: []kubeflowv1.JobCondition{cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", "")}},
			phase:  pluginsCore.PhaseQueued, reason: "JobCreated"},
		{name: "suspended condition, no start time, long ago", age: 48 * time.Hour,
			status: kubeflowv1.JobStatus{Conditions: []kubeflowv1.JobCondition{cond(kubeflowv1.JobSuspended, v1.ConditionTrue, t0, "", "")}},
			phase:  pluginsCore.PhaseQueued, reason: "Suspended"},
		{name: "start time only, long ago", age: 48 * time.Hour, status: started(), phase: pluginsCore.PhaseQueued, reason: "waiting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 1)
				obj := p.job(t, task, tc.status)
				obj.SetCreationTimestamp(metav1.NewTime(time.Now().Add(-tc.age)))
				if tc.suspend {
					parts(obj).runPolicy.Suspend = &suspend
				}
				info := p.phase(t, task, obj)
				assert.Equal(t, tc.phase, info.Phase(), reasonOf(info))
				assert.Contains(t, reasonOf(info), tc.reason)
				if info.Phase().IsFailure() {
					assert.Equal(t, core.ExecutionError_SYSTEM, info.Err().GetKind())
					msg := info.Err().GetMessage()
					assert.Contains(t, msg, "Kubeflow Training Operator")
					assert.Contains(t, msg, p.kind+" "+namespace+"/"+jobName, "names the job")
				}
				terminal, err := p.registered(t).(flyte2).IsTerminal(context.Background(), obj)
				require.NoError(t, err)
				assert.False(t, terminal, "the operator is not done with a job it never saw")
			})
		})
	}
}

// A failed job is classified by the task's error file: none (pods killed,
// evicted, never started) is system-retryable with the operator's reason
// and message; RECOVERABLE is a retryable user failure; NON_RECOVERABLE a
// permanent one.
func TestFailureClassification(t *testing.T) {
	failed := started(
		cond(kubeflowv1.JobRunning, v1.ConditionFalse, t2, "", ""),
		cond(kubeflowv1.JobFailed, v1.ConditionTrue, t2, "JobFailed", "job has failed because 1 Worker replica(s) failed"),
	)
	for _, tc := range []struct {
		name      string
		errorFile *core.ContainerError_Kind
		phase     pluginsCore.Phase
		kind      core.ExecutionError_ErrorKind
		code      string
	}{
		{"no error file", nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_SYSTEM, "DownstreamSystemError"},
		{"recoverable", new(core.ContainerError_RECOVERABLE), pluginsCore.PhaseRetryableFailure, core.ExecutionError_USER, "TaskFailedWithError"},
		{"non-recoverable", new(core.ContainerError_NON_RECOVERABLE), pluginsCore.PhasePermanentFailure, core.ExecutionError_USER, "TaskFailedWithError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 2)
				task.GeneratedName = "failed-" + p.id + "-" + strings.ReplaceAll(tc.name, " ", "-")
				if tc.errorFile != nil {
					writeErrorFile(t, task, *tc.errorFile)
				}
				info := p.phase(t, task, p.job(t, task, failed))
				assert.Equal(t, tc.phase, info.Phase())
				require.NotNil(t, info.Err())
				assert.Equal(t, tc.kind, info.Err().GetKind())
				assert.Equal(t, tc.code, info.Err().GetCode())
				msg := info.Err().GetMessage()
				assert.Contains(t, msg, p.kind+" failed")
				assert.Contains(t, msg, "[JobFailed] job has failed because 1 Worker replica(s) failed", "the operator's reason and message")
				if tc.errorFile != nil {
					assert.Contains(t, msg, "RuntimeError: CUDA out of memory", "the task's own error")
				}
				require.NotNil(t, info.Info())
				assert.NotEmpty(t, info.Info().Logs, "a failed job still links its pods")
			})
		})
	}
}

// IsTerminal and GetCompletionTime, Flyte 2's view of a job: done once
// Succeeded or Failed; finished at the operator's completion time, else
// when the final condition became true, else creation; zero while running.
func TestTerminalAndCompletionTime(t *testing.T) {
	completion := metav1.NewTime(t3.Add(time.Minute))
	for _, tc := range []struct {
		name     string
		status   kubeflowv1.JobStatus
		terminal bool
		finished time.Time
	}{
		{"no status", kubeflowv1.JobStatus{}, false, time.Time{}},
		{"running", started(cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", "")), false, time.Time{}},
		{"restarting", started(cond(kubeflowv1.JobRestarting, v1.ConditionTrue, t1, "", "")), false, time.Time{}},
		{"suspended", started(cond(kubeflowv1.JobSuspended, v1.ConditionTrue, t1, "", "")), false, time.Time{}},
		{"running with a completion time", func() kubeflowv1.JobStatus {
			s := started(cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", ""))
			s.CompletionTime = &completion
			return s
		}(), false, time.Time{}},
		{"succeeded with completion time", func() kubeflowv1.JobStatus {
			s := started(cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t2, "", ""))
			s.CompletionTime = &completion
			return s
		}(), true, completion.Time},
		{"succeeded without completion time", started(cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", ""), cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t2, "", "")), true, t2},
		{"failed without completion time", started(cond(kubeflowv1.JobFailed, v1.ConditionTrue, t3, "", "")), true, t3},
		{"failed with no times at all", kubeflowv1.JobStatus{Conditions: []kubeflowv1.JobCondition{{Type: kubeflowv1.JobFailed, Status: v1.ConditionTrue}}}, true, created.Time},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				obj := p.job(t, p.workers(t, 1), tc.status)
				f2 := p.registered(t).(flyte2)
				terminal, err := f2.IsTerminal(context.Background(), obj)
				require.NoError(t, err)
				assert.Equal(t, tc.terminal, terminal)
				finished, err := f2.GetCompletionTime(obj)
				require.NoError(t, err)
				assert.True(t, tc.finished.Equal(finished), "finished %v, want %v", finished, tc.finished)
			})
		})
	}
}

// Another kind of object is an error, never a panic.
func TestWrongObject(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		plug := p.registered(t)
		for _, q := range allPlugins {
			if q.id == p.id {
				continue
			}
			other := q.mustBuild(t, q.workers(t, 1))
			_, err := plug.GetTaskPhase(context.Background(), kittest.New(p.workers(t, 1)), other)
			assert.Error(t, err, "%s given a %s", p.id, q.kind)
			_, err = plug.(flyte2).IsTerminal(context.Background(), other)
			assert.Error(t, err)
			_, err = plug.(flyte2).GetCompletionTime(other)
			assert.Error(t, err)
		}
	})
}

// Phase versions follow the live-view rule (spec/queueing.md, superseding
// propeller's): counted from the stored version, one step up when the
// phase repeats with another reason, Running included; never lower.
func TestPhaseVersion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		state  k8s.PluginState
		status kubeflowv1.JobStatus
		phase  pluginsCore.Phase
		want   uint32
		// above: only known to exceed want (Running's version carries a
		// fingerprint of what it shows).
		above bool
	}{
		{"new phase", k8s.PluginState{Phase: pluginsCore.PhaseNotReady, PhaseVersion: 3},
			started(cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", "")), pluginsCore.PhaseQueued, 0, false},
		{"queued, other reason (waiting -> created)", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 3, Reason: "waiting for the training operator"},
			started(cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", "")), pluginsCore.PhaseQueued, 4, false},
		{"queued, other reason (created -> suspended)", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 4, Reason: "JobCreated"},
			started(cond(kubeflowv1.JobSuspended, v1.ConditionTrue, t1, "", "")), pluginsCore.PhaseQueued, 5, false},
		{"queued, same reason: the stored version", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 3, Reason: "JobCreated"},
			started(cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", "")), pluginsCore.PhaseQueued, 3, false},
		{"running counts up from the stored version", k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 3, Reason: "x"},
			started(cond(kubeflowv1.JobRestarting, v1.ConditionTrue, t1, "", "")), pluginsCore.PhaseRunning, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 1)
				task.State = tc.state
				info := p.phase(t, task, p.job(t, task, tc.status))
				assert.Equal(t, tc.phase, info.Phase())
				if tc.above {
					assert.Greater(t, info.Version(), tc.want)
				} else {
					assert.Equal(t, tc.want, info.Version())
				}
			})
		})
	}
}

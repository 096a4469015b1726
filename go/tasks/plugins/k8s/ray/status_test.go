package ray_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// phaseOf runs GetTaskPhase of the registered plugin for a RayJob status.
func phaseOf(t *testing.T, task kittest.Task, status rayv1.RayJobStatus) pluginsCore.PhaseInfo {
	t.Helper()
	job := runningJob()
	job.Status = status
	phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), job)
	require.NoError(t, err)
	return phase
}

// reasonOf is a phase's reason wherever it travels: the phase reason, or
// the additional reasons of a Running phase.
func reasonOf(p pluginsCore.PhaseInfo) string {
	if p.Reason() != "" {
		return p.Reason()
	}
	if p.Err() != nil {
		return p.Err().GetMessage()
	}
	if info := p.Info(); info != nil && len(info.AdditionalReasons) > 0 {
		return info.AdditionalReasons[0].Reason
	}
	return ""
}

// Every row of spec/ray.md's status table, plus a status KubeRay may add.
func TestDeploymentStatusToPhase(t *testing.T) {
	for _, tc := range []struct {
		status rayv1.JobDeploymentStatus
		phase  pluginsCore.Phase
		reason string
	}{
		{rayv1.JobDeploymentStatusNew, pluginsCore.PhaseQueued, "Scheduling"},
		{rayv1.JobDeploymentStatusWaiting, pluginsCore.PhaseQueued, "Waiting"},
		{rayv1.JobDeploymentStatusSuspending, pluginsCore.PhaseQueued, "Suspending"},
		{rayv1.JobDeploymentStatusSuspended, pluginsCore.PhaseQueued, "Suspended"},
		{rayv1.JobDeploymentStatusInitializing, pluginsCore.PhaseInitializing, "cluster is creating"},
		{rayv1.JobDeploymentStatusRunning, pluginsCore.PhaseRunning, ""},
		{rayv1.JobDeploymentStatusRetrying, pluginsCore.PhaseRunning, "Retrying"},
		{rayv1.JobDeploymentStatusComplete, pluginsCore.PhaseSuccess, ""},
		{"SomethingNew", pluginsCore.PhaseRunning, `"SomethingNew"`},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			phase := phaseOf(t, rayTask(t, basicJob()), rayv1.RayJobStatus{JobDeploymentStatus: tc.status, JobStatus: rayv1.JobStatusSucceeded})
			assert.Equal(t, tc.phase, phase.Phase())
			if tc.reason == "" {
				assert.Empty(t, reasonOf(phase))
			} else {
				assert.Contains(t, reasonOf(phase), tc.reason)
			}
			assert.NotNil(t, phase.Info())
		})
	}
}

func TestValidationFailed(t *testing.T) {
	phase := phaseOf(t, rayTask(t, basicJob()), rayv1.RayJobStatus{
		JobDeploymentStatus: rayv1.JobDeploymentStatusValidationFailed,
		Reason:              rayv1.ValidationFailed,
		Message:             "The RayJob spec is invalid: activeDeadlineSeconds must be a positive integer",
	})
	assert.Equal(t, pluginsCore.PhasePermanentFailure, phase.Phase())
	assert.Equal(t, "TaskFailedWithError", phase.Err().GetCode())
	assert.Contains(t, phase.Err().GetMessage(), "activeDeadlineSeconds must be a positive integer")
	assert.True(t, phase.CleanupOnFailure())
}

// A job KubeRay calls Complete that someone stopped did not succeed.
func TestStoppedJob(t *testing.T) {
	phase := phaseOf(t, rayTask(t, basicJob()), rayv1.RayJobStatus{
		JobDeploymentStatus: rayv1.JobDeploymentStatusComplete,
		JobStatus:           rayv1.JobStatusStopped,
	})
	assert.Equal(t, pluginsCore.PhasePermanentFailure, phase.Phase())
	assert.Contains(t, phase.Err().GetMessage(), "stopped")
}

// Failed: infrastructure is system-retryable, the user's code failing is
// the user's failure, classified by the task's error file.
func TestFailureClassification(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reason    rayv1.JobFailedReason
		jobStatus rayv1.JobStatus
		errorKind *core.ContainerError_Kind
		phase     pluginsCore.Phase
		kind      core.ExecutionError_ErrorKind
	}{
		{"submitter lost", rayv1.SubmissionFailed, rayv1.JobStatusPending, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_SYSTEM},
		{"submitter lost while running", rayv1.SubmissionFailed, rayv1.JobStatusRunning, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_SYSTEM},
		{"cluster never came up before the deadline", rayv1.DeadlineExceeded, rayv1.JobStatusNew, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_SYSTEM},
		{"job ran past the deadline", rayv1.DeadlineExceeded, rayv1.JobStatusRunning, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_USER},
		{"head pod lost", rayv1.AppFailed, rayv1.JobStatusRunning, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_SYSTEM},
		{"grace period exceeded", rayv1.JobDeploymentStatusTransitionGracePeriodExceeded, rayv1.JobStatusFailed, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_SYSTEM},
		{"user code failed, no error file", rayv1.AppFailed, rayv1.JobStatusFailed, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_USER},
		{"user code failed, recoverable", rayv1.AppFailed, rayv1.JobStatusFailed, new(core.ContainerError_RECOVERABLE), pluginsCore.PhaseRetryableFailure, core.ExecutionError_USER},
		{"user code failed, non-recoverable", rayv1.AppFailed, rayv1.JobStatusFailed, new(core.ContainerError_NON_RECOVERABLE), pluginsCore.PhasePermanentFailure, core.ExecutionError_USER},
		{"unknown reason", "SomeFutureReason", rayv1.JobStatusFailed, new(core.ContainerError_NON_RECOVERABLE), pluginsCore.PhasePermanentFailure, core.ExecutionError_USER},
		{"no reason", "", rayv1.JobStatusFailed, nil, pluginsCore.PhaseRetryableFailure, core.ExecutionError_USER},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := rayTask(t, basicJob())
			task.GeneratedName = "fail-" + t.Name()[len("TestFailureClassification/"):]
			task = task.Defaults()
			if tc.errorKind != nil {
				writeErrorFile(t, task, *tc.errorKind)
			}
			phase := phaseOf(t, task, rayv1.RayJobStatus{
				JobDeploymentStatus: rayv1.JobDeploymentStatusFailed,
				JobStatus:           tc.jobStatus,
				Reason:              tc.reason,
				Message:             "kuberay says why",
			})
			assert.Equal(t, tc.phase, phase.Phase())
			require.NotNil(t, phase.Err())
			assert.Equal(t, tc.kind, phase.Err().GetKind())
			assert.Equal(t, "TaskFailedWithError", phase.Err().GetCode())
			assert.Contains(t, phase.Err().GetMessage(), "kuberay says why")
			if tc.reason != "" {
				assert.Contains(t, phase.Err().GetMessage(), string(tc.reason))
			}
			if tc.errorKind != nil {
				assert.Contains(t, phase.Err().GetMessage(), "ValueError: boom", "the task's own error is reported")
			}
			assert.True(t, phase.CleanupOnFailure())
		})
	}
}

func writeErrorFile(t *testing.T, task kittest.Task, kind core.ContainerError_Kind) {
	t.Helper()
	doc := &core.ErrorDocument{Error: &core.ContainerError{
		Code: "USER:ValueError", Message: "ValueError: boom", Kind: kind, Origin: core.ExecutionError_USER,
	}}
	path := task.OutputPrefix + "/error.pb"
	require.NoError(t, kittest.New(task).DataStore().WriteProtobuf(context.Background(), path, storage.Options{}, doc))
	t.Cleanup(func() { _ = kittest.New(task).DataStore().Delete(context.Background(), path) })
}

// Phase versions follow the live-view rule (spec/queueing.md, superseding
// propeller's): counted from the stored version, one step up when the
// phase repeats with another reason, Running included; never lower.
func TestPhaseVersion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		state  k8s.PluginState
		status rayv1.JobDeploymentStatus
		want   uint32
		// above: only known to exceed want (Running's version carries a
		// fingerprint of what it shows).
		above bool
	}{
		{"new phase", k8s.PluginState{Phase: pluginsCore.PhaseNotReady, PhaseVersion: 3}, rayv1.JobDeploymentStatusNew, 0, false},
		{"same phase, other reason", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 3, Reason: "Scheduling"}, rayv1.JobDeploymentStatusSuspended, 4, false},
		{"same phase, same reason: the stored version", k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 3, Reason: "Suspended"}, rayv1.JobDeploymentStatusSuspended, 3, false},
		{"running counts up from the stored version", k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 3}, rayv1.JobDeploymentStatusRetrying, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := rayTask(t, basicJob())
			task.State = tc.state
			phase := phaseOf(t, task, rayv1.RayJobStatus{JobDeploymentStatus: tc.status})
			if tc.above {
				assert.Greater(t, phase.Version(), tc.want)
			} else {
				assert.Equal(t, tc.want, phase.Version())
			}
		})
	}
}

// An error file too large to read is a retryable failure, not an error
// that would make propeller retry the round forever.
func TestErrorFileUnreadable(t *testing.T) {
	task := rayTask(t, basicJob())
	task.GeneratedName = "fail-huge-error-file"
	task = task.Defaults()
	huge := make([]byte, 11*1024*1024)
	path := task.OutputPrefix + "/error.pb"
	require.NoError(t, kittest.New(task).DataStore().WriteRaw(context.Background(), path, int64(len(huge)), storage.Options{}, bytesReader(huge)))
	t.Cleanup(func() { _ = kittest.New(task).DataStore().Delete(context.Background(), path) })
	phase := phaseOf(t, task, rayv1.RayJobStatus{JobDeploymentStatus: rayv1.JobDeploymentStatusFailed, JobStatus: rayv1.JobStatusFailed, Reason: rayv1.AppFailed})
	assert.Equal(t, pluginsCore.PhaseRetryableFailure, phase.Phase())
	assert.Contains(t, phase.Err().GetMessage(), "too large")
}

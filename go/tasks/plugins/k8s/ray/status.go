package ray

import (
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// userFailure classifies a failure of the user's code by the task's error
// file: RECOVERABLE is a retryable failure, NON_RECOVERABLE a permanent
// one. Without an error file the failure is retryable, as the error reader
// itself treats a missing file.
var userFailure = func() kit.ErrorFileOptions {
	rule := kit.Rule{Outcome: kit.RetryableFailure, Code: errors.TaskFailedWithError, Reason: "Ray job failed", Cleanup: true}
	return kit.ErrorFileOptions{Present: rule, Absent: rule}
}()

// operator names KubeRay in reasons for states it reports that this plugin
// does not know.
const operator = "KubeRay"

// deploymentTable maps every JobDeploymentStatus of KubeRay v1.5 to a
// phase. Failed is refined by failureTable, Complete by stoppedRule; a
// status missing here (a newer KubeRay's) is running, by kit.Lookup. The
// tests walk this table against KubeRay's constants.
var deploymentTable = map[rayv1.JobDeploymentStatus]kit.Rule{
	rayv1.JobDeploymentStatusNew: {Outcome: kit.Queued, Reason: "Scheduling"},
	// Interactive mode: the cluster waits for someone to submit the job.
	rayv1.JobDeploymentStatusWaiting: {Outcome: kit.Queued, Reason: "Waiting"},
	// A queueing system (Kueue) parked the job; its cluster is gone.
	rayv1.JobDeploymentStatusSuspending:   {Outcome: kit.Queued, Reason: "Suspending"},
	rayv1.JobDeploymentStatusSuspended:    {Outcome: kit.Queued, Reason: "Suspended"},
	rayv1.JobDeploymentStatusInitializing: {Outcome: kit.Initializing, Reason: "cluster is creating"},
	rayv1.JobDeploymentStatusRunning:      {Outcome: kit.Running},
	// KubeRay retries the job on a new cluster (spec.backoffLimit).
	rayv1.JobDeploymentStatusRetrying: {Outcome: kit.Running, Reason: "Retrying"},
	rayv1.JobDeploymentStatusComplete: {Outcome: kit.Succeeded},
	// KubeRay rejected the RayJob: no retry can fix it.
	rayv1.JobDeploymentStatusValidationFailed: {
		Outcome: kit.PermanentFailure, Code: errors.TaskFailedWithError, Reason: "KubeRay rejected the RayJob", Cleanup: true,
	},
	// Placeholder: failures are classified by failureTable.
	rayv1.JobDeploymentStatusFailed: {
		Outcome: kit.RetryableFailure, Code: errors.TaskFailedWithError, Reason: "Ray job failed", Cleanup: true,
	},
}

// stoppedRule is a job KubeRay calls Complete though someone stopped it
// (`ray job stop`): it did not succeed, and a person chose to end it.
var stoppedRule = kit.Rule{Outcome: kit.PermanentFailure, Code: errors.TaskFailedWithError, Reason: "Ray job was stopped", Cleanup: true}

// jobStage is how far the user's code got, by Ray's own job status.
type jobStage uint8

const (
	// stageNotStarted: no Ray job status, or PENDING; the code never ran.
	stageNotStarted jobStage = iota
	// stageStarted: RUNNING or later without Ray saying it failed.
	stageStarted
	// stageFailed: Ray reports the job FAILED; the code itself failed.
	stageFailed

	numStages
)

func stageOf(s rayv1.JobStatus) jobStage {
	switch s {
	case rayv1.JobStatusNew, rayv1.JobStatusPending:
		return stageNotStarted
	case rayv1.JobStatusFailed:
		return stageFailed
	}
	return stageStarted
}

// failure is how a Failed RayJob is classified: a fixed rule, or userJob,
// where the task's error file decides (see userFailure).
type failure struct {
	rule    kit.Rule
	userJob bool
}

func infra(reason string) failure {
	return failure{rule: kit.Rule{Outcome: kit.SystemRetryableFailure, Code: errors.TaskFailedWithError, Reason: reason, Cleanup: true}}
}

var (
	userJob          = failure{userJob: true}
	submitterLost    = infra("Ray job submission failed")
	clusterLost      = infra("Ray cluster lost")
	clusterTooSlow   = infra("Ray cluster did not start before the task's deadline")
	statusLost       = infra("KubeRay did not see the Ray job finish in time")
	userTimeout      = failure{rule: kit.Rule{Outcome: kit.RetryableFailure, Code: errors.TaskFailedWithError, Reason: "Ray job exceeded the task's deadline", Cleanup: true}}
	rejected         = failure{rule: kit.Rule{Outcome: kit.PermanentFailure, Code: errors.TaskFailedWithError, Reason: "KubeRay rejected the RayJob", Cleanup: true}}
	unknownReasonRow = [numStages]failure{userJob, userJob, userJob}
)

// failureTable classifies a Failed RayJob by KubeRay's reason and how far
// the user's code got. Infrastructure (the submitter or cluster lost, a
// cluster that never came up before the deadline, KubeRay losing track of
// the job) is system-retryable; the user's code failing is the user's
// failure, which the error file classifies. A reason missing here is read
// as the user's failure.
var failureTable = map[rayv1.JobFailedReason][numStages]failure{
	rayv1.SubmissionFailed: {submitterLost, submitterLost, userJob},
	// The deadline is the task's timeout: a cluster stuck initializing
	// (bad image, no capacity) is infrastructure; a job running too long
	// is the user's.
	rayv1.DeadlineExceeded: {clusterTooSlow, userTimeout, userJob},
	// KubeRay also says AppFailed when the head pod or the submitted job
	// vanished; only Ray's FAILED means the code failed.
	rayv1.AppFailed: {clusterLost, clusterLost, userJob},
	rayv1.JobDeploymentStatusTransitionGracePeriodExceeded: {statusLost, statusLost, statusLost},
	rayv1.ValidationFailed:                                 {rejected, rejected, rejected},
}

// classifyFailure returns the failure row of a Failed RayJob.
func classifyFailure(status *rayv1.RayJobStatus) failure {
	row, ok := failureTable[status.Reason]
	if !ok {
		row = unknownReasonRow
	}
	return row[stageOf(status.JobStatus)]
}

// failureDetail is KubeRay's account of a failure: "[reason] message".
func failureDetail(status *rayv1.RayJobStatus) string {
	switch {
	case status.Reason == "":
		return status.Message
	case status.Message == "":
		return "[" + string(status.Reason) + "]"
	}
	return "[" + string(status.Reason) + "] " + status.Message
}

// terminal reports whether KubeRay is done with the job.
func terminal(s rayv1.JobDeploymentStatus) bool {
	switch s {
	case rayv1.JobDeploymentStatusComplete, rayv1.JobDeploymentStatusFailed, rayv1.JobDeploymentStatusValidationFailed:
		return true
	}
	return false
}

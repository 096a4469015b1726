package kf

import (
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// operator names the Training Operator in reasons for conditions this
// plugin does not know.
const operator = "the Kubeflow Training Operator"

// noCondition is the state of a job whose conditions are all False, or
// that has none yet.
const noCondition kubeflowv1.JobConditionType = ""

// conditionTable maps the job's current condition (the latest one that is
// True) to a phase. Failed is refined by the task's error file (failure);
// a condition missing here (a newer operator's) is running, by kit.Lookup.
// The tests walk this table against the operator's constants.
var conditionTable = map[kubeflowv1.JobConditionType]kit.Rule{
	noCondition:           {Outcome: kit.Queued, Reason: "waiting for the training operator"},
	kubeflowv1.JobCreated: {Outcome: kit.Queued, Reason: "JobCreated"},
	// Kueue holds jobs this way; a suspended job is never timed out.
	kubeflowv1.JobSuspended:  {Outcome: kit.Queued, Reason: "Suspended"},
	kubeflowv1.JobRunning:    {Outcome: kit.Running},
	kubeflowv1.JobRestarting: {Outcome: kit.Running, Reason: "Restarting"},
	kubeflowv1.JobSucceeded:  {Outcome: kit.Succeeded},
	kubeflowv1.JobFailed:     failure.Absent,
}

// failure classifies a failed job by the task's error file: the task
// wrote one (its code failed): a user failure, retryable when it says
// RECOVERABLE; none (a pod was killed, evicted, could not start): a
// system-retryable one.
var failure = kit.ErrorFileOptions{
	Present: kit.Rule{Outcome: kit.RetryableFailure, Code: errors.TaskFailedWithError, Reason: "job failed"},
	Absent:  kit.Rule{Outcome: kit.SystemRetryableFailure, Code: errors.DownstreamSystemError, Reason: "job failed"},
}

// notPickedUp is the failure of a job the operator never reported on.
var notPickedUp = kit.Rule{Outcome: kit.SystemRetryableFailure, Code: "OperatorNotResponding"}

// Current is the job's current condition: the latest condition with status
// True by transition time (the later one in the list on a tie), or the
// zero condition when none is True. The list is not reordered: it belongs
// to propeller's informer cache.
func Current(conditions []kubeflowv1.JobCondition) kubeflowv1.JobCondition {
	var cur kubeflowv1.JobCondition
	found := false
	for i := range conditions {
		c := &conditions[i]
		if c.Status != corev1.ConditionTrue {
			continue
		}
		if !found || !c.LastTransitionTime.Time.Before(cur.LastTransitionTime.Time) {
			cur, found = *c, true
		}
	}
	return cur
}

// Terminal reports whether the operator is done with a job: its current
// condition is Succeeded or Failed.
func Terminal(status *kubeflowv1.JobStatus) bool { return terminal(Current(status.Conditions)) }

func terminal(cur kubeflowv1.JobCondition) bool {
	return cur.Type == kubeflowv1.JobSucceeded || cur.Type == kubeflowv1.JobFailed
}

// Finished is when a terminal job finished: the operator's completion
// time, else when its final condition became true, else created.
func Finished(status *kubeflowv1.JobStatus, created time.Time) time.Time {
	return finished(status, Current(status.Conditions), created)
}

// finished is Finished with the current condition already found.
func finished(status *kubeflowv1.JobStatus, cur kubeflowv1.JobCondition, created time.Time) time.Time {
	var completion time.Time
	if status.CompletionTime != nil {
		completion = status.CompletionTime.Time
	}
	return kit.FirstTime(completion, cur.LastTransitionTime.Time, created)
}

// detail is the operator's account of a condition: "[reason] message".
func detail(c kubeflowv1.JobCondition) string {
	switch {
	case c.Reason == "":
		return c.Message
	case c.Message == "":
		return "[" + c.Reason + "]"
	}
	return "[" + c.Reason + "] " + c.Message
}

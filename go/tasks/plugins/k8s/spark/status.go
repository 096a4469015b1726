package spark

import (
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// stateTable maps every application state of spark-operator v2.5 to a
// phase. A state missing here (a newer operator's) is running, by
// kit.Lookup; the test walks this table and the operator's constants.
var stateTable = map[sparkv1beta2.ApplicationStateType]kit.Rule{
	sparkv1beta2.ApplicationStateNew:       {Outcome: kit.Queued, Reason: "job queued"},
	sparkv1beta2.ApplicationStateSubmitted: {Outcome: kit.Initializing, Reason: "job submitted"},
	sparkv1beta2.ApplicationStateRunning:   {Outcome: kit.Running},
	// The operator is re-running, tearing down for a re-run, or finishing:
	// the application is still alive.
	sparkv1beta2.ApplicationStatePendingRerun: {Outcome: kit.Running, Reason: "job pending rerun"},
	sparkv1beta2.ApplicationStateInvalidating: {Outcome: kit.Running, Reason: "job invalidating"},
	sparkv1beta2.ApplicationStateSucceeding:   {Outcome: kit.Running, Reason: "job succeeding"},
	sparkv1beta2.ApplicationStateFailing:      {Outcome: kit.Running, Reason: "job failing"},
	// Suspension (operator 2.5) is how a queue (Kueue) holds an application
	// it has not admitted, or has evicted: the task waits, so it is Queued,
	// as for every plugin (spec/queueing.md, which supersedes spark.md's
	// Running here); resuming recreates the driver, so it is Initializing.
	sparkv1beta2.ApplicationStateSuspending: {Outcome: kit.Queued, Reason: "job suspending"},
	sparkv1beta2.ApplicationStateSuspended:  {Outcome: kit.Queued, Reason: "job suspended"},
	sparkv1beta2.ApplicationStateResuming:   {Outcome: kit.Initializing, Reason: "job resuming"},
	sparkv1beta2.ApplicationStateCompleted:  {Outcome: kit.Succeeded},
	sparkv1beta2.ApplicationStateFailedSubmission: {
		Outcome: kit.RetryableFailure, Code: errors.DownstreamSystemError, Reason: "Spark job submission failed",
	},
	sparkv1beta2.ApplicationStateFailed: {
		Outcome: kit.RetryableFailure, Code: errors.DownstreamSystemError, Reason: "Spark job failed",
	},
	sparkv1beta2.ApplicationStateUnknown: {Outcome: kit.Running, Reason: `spark-operator reports state "UNKNOWN"`},
}

// terminal reports whether the operator is done with the application: the
// states whose rows are Succeeded or a failure.
func terminal(state sparkv1beta2.ApplicationStateType) bool {
	switch state {
	case sparkv1beta2.ApplicationStateCompleted, sparkv1beta2.ApplicationStateFailed, sparkv1beta2.ApplicationStateFailedSubmission:
		return true
	}
	return false
}

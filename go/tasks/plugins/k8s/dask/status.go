package dask

import (
	"fmt"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// operatorName names the operator in the reason of a status it reports and
// this table does not know.
const operatorName = "dask-operator"

// statusTable maps every job status of the dask operator to a phase. A
// status missing here (a newer operator's) is running, by kit.Lookup; the
// test walks this table, the operator's constants and a future string.
var statusTable = map[daskAPI.JobStatus]kit.Rule{
	// The operator has not written a status yet.
	"":                            {Outcome: kit.Initializing, Reason: "unknown"},
	daskAPI.DaskJobCreated:        {Outcome: kit.Initializing, Reason: "job created"},
	daskAPI.DaskJobClusterCreated: {Outcome: kit.Initializing, Reason: "cluster created"},
	daskAPI.DaskJobRunning:        {Outcome: kit.Running},
	daskAPI.DaskJobSuccessful:     {Outcome: kit.Succeeded},
	daskAPI.DaskJobFailed: {
		Outcome: kit.RetryableFailure, Code: errors.DownstreamSystemError, Reason: "Dask job failed",
	},
}

// phase maps the job's status to a phase carrying info.
func phase(job *daskAPI.DaskJob, info *pluginsCore.TaskInfo) pluginsCore.PhaseInfo {
	status := job.Status.JobStatus
	rule := kit.Lookup(statusTable, operatorName, status)
	detail := ""
	if status == daskAPI.DaskJobFailed {
		detail = failureDetail(job)
	}
	return rule.Phase(detail, info)
}

// failureDetail names the job, its cluster and when it ended; the cause is
// in the job-runner pod's logs, which the operator does not summarise.
func failureDetail(job *daskAPI.DaskJob) string {
	ended := "at an unknown time"
	if t := job.Status.EndTime; !t.IsZero() {
		ended = "at " + t.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("DaskJob %q on cluster %q ended %s; see the job-runner pod %q's logs for the cause",
		job.Name, clusterName(job), ended, runnerPodName(job))
}

// terminal reports whether the operator is done with the job: the statuses
// whose rows are Succeeded or a failure.
func terminal(s daskAPI.JobStatus) bool {
	return s == daskAPI.DaskJobSuccessful || s == daskAPI.DaskJobFailed
}

package dask

import (
	"testing"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// operatorStatuses are every job status the dask operator's Go client
// names, plus the empty status of a job the operator has not seen yet.
var operatorStatuses = []daskAPI.JobStatus{
	"",
	daskAPI.DaskJobCreated,
	daskAPI.DaskJobClusterCreated,
	daskAPI.DaskJobRunning,
	daskAPI.DaskJobSuccessful,
	daskAPI.DaskJobFailed,
}

// TestStatusTableIsExhaustive walks the table both ways: every operator
// status has a row, every row is an operator status, terminal() agrees with
// the rows, and a future string is running with a reason naming it.
func TestStatusTableIsExhaustive(t *testing.T) {
	known := map[daskAPI.JobStatus]bool{}
	for _, s := range operatorStatuses {
		known[s] = true
		rule, ok := statusTable[s]
		if !ok {
			t.Errorf("status %q has no row", s)
			continue
		}
		final := rule.Outcome == kit.Succeeded || rule.Outcome == kit.RetryableFailure ||
			rule.Outcome == kit.SystemRetryableFailure || rule.Outcome == kit.PermanentFailure
		if final != terminal(s) {
			t.Errorf("status %q: row outcome %v but terminal() = %v", s, rule.Outcome, terminal(s))
		}
		if rule.Outcome == kit.RetryableFailure && rule.Code == "" {
			t.Errorf("status %q: a failure row needs an error code", s)
		}
	}
	for s := range statusTable {
		if !known[s] {
			t.Errorf("row %q is not a status the operator writes", s)
		}
	}
	for _, future := range []daskAPI.JobStatus{"Suspended", "Pending", "running", "\x00"} {
		rule := kit.Lookup(statusTable, operatorName, future)
		if rule.Outcome != kit.Running {
			t.Errorf("future status %q: %v, want Running", future, rule.Outcome)
		}
		if terminal(future) {
			t.Errorf("future status %q is terminal", future)
		}
	}
}

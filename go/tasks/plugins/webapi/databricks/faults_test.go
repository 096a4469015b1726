package databricks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// faultCase is one fault the plugin must ride out.
type faultCase struct {
	name  string
	fault fakeapi.Fault
	count int
	// shortTimeout makes the plugin's HTTP timeout shorter than the fault's
	// delay, so the slow answer is a timeout.
	shortTimeout bool
}

func faultCases() []faultCase {
	var cases []faultCase
	for _, after := range []bool{false, true} {
		suffix := ""
		if after {
			suffix = "/after-effect"
		}
		cases = append(cases,
			faultCase{name: "429" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultRateLimit, AfterEffect: after}, count: 2},
			faultCase{name: "500" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultInternalError, AfterEffect: after}, count: 2},
			faultCase{name: "503" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultUnavailable, AfterEffect: after}, count: 3},
			faultCase{name: "malformed-json" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultMalformedJSON, AfterEffect: after}, count: 2},
			faultCase{name: "drop-connection" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultDropConnection, AfterEffect: after}, count: 2},
			faultCase{name: "slow" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultSlow, Delay: 20 * time.Millisecond, AfterEffect: after}, count: 1},
			faultCase{name: "timeout" + suffix, fault: fakeapi.Fault{Kind: fakeapi.FaultSlow, Delay: 3 * time.Second, AfterEffect: after},
				count: 1, shortTimeout: true},
		)
	}
	return cases
}

// TestFaultMatrix injects each fault into each endpoint and walks a run from
// submission to cancellation: every call must get through, there must be
// exactly one run, and the phases must be the ones without faults.
func TestFaultMatrix(t *testing.T) {
	for _, ep := range fakeapi.Endpoints {
		for _, c := range faultCases() {
			t.Run(fmt.Sprintf("%s/%s", ep, c.name), func(t *testing.T) {
				var mutate []func(*databricks.Config)
				if c.shortTimeout {
					mutate = append(mutate, func(cfg *databricks.Config) {
						cfg.HTTPTimeout = config.Duration{Duration: 300 * time.Millisecond}
					})
				}
				e := newEnv(t, fakeapi.Options{Manual: true}, mutate...)
				require.NoError(t, e.api.InjectFault(ep, c.fault, c.count))
				k := newTask(t, taskSpec{conf: newClusterConf(nil)})

				meta := e.create(k)
				e.api.Advance(meta.RunID, 2)
				assert.Equal(t, core.PhaseRunning, e.phase(k, meta).Phase())
				require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
				ph := e.phase(k, meta)
				assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
				assert.Equal(t, "DatabricksRunCanceled", ph.Err().GetCode())

				run := e.onlyRun()
				assert.Equal(t, meta.RunID, run.RunID)
				assert.Equal(t, "CANCELED", run.State.ResultState)
				assert.Zero(t, e.api.PendingFaults(ep), "every injected fault was met and retried")
			})
		}
	}
}

// TestRetriesAreBounded: a fault that outlasts the retry budget ends the
// call without failing the attempt (the machinery would fail it, orphaning a
// run whose answer was lost, or spending a user retry on an outage): Create
// records the unconfirmed submission, and polling submits it again with the
// same idempotency token, which finds the one run.
func TestRetriesAreBounded(t *testing.T) {
	for _, kind := range []fakeapi.FaultKind{fakeapi.FaultUnavailable, fakeapi.FaultDropConnection, fakeapi.FaultMalformedJSON} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, fakeapi.Options{Manual: true})
			attempts := e.cfg.Retry.MaxAttempts
			require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: kind, AfterEffect: true}, attempts))
			k := newTask(t, taskSpec{conf: newClusterConf(nil)})

			meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
			require.NoError(t, err, "out of retries: not a failure of the attempt")
			assert.Nil(t, res)
			pending, ok := meta.(databricks.RunMeta)
			require.True(t, ok)
			assert.Zero(t, pending.RunID, "unconfirmed")
			assert.NotEmpty(t, pending.PendingSubmit)
			assert.NotContains(t, string(pending.PendingSubmit), platformToken)
			assert.Zero(t, e.api.PendingFaults(fakeapi.EndpointSubmit), "no more than maxAttempts tries")
			first := e.onlyRun()
			assert.Equal(t, attempts, first.Submissions)

			ph := e.phase(k, pending)
			assert.Equal(t, core.PhaseQueued, ph.Phase(), "polling confirms the run")
			require.NotEmpty(t, ph.Info().Logs)
			assert.Contains(t, ph.Info().Logs[0].GetUri(), fmt.Sprint(first.RunID))
			assert.Equal(t, attempts+1, e.onlyRun().Submissions, "the same run, found again")
		})
	}
}

// A submission Databricks never received (busy) is made by the next poll;
// while Databricks stays busy the task waits in Queued, and past the
// patience the attempt fails as a retryable system failure.
func TestUnconfirmedSubmissionWhileDatabricksIsDown(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	attempts := e.cfg.Retry.MaxAttempts
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: fakeapi.FaultUnavailable}, 2*attempts))
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta, _, err := e.plugin.Create(context.Background(), k.createCtx())
	require.NoError(t, err)
	assert.Empty(t, e.api.Runs())

	ph := e.phase(k, meta)
	assert.Equal(t, core.PhaseQueued, ph.Phase())
	assert.Contains(t, ph.Reason(), "has not confirmed the submission")
	assert.Empty(t, ph.Info().Logs, "no run, no link")
	assert.Empty(t, e.api.Runs())

	ph = e.phase(k, meta)
	assert.Equal(t, core.PhaseQueued, ph.Phase())
	assert.Len(t, e.api.Runs(), 1, "Databricks is back: the run is submitted")

	stale := meta.(databricks.RunMeta)
	stale.SubmitSince = time.Now().Add(-time.Hour)
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: fakeapi.FaultUnavailable}, attempts))
	ph = e.phase(k, stale)
	assert.Equal(t, core.PhaseRetryableFailure, ph.Phase())
	assert.Equal(t, "DatabricksSubmitUnconfirmed", ph.Err().GetCode())
	assert.Equal(t, idlcore.ExecutionError_SYSTEM, ph.Err().GetKind())
}

// Aborting a task whose submission is unconfirmed cancels the run the
// submission may have created: never an orphan.
func TestAbortWithAnUnconfirmedSubmission(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: fakeapi.FaultDropConnection, AfterEffect: true}, e.cfg.Retry.MaxAttempts))
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta, _, err := e.plugin.Create(context.Background(), k.createCtx())
	require.NoError(t, err)
	require.Len(t, e.api.Runs(), 1, "the lost answers were about a run that exists")
	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
	run := e.onlyRun()
	assert.Equal(t, "CANCELED", run.State.ResultState)
}

// TestRestartBetweenSubmitAndStateSaved: propeller submits, dies before it
// saves the plugin state, and a new process runs Create again for the same
// attempt. There must be one run.
func TestRestartBetweenSubmitAndStateSaved(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	before := e.create(k)

	restarted := load(t, e.cfg, secretsFor(map[string]string{databricks.DefaultTokenKey: platformToken}))
	meta, res, err := restarted.Create(context.Background(), newTask(t, taskSpec{conf: newClusterConf(nil)}).createCtx())
	require.NoError(t, err)
	require.Nil(t, res)
	assert.Equal(t, before, meta)
	run := e.onlyRun()
	assert.Equal(t, 2, run.Submissions)
	assert.Equal(t, before.RunID, run.RunID)
}

// TestLongRetryAfterEndsTheCall: a Retry-After beyond retry.maxBackoff is not
// waited out inside the call; the submission is left unconfirmed, and no
// call goes to that workspace until the pause is over (client_test checks
// the end of the pause).
func TestLongRetryAfterEndsTheCall(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit,
		fakeapi.Fault{Kind: fakeapi.FaultRateLimit, RetryAfter: time.Hour}, 1))
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
	require.NoError(t, err)
	assert.Nil(t, res)
	assert.Zero(t, meta.(databricks.RunMeta).RunID)
	assert.Empty(t, e.api.Runs())
	calls := len(e.api.Requests())

	// Polling honours the pause: no request, the task waits in Queued.
	ph := e.phase(k, meta)
	assert.Equal(t, core.PhaseQueued, ph.Phase())
	assert.Contains(t, ph.Reason(), "Retry-After")
	assert.Len(t, e.api.Requests(), calls, "nothing sent during the pause Databricks asked for")
}

// TestPollingOutOfRetries: a poll that runs out of retries is an error (the
// web-API cache counts it against maxSystemFailures), not a phase.
func TestPollingOutOfRetries(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: fakeapi.FaultInternalError}, e.cfg.Retry.MaxAttempts))
	_, err := e.plugin.Get(context.Background(), getCtx(meta))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 500")
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointCancel, fakeapi.Fault{Kind: fakeapi.FaultInternalError}, e.cfg.Retry.MaxAttempts))
	require.Error(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())
}

// TestCancelledContextIsNotAFailure: a call cut short by propeller (its
// context cancelled, say at shutdown) is an error to retry, never a verdict
// on the task.
func TestCancelledContextIsNotAFailure(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	meta, res, err := e.plugin.Create(ctx, k.createCtx())
	require.Error(t, err)
	assert.Nil(t, meta)
	assert.Nil(t, res)

	m := e.create(k)
	got, err := e.plugin.Get(ctx, getCtx(m))
	require.Error(t, err)
	assert.Nil(t, got)
	require.Error(t, e.plugin.Delete(ctx, deleteCtx(m)))
}

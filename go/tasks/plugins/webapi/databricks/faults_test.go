package databricks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// TestRetriesAreBounded: a fault that outlasts the retry budget ends the call
// with an error the machinery retries later, and the retry still finds the
// one run the lost answer was about.
func TestRetriesAreBounded(t *testing.T) {
	for _, kind := range []fakeapi.FaultKind{fakeapi.FaultUnavailable, fakeapi.FaultDropConnection, fakeapi.FaultMalformedJSON} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, fakeapi.Options{Manual: true})
			attempts := e.cfg.Retry.MaxAttempts
			require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: kind, AfterEffect: true}, attempts))
			k := newTask(t, taskSpec{conf: newClusterConf(nil)})

			meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
			require.Error(t, err, "out of retries: a retryable error")
			assert.Nil(t, meta)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), fmt.Sprintf("after %d attempts", attempts))
			assert.NotContains(t, err.Error(), platformToken)
			assert.Zero(t, e.api.PendingFaults(fakeapi.EndpointSubmit), "no more than maxAttempts tries")
			first := e.onlyRun()
			assert.Equal(t, attempts, first.Submissions)

			again := e.create(k)
			assert.Equal(t, first.RunID, again.RunID, "the next round finds the run")
			assert.Equal(t, attempts+1, e.onlyRun().Submissions)
		})
	}
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
// waited out inside the call; the call ends with a retryable error at once.
func TestLongRetryAfterEndsTheCall(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit,
		fakeapi.Fault{Kind: fakeapi.FaultRateLimit, RetryAfter: time.Hour}, 1))
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	_, res, err := e.plugin.Create(context.Background(), k.createCtx())
	require.Error(t, err)
	assert.Nil(t, res)
	assert.Contains(t, err.Error(), "HTTP 429")
	assert.Empty(t, e.api.Runs())
	meta := e.create(k)
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())
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

package databricks_test

import (
	"context"
	"sync"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// fakeClock is a clock the test moves; waits between tries move it too.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// outageEnv is a workspace answering every submission with 503, polled by a
// plugin with the default retry policy on a fake clock.
func outageEnv(t *testing.T) (*env, *fakeClock) {
	e := newEnv(t, fakeapi.Options{Manual: true}, func(cfg *databricks.Config) {
		cfg.Retry = baseline.Retry
	})
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: fakeapi.FaultUnavailable}, 10000))
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	databricks.SetClock(e.plugin, clock.Now, clock.Sleep)
	return e, clock
}

func (e *env) submits() int {
	n := 0
	for _, r := range e.api.Requests() {
		if r.Endpoint == fakeapi.EndpointSubmit {
			n++
		}
	}
	return n
}

// TestOutageBacksOffAcrossPolls: under a persistent 503, polling once a
// second for 30 minutes (the storm the issue measured: 31 submits in 30 s)
// costs each task at most 20 submissions, after which the task fails as a
// retryable system failure that says why. Two tasks share the workspace's
// backoff.
func TestOutageBacksOffAcrossPolls(t *testing.T) {
	e, clock := outageEnv(t)
	start := clock.Now()
	tasks := []*task{newTask(t, taskSpec{conf: newClusterConf(nil), name: "a"}), newTask(t, taskSpec{conf: newClusterConf(nil), name: "b"})}
	metas := make([]webapi.ResourceMeta, len(tasks))
	perTask := make([]int, len(tasks))
	for i, k := range tasks {
		before := e.submits()
		meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
		require.NoError(t, err)
		require.Nil(t, res)
		metas[i] = meta
		perTask[i] += e.submits() - before
	}
	final := make([]core.PhaseInfo, len(tasks))
	for clock.Now().Sub(start) < 31*time.Minute {
		for i, k := range tasks {
			if final[i].Phase().IsTerminal() {
				continue
			}
			before := e.submits()
			ph := e.phase(k, metas[i])
			perTask[i] += e.submits() - before
			if ph.Phase().IsTerminal() {
				final[i] = ph
				continue
			}
			assert.Equal(t, core.PhaseQueued, ph.Phase())
			assert.Contains(t, ph.Reason(), "has not confirmed the submission")
		}
		clock.Advance(time.Second)
	}
	for i := range tasks {
		assert.LessOrEqual(t, perTask[i], 20, "submissions of task %d in its first 30 minutes", i)
		ph := final[i]
		require.Equal(t, core.PhaseRetryableFailure, ph.Phase(), "task %d", i)
		assert.Equal(t, "DatabricksSubmitUnconfirmed", ph.Err().GetCode())
		assert.Equal(t, idlcore.ExecutionError_SYSTEM, ph.Err().GetKind())
		assert.Contains(t, ph.Err().GetMessage(), "backed off")
		assert.Contains(t, ph.Err().GetMessage(), "Flyte retries the task")
		assert.NotContains(t, ph.Err().GetMessage(), platformToken)
	}
	assert.LessOrEqual(t, e.submits(), 30, "the backoff is shared: the workspace sees about one probe per interval, not one per task")
	assert.Empty(t, e.api.Runs())
	t.Logf("submissions in 30 minutes: %v (%d in all)", perTask, e.submits())
}

// TestOutageEndsWithinTheCap: once the workspace is back, the next probe
// submits the run and the task proceeds; no task waits longer than the cap.
func TestOutageEndsWithinTheCap(t *testing.T) {
	e, clock := outageEnv(t)
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta, _, err := e.plugin.Create(context.Background(), k.createCtx())
	require.NoError(t, err)
	for i := 0; i < 10*60; i++ {
		e.phase(k, meta)
		clock.Advance(time.Second)
	}
	e.api.ClearFaults()
	var ph core.PhaseInfo
	for i := 0; i <= int(e.cfg.Retry.OutageMaxBackoff.Seconds()); i++ {
		if ph = e.phase(k, meta); len(e.api.Runs()) > 0 {
			break
		}
		clock.Advance(time.Second)
	}
	assert.Len(t, e.api.Runs(), 1, "submitted within outageMaxBackoff of the workspace's return")
	assert.Equal(t, core.PhaseQueued, ph.Phase())
}

package remote

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRulePhaseEveryOutcome(t *testing.T) {
	want := map[Outcome]core.Phase{
		Queued: core.PhaseQueued, Initializing: core.PhaseInitializing, Running: core.PhaseRunning,
		Succeeded: core.PhaseSuccess, RetryableFailure: core.PhaseRetryableFailure,
		PermanentFailure: core.PhasePermanentFailure, SystemRetryableFailure: core.PhaseRetryableFailure,
		SystemPermanentFailure: core.PhasePermanentFailure,
	}
	for o := Queued; o <= SystemPermanentFailure; o++ {
		ph := Rule{Outcome: o, Reason: "r", Code: "C"}.Phase("detail", &core.TaskInfo{})
		assert.Equal(t, want[o], ph.Phase(), o.String())
		assert.Equal(t, o >= Succeeded, o.Terminal())
		if o.Failure() {
			assert.Equal(t, "C", ph.Err().GetCode())
			assert.Equal(t, "r: detail", ph.Err().GetMessage())
		}
	}
	assert.Equal(t, core.PhaseRunning, Rule{Outcome: 99}.Phase("", nil).Phase())
}

func TestUnknownStateIsRunningWithItsName(t *testing.T) {
	r, known := Lookup(map[string]Rule{"A": {Outcome: Queued}}, "Slurm", "WHATEVER", 7)
	assert.False(t, known)
	ph := r.Phase("", nil)
	assert.Equal(t, core.PhaseRunning, ph.Phase())
	require.NotEmpty(t, ph.Info().AdditionalReasons)
	assert.Contains(t, ph.Info().AdditionalReasons[0].Reason, `"WHATEVER"`)
	assert.Equal(t, uint32(7), ph.Version())
}

func TestBackoffBounds(t *testing.T) {
	p := Policy{MaxAttempts: 5, Base: 100 * time.Millisecond, Max: 300 * time.Millisecond}
	for i := 0; i < 50; i++ {
		assert.InDelta(t, 75*time.Millisecond, p.Backoff(1), float64(26*time.Millisecond))
		d := p.Backoff(4)
		assert.GreaterOrEqual(t, d, 150*time.Millisecond)
		assert.LessOrEqual(t, d, 300*time.Millisecond)
	}
}

type tryErr struct {
	transient bool
	after     time.Duration
	attempts  int
}

func (e *tryErr) Error() string             { return "boom" }
func (e *tryErr) Transient() bool           { return e.transient }
func (e *tryErr) RetryAfter() time.Duration { return e.after }
func (e *tryErr) SetAttempts(n int)         { e.attempts = n }

func TestRetrier(t *testing.T) {
	now := time.Unix(1000, 0)
	var waits []time.Duration
	r := &Retrier{Policy: Policy{MaxAttempts: 4, Base: time.Millisecond, Max: 10 * time.Second},
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		Now:   func() time.Time { return now }}
	e := &tryErr{transient: true}
	calls := 0
	err := r.Do(context.Background(), "h", 0, func() error { calls++; return e })
	assert.Equal(t, 4, calls)
	assert.Equal(t, 4, e.attempts)
	assert.Len(t, waits, 3)
	require.Error(t, err)

	calls = 0
	_ = r.Do(context.Background(), "h", 2, func() error { calls++; return e })
	assert.Equal(t, 2, calls, "a smaller cap wins")

	calls = 0
	_ = r.Do(context.Background(), "h", 0, func() error { calls++; return &tryErr{} })
	assert.Equal(t, 1, calls, "a final error is not retried")

	plain := errors.New("plain")
	assert.Equal(t, plain, r.Do(context.Background(), "h", 0, func() error { return plain }))

	_ = r.Do(context.Background(), "h", 0, func() error { return &tryErr{transient: true, after: time.Minute} })
	assert.Equal(t, time.Minute, r.PausedFor("h"))
	now = now.Add(2 * time.Minute)
	assert.Zero(t, r.PausedFor("h"))
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Zero(t, ParseRetryAfter("", now))
	assert.Zero(t, ParseRetryAfter("-1", now))
	assert.Equal(t, 5*time.Second, ParseRetryAfter("5", now))
	assert.Equal(t, 24*time.Hour, ParseRetryAfter("99999999", now))
	assert.Equal(t, 30*time.Second, ParseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
}

func TestOutageGateIsSharedAndGrows(t *testing.T) {
	now := time.Unix(0, 0)
	o := &Outage{Policy: OutagePolicy{Base: 10 * time.Second, Max: time.Minute}, Now: func() time.Time { return now }}
	ok, failing, _, _, _ := o.Admit("w")
	assert.True(t, ok)
	assert.False(t, failing)
	o.Failed("w", "503")
	ok, _, wait, n, last := o.Admit("w")
	assert.False(t, ok)
	assert.Equal(t, 1, n)
	assert.Equal(t, "503", last)
	assert.LessOrEqual(t, wait, 10*time.Second)
	now = now.Add(10 * time.Second)
	ok, failing, _, _, _ = o.Admit("w")
	assert.True(t, ok, "the probe")
	assert.True(t, failing)
	ok, _, _, _, _ = o.Admit("w")
	assert.False(t, ok, "one probe at a time")
	ok, _, _, _, _ = o.Admit("other")
	assert.True(t, ok, "per endpoint")
	for i := 0; i < 10; i++ {
		o.Failed("w", "503")
	}
	_, _, wait, _, _ = o.Admit("w")
	assert.LessOrEqual(t, wait, time.Minute)
	assert.GreaterOrEqual(t, wait, 45*time.Second)
	o.Succeeded("w")
	ok, failing, _, _, _ = o.Admit("w")
	assert.True(t, ok)
	assert.False(t, failing)
	assert.True(t, (&Outage{}).mustAdmit())
}

func (o *Outage) mustAdmit() bool { ok, _, _, _, _ := o.Admit("x"); return ok }

func TestRedactAndScrub(t *testing.T) {
	assert.Equal(t, "a [REDACTED] b", Redact("a tok b", "tok", ""))
	err := ScrubTransportError(errors.New("dial tok"), "tok")
	assert.NotContains(t, err.Error(), "tok")
	assert.ErrorIs(t, ScrubTransportError(context.Canceled), context.Canceled)
	assert.Equal(t, "a b", Snippet([]byte("a\nb")))
}

package remote

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Policy bounds the tries of one call.
type Policy struct {
	// MaxAttempts is how many times a call is tried in all (1 = no retry).
	MaxAttempts int
	// Base is the wait before the first retry; it doubles per retry.
	Base time.Duration
	// Max caps any one wait. A Retry-After longer than Max ends the call and
	// pauses the host instead (see Retrier).
	Max time.Duration
}

// Backoff is the wait after the given failed attempt (1-based): exponential
// from Base, capped at Max, with the upper half jittered so that many
// clients throttled at once do not come back in step.
func (p Policy) Backoff(attempt int) time.Duration {
	return Jitter(Exponential(p.Base, p.Max, attempt), 2)
}

// Exponential is base·2^(n-1), capped at limit (n is 1-based).
func Exponential(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Jitter returns a random duration in [d - d/frac, d].
func Jitter(d time.Duration, frac int64) time.Duration {
	if frac <= 0 {
		return d
	}
	if part := d / time.Duration(frac); part > 0 {
		return d - part + rand.N(part+1) // #nosec G404 -- jitter, not security
	}
	return d
}

// SleepCtx waits d or until ctx is done.
func SleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). Nonsense is 0; more than a day is a day.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			return 24 * time.Hour
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), 24*time.Hour)
	}
	return 0
}

// TryError is what a try returns on failure for Retrier to classify it.
type TryError interface {
	error
	// Transient reports whether trying again may succeed.
	Transient() bool
	// RetryAfter is the wait the server asked for, if any.
	RetryAfter() time.Duration
	// SetAttempts records how many tries were made.
	SetAttempts(n int)
}

// MaxPause caps a Retry-After pause, whatever the server asks.
const MaxPause = time.Hour

// Retrier runs a call with a Policy. It never logs or returns credentials:
// it only sees the errors the tries return.
type Retrier struct {
	Policy Policy
	// Sleep waits between tries; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock of pauses; tests replace it.
	Now func() time.Time
	// Log, when set, is told about each retry and each pause.
	Log func(ctx context.Context, format string, args ...any)
	// paused maps a key (a host) to the time before which the server asked
	// not to be called (a Retry-After longer than Policy.Max): every call
	// for it until then ends at once, from any task.
	paused sync.Map
}

// NewRetrier is a Retrier with the real clock.
func NewRetrier(p Policy) *Retrier {
	return &Retrier{Policy: p, Sleep: SleepCtx, Now: time.Now}
}

// PausedFor is how much longer calls for key are paused (0: not paused).
func (r *Retrier) PausedFor(key string) time.Duration {
	until, ok := r.paused.Load(key)
	if !ok {
		return 0
	}
	if wait := until.(time.Time).Sub(r.Now()); wait > 0 {
		return wait
	}
	r.paused.CompareAndDelete(key, until)
	return 0
}

// Do calls try until it succeeds, fails for good, or the policy's attempts
// (at most maxAttempts when that is positive and smaller) are spent. An
// error that is not a TryError ends the call as is. When the server asks
// for a pause longer than Policy.Max, the call ends and key is paused.
func (r *Retrier) Do(ctx context.Context, key string, maxAttempts int, try func() error) error {
	limit := r.Policy.MaxAttempts
	if maxAttempts > 0 && maxAttempts < limit {
		limit = maxAttempts
	}
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		var e TryError
		if !errors.As(err, &e) {
			return err
		}
		if !e.Transient() || attempt >= limit || ctx.Err() != nil {
			e.SetAttempts(attempt)
			return err
		}
		wait := r.Policy.Backoff(attempt)
		if ra := e.RetryAfter(); ra > 0 {
			if ra > r.Policy.Max {
				pause := min(ra, MaxPause)
				r.log(ctx, "%v; the server asks to retry after %v, longer than the longest wait %v: no calls to %s for %v",
					err, ra, r.Policy.Max, key, pause)
				r.paused.Store(key, r.Now().Add(pause))
				e.SetAttempts(attempt)
				return err
			}
			wait = max(wait, ra)
		}
		r.log(ctx, "%v; try %d of %d in %v", err, attempt+1, limit, wait)
		if serr := r.Sleep(ctx, wait); serr != nil {
			e.SetAttempts(attempt)
			return err
		}
	}
}

func (r *Retrier) log(ctx context.Context, format string, args ...any) {
	if r.Log != nil {
		r.Log(ctx, format, args...)
	}
}

package remote

import (
	"sync"
	"time"
)

// OutagePolicy is the backoff across polls for calls that keep failing for
// a passing reason (an outage): after the n-th failure in a row, no call
// goes to that endpoint for Exponential(Base, Max, n), jittered down by up to
// a quarter. A zero Base turns the gate off.
type OutagePolicy struct {
	Base, Max time.Duration
}

// Outage is a set of gates, one per remote endpoint (a workspace, a
// cluster), shared by every task that talks to it. While an endpoint keeps
// failing, a call is let through only when its gate opens, and one caller
// at a time: the endpoint sees one probe per backoff interval, however many
// tasks wait on it.
type Outage struct {
	Policy OutagePolicy
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu    sync.Mutex
	gates map[string]*gate
}

type gate struct {
	failures int
	next     time.Time
	last     string
}

// NewOutage is an Outage on the real clock.
func NewOutage(p OutagePolicy) *Outage {
	return &Outage{Policy: p, Now: time.Now}
}

// Enabled reports whether the gate does anything.
func (o *Outage) Enabled() bool { return o != nil && o.Policy.Base > 0 }

// Admit asks whether a call to key may be made now. When it may, and key is
// failing, the caller is the probe: the gate closes for the next interval
// before the call is made, so no other task probes at the same time. When
// it may not, wait says how long until it opens, failures how many calls in
// a row failed and last what the last failure said.
func (o *Outage) Admit(key string) (ok bool, failing bool, wait time.Duration, failures int, last string) {
	if !o.Enabled() {
		return true, false, 0, 0, ""
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.gates[key]
	if g == nil || g.failures == 0 {
		return true, false, 0, 0, ""
	}
	now := o.Now()
	if now.Before(g.next) {
		return false, true, g.next.Sub(now), g.failures, g.last
	}
	g.next = now.Add(o.interval(g.failures))
	return true, true, 0, g.failures, g.last
}

// Failed records a failed call to key; what says why (no credentials).
func (o *Outage) Failed(key, what string) {
	if !o.Enabled() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gates == nil {
		o.gates = map[string]*gate{}
	}
	g := o.gates[key]
	if g == nil {
		g = &gate{}
		o.gates[key] = g
	}
	g.failures++
	g.last = what
	g.next = o.Now().Add(o.interval(g.failures))
}

// Succeeded records that key answered: the gate opens for everyone.
func (o *Outage) Succeeded(key string) {
	if !o.Enabled() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.gates, key)
}

func (o *Outage) interval(failures int) time.Duration {
	return Jitter(Exponential(o.Policy.Base, o.Policy.Max, failures), 4)
}

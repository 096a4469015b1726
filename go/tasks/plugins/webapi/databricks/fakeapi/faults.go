package fakeapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Endpoint names one Jobs API endpoint the server serves.
type Endpoint string

// The endpoints faults can be injected into.
const (
	EndpointSubmit Endpoint = "submit"
	EndpointGet    Endpoint = "get"
	EndpointCancel Endpoint = "cancel"
)

// Endpoints lists every Endpoint.
var Endpoints = []Endpoint{EndpointSubmit, EndpointGet, EndpointCancel}

// FaultKind is a kind of injected failure.
type FaultKind string

// The kinds of fault the server can inject.
const (
	// FaultRateLimit answers 429 with a Retry-After header.
	FaultRateLimit FaultKind = "rate-limit"
	// FaultInternalError answers 500.
	FaultInternalError FaultKind = "internal-error"
	// FaultUnavailable answers 503.
	FaultUnavailable FaultKind = "unavailable"
	// FaultSlow holds the response back for Fault.Delay (or until the client
	// gives up) and then answers normally.
	FaultSlow FaultKind = "slow"
	// FaultMalformedJSON answers 200 with a body that is not valid JSON.
	FaultMalformedJSON FaultKind = "malformed-json"
	// FaultDropConnection hijacks the connection and closes it without a
	// response.
	FaultDropConnection FaultKind = "drop-connection"
)

// FaultKinds lists every FaultKind.
var FaultKinds = []FaultKind{
	FaultRateLimit, FaultInternalError, FaultUnavailable, FaultSlow, FaultMalformedJSON, FaultDropConnection,
}

// DefaultSlowDelay is how long FaultSlow holds a response when Fault.Delay is
// zero.
const DefaultSlowDelay = 5 * time.Second

// Fault is one injected failure.
type Fault struct {
	// Kind is what goes wrong.
	Kind FaultKind `json:"kind"`
	// RetryAfter is sent with FaultRateLimit, in whole seconds rounded up.
	RetryAfter time.Duration `json:"retry_after"`
	// Delay is how long FaultSlow holds the response (DefaultSlowDelay if
	// zero). The wait ends early if the client goes away.
	Delay time.Duration `json:"delay"`
	// AfterEffect applies the fault after the request took effect: the run is
	// created (or cancelled) and then the response is lost or replaced.
	AfterEffect bool `json:"after_effect"`
}

// Validate reports whether f names a known kind with sane parameters.
func (f Fault) Validate() error {
	known := false
	for _, k := range FaultKinds {
		known = known || k == f.Kind
	}
	if !known {
		return fmt.Errorf("unknown fault kind %q (want one of %v)", f.Kind, FaultKinds)
	}
	if f.RetryAfter < 0 || f.Delay < 0 {
		return fmt.Errorf("fault %q: negative retry_after or delay", f.Kind)
	}
	return nil
}

// ParseEndpoint returns the Endpoint named s.
func ParseEndpoint(s string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if string(e) == s {
			return e, true
		}
	}
	return "", false
}

// InjectFault makes the next count requests to ep fail with f, after any
// faults already queued for ep. It returns an error for an unknown endpoint or
// an invalid fault.
func (s *Server) InjectFault(ep Endpoint, f Fault, count int) error {
	if _, ok := ParseEndpoint(string(ep)); !ok {
		return fmt.Errorf("unknown endpoint %q (want one of %v)", ep, Endpoints)
	}
	if err := f.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < count; i++ {
		s.faults[ep] = append(s.faults[ep], f)
	}
	return nil
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[Endpoint][]Fault{}
}

// PendingFaults is how many faults are still queued for ep.
func (s *Server) PendingFaults(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[ep])
}

// nextFault pops the next fault queued for ep.
func (s *Server) nextFault(ep Endpoint) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[ep]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[ep] = q[1:]
	return q[0], true
}

// serveWithFault answers r through handle, with fault f applied before or
// after the handler's effect.
func serveWithFault(w http.ResponseWriter, r *http.Request, f Fault, handle http.HandlerFunc) {
	if f.Kind == FaultSlow {
		delay := f.Delay
		if delay == 0 {
			delay = DefaultSlowDelay
		}
		// Read the body first: only then does net/http watch the connection
		// and cancel the request's context when the client goes away.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !f.AfterEffect {
			if !wait(r, delay) {
				// The client gave up before the request took effect: answer
				// nothing rather than an empty 200.
				dropConnection(w)
				return
			}
			handle(w, r)
			return
		}
		buf := newBufferedResponse()
		handle(buf, r)
		if !wait(r, delay) {
			dropConnection(w)
			return
		}
		buf.flushTo(w)
		return
	}
	if f.AfterEffect {
		handle(newBufferedResponse(), r)
	}
	switch f.Kind {
	case FaultRateLimit:
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeError(w, http.StatusTooManyRequests, "REQUEST_LIMIT_EXCEEDED",
			"Too many requests. Please wait a moment and try again.")
	case FaultInternalError:
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "Internal error (injected fault).")
	case FaultUnavailable:
		writeError(w, http.StatusServiceUnavailable, "TEMPORARILY_UNAVAILABLE",
			"The service is temporarily unavailable (injected fault).")
	case FaultMalformedJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"run_id": 12, "state": {"life_cycle_state": `))
	case FaultDropConnection:
		dropConnection(w)
	}
}

// wait sleeps for d unless the client goes away first; it reports whether the
// full delay passed.
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2): abort the stream instead.
	panic(http.ErrAbortHandler)
}

// bufferedResponse is an http.ResponseWriter that keeps the response in
// memory, so a handler's effect can happen while its answer is withheld.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

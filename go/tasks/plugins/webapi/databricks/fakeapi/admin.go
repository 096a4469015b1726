package fakeapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// adminPrefix is where the admin endpoints live.
const adminPrefix = "/fakeapi/"

// FaultRequest is the body of POST /fakeapi/faults.
type FaultRequest struct {
	Endpoint          Endpoint  `json:"endpoint"`
	Kind              FaultKind `json:"kind"`
	Count             int       `json:"count"`
	RetryAfterSeconds int       `json:"retry_after_seconds"`
	DelayMillis       int       `json:"delay_ms"`
	AfterEffect       bool      `json:"after_effect"`
}

// Fault returns the Fault the request describes.
func (f FaultRequest) Fault() Fault {
	return Fault{
		Kind:        f.Kind,
		RetryAfter:  time.Duration(f.RetryAfterSeconds) * time.Second,
		Delay:       time.Duration(f.DelayMillis) * time.Millisecond,
		AfterEffect: f.AfterEffect,
	}
}

// AdvanceRequest is the body of POST /fakeapi/advance.
type AdvanceRequest struct {
	RunID int64 `json:"run_id"`
	// Steps is how many states to move on (1 if zero).
	Steps int `json:"steps"`
}

// OutcomeRequest is the body of POST /fakeapi/outcomes.
type OutcomeRequest struct {
	RunName string  `json:"run_name"`
	Outcome Outcome `json:"outcome"`
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case adminPrefix + "runs":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"runs": s.Runs()})
	case adminPrefix + "advance":
		var req AdvanceRequest
		if !decodeAdmin(w, r, &req) {
			return
		}
		if req.Steps == 0 {
			req.Steps = 1
		}
		st, ok := s.Advance(req.RunID, req.Steps)
		if !ok {
			writeError(w, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Run %d does not exist.", req.RunID))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"run_id": req.RunID, "state": st})
	case adminPrefix + "faults":
		if r.Method == http.MethodDelete {
			s.ClearFaults()
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
		var req FaultRequest
		if !decodeAdmin(w, r, &req) {
			return
		}
		if req.Count == 0 {
			req.Count = 1
		}
		if err := s.InjectFault(req.Endpoint, req.Fault(), req.Count); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"pending": s.PendingFaults(req.Endpoint)})
	case adminPrefix + "outcomes":
		var req OutcomeRequest
		if !decodeAdmin(w, r, &req) {
			return
		}
		if err := s.SetOutcome(req.RunName, req.Outcome); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		writeError(w, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No admin endpoint %s", r.URL.Path))
	}
}

// decodeAdmin reads a POST body into v, answering 400/405 itself on failure.
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", err.Error())
		return false
	}
	return true
}

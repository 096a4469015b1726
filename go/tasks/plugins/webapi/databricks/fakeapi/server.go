package fakeapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FirstID is the first run ID (and job ID) the server hands out: 2^53 + 1, the
// smallest integer a float64 cannot hold.
const FirstID int64 = 1<<53 + 1

// maxBodyBytes bounds a request body.
const maxBodyBytes = 10 << 20

// Options configures a Server.
type Options struct {
	// Token is the bearer token every request must carry. An empty Token
	// accepts any request, with or without credentials.
	Token string
	// Durations says how long runs stay in each state; the zero value
	// finishes a run by the first time it is read.
	Durations Durations
	// Manual stops the clock: runs move only on Advance.
	Manual bool
	// DefaultOutcome is how runs end when neither SetOutcome nor a marker in
	// the body says otherwise (OutcomeSuccess if empty).
	DefaultOutcome Outcome
	// StatusOnly leaves the 2.1 "state" object out of runs/get answers, so
	// only the 2.2 "status" object is sent.
	StatusOnly bool
	// Now is the server's clock (time.Now if nil).
	Now func() time.Time
}

// Request is what the server records about one request it received.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Endpoint is the Jobs API endpoint, empty for admin and unknown paths.
	Endpoint Endpoint `json:"endpoint,omitempty"`
	// Authorized is whether the request carried the right bearer token.
	Authorized bool `json:"authorized"`
}

// Server is an in-memory Databricks Jobs API; see the package doc.
type Server struct {
	opts Options
	now  func() time.Time

	mu       sync.Mutex
	runs     map[int64]*run
	byToken  map[string]int64
	outcomes map[string]Outcome
	faults   map[Endpoint][]Fault
	requests []Request
	nextID   int64
}

// New returns a Server with no runs.
func New(opts Options) *Server {
	if opts.DefaultOutcome == "" {
		opts.DefaultOutcome = OutcomeSuccess
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Server{
		opts:     opts,
		now:      now,
		runs:     map[int64]*run{},
		byToken:  map[string]int64{},
		outcomes: map[string]Outcome{},
		faults:   map[Endpoint][]Fault{},
		nextID:   FirstID,
	}
}

// ServeHTTP routes a request to the Jobs API or admin handlers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authorized := s.authorized(r)
	ep, version := route(r.URL.Path)
	s.record(Request{Method: r.Method, Path: r.URL.Path, Endpoint: ep, Authorized: authorized})

	if ep == "" {
		if strings.HasPrefix(r.URL.Path, adminPrefix) {
			if !authorized {
				s.unauthorized(w, r)
				return
			}
			s.serveAdmin(w, r)
			return
		}
		writeError(w, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path))
		return
	}

	handle := func(w http.ResponseWriter, r *http.Request) {
		if !authorized {
			s.unauthorized(w, r)
			return
		}
		switch ep {
		case EndpointSubmit:
			s.submit(w, r, version)
		case EndpointGet:
			s.get(w, r)
		case EndpointCancel:
			s.cancel(w, r)
		}
	}
	if f, ok := s.nextFault(ep); ok {
		serveWithFault(w, r, f, handle)
		return
	}
	handle(w, r)
}

// route maps a path to its endpoint and API version ("2.1" or "2.2").
func route(path string) (Endpoint, string) {
	for _, v := range []string{"2.1", "2.2"} {
		prefix := "/api/" + v + "/jobs/runs/"
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			if ep, ok := ParseEndpoint(rest); ok {
				return ep, v
			}
		}
	}
	return "", ""
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

// unauthorized answers as Databricks does: no credential is a 401 with a
// word for a code; a token it does not accept is a 403 whose error_code is
// the number 403 (which clients decoding a string trip over).
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API.")
		return
	}
	w.Header().Set("X-Databricks-Reason-Phrase", "Invalid access token.")
	writeJSON(w, http.StatusForbidden, map[string]any{"error_code": http.StatusForbidden, "message": "Invalid access token."})
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// taskKeys are the submit fields that each name a task to run.
var taskKeys = []string{
	"notebook_task", "spark_python_task", "spark_jar_task", "spark_submit_task", "python_wheel_task",
	"sql_task", "dbt_task", "pipeline_task", "run_job_task",
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, version string) {
	body, ok := postedObject(w, r)
	if !ok {
		return
	}
	name, token, msg := validateSubmit(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", msg)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byToken[token]; ok && token != "" {
		existing := s.runs[id]
		existing.submissions++
		writeJSON(w, http.StatusOK, submitAnswer{RunID: existing.id, NumberInJob: 1})
		return
	}
	outcome, ok := s.outcomes[name]
	if !ok {
		if outcome, ok = markerOutcome(body); !ok {
			outcome = s.opts.DefaultOutcome
		}
	}
	now := s.now()
	rn := &run{
		id:          s.nextID,
		jobID:       s.nextID,
		name:        name,
		token:       token,
		outcome:     outcome,
		host:        r.Host,
		apiVersion:  version,
		body:        body,
		stages:      stagesFor(outcome),
		enteredAt:   now,
		createdAt:   now,
		submissions: 1,
	}
	s.nextID++
	s.runs[rn.id] = rn
	if token != "" {
		s.byToken[token] = rn.id
	}
	writeJSON(w, http.StatusOK, submitAnswer{RunID: rn.id, NumberInJob: 1})
}

// submitAnswer is the runs/submit answer.
type submitAnswer struct {
	RunID       int64 `json:"run_id"`
	NumberInJob int64 `json:"number_in_job"`
}

// validateSubmit checks a submit body the way the Jobs API would, returning
// the run name and idempotency token, or a message saying what is wrong.
func validateSubmit(body map[string]any) (name, token, msg string) {
	var ok bool
	if v, present := body["run_name"]; present {
		if name, ok = v.(string); !ok {
			return "", "", "run_name must be a string."
		}
	}
	if v, present := body["idempotency_token"]; present {
		if token, ok = v.(string); !ok {
			return "", "", "idempotency_token must be a string."
		}
		if len(token) > 64 {
			return "", "", fmt.Sprintf("idempotency_token must be at most 64 characters, got %d.", len(token))
		}
	}
	if v, present := body["timeout_seconds"]; present {
		n, isNum := v.(json.Number)
		if i, err := n.Int64(); !isNum || err != nil || i < 0 {
			return "", "", fmt.Sprintf("timeout_seconds must be a non-negative integer, got %v.", v)
		}
	}
	if tasks, present := body["tasks"]; present {
		if list, isList := tasks.([]any); !isList || len(list) == 0 {
			return "", "", "tasks must be a non-empty array."
		}
		return name, token, ""
	}
	named := ""
	for _, k := range taskKeys {
		if _, present := body[k]; present {
			if _, isObj := body[k].(map[string]any); !isObj {
				return "", "", fmt.Sprintf("%s must be an object.", k)
			}
			named = k
		}
	}
	if named == "" {
		return "", "", "A task must be given: one of " + strings.Join(taskKeys, ", ") + " or tasks."
	}
	if spt, isObj := body["spark_python_task"].(map[string]any); isObj {
		if f, _ := spt["python_file"].(string); f == "" {
			return "", "", "spark_python_task.python_file must be a non-empty string."
		}
	}
	cluster, hasNew := body["new_cluster"]
	if hasNew {
		nc, isObj := cluster.(map[string]any)
		if !isObj {
			return "", "", "new_cluster must be an object."
		}
		if di, present := nc["docker_image"]; present {
			if d, isObj := di.(map[string]any); !isObj || !isString(d["url"]) {
				return "", "", "new_cluster.docker_image.url must be a string."
			}
		}
	}
	existing, _ := body["existing_cluster_id"].(string)
	if !hasNew && existing == "" {
		return "", "", "One of new_cluster or existing_cluster_id must be specified."
	}
	return name, token, ""
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r)
		return
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("run_id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			fmt.Sprintf("Invalid run_id %q: must be an integer.", r.URL.Query().Get("run_id")))
		return
	}
	s.mu.Lock()
	rn, ok := s.runs[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Run %d does not exist.", id))
		return
	}
	st := rn.current(s.opts.Durations, s.opts.Manual, s.now())
	resp := runJSON{
		JobID:                rn.jobID,
		RunID:                rn.id,
		NumberInJob:          rn.id,
		OriginalAttemptRunID: rn.id,
		RunName:              rn.name,
		RunType:              "SUBMIT_RUN",
		CreatorUserName:      "fakeapi@example.com",
		RunPageURL:           fmt.Sprintf("https://%s/?o=1234567890#job/%d/run/%d", r.Host, rn.jobID, rn.id),
		StartTime:            rn.createdAt.UnixMilli(),
		Status:               statusOf(st),
	}
	if !rn.endedAt.IsZero() {
		resp.EndTime = rn.endedAt.UnixMilli()
	}
	if !s.opts.StatusOnly {
		resp.State = &st
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// runJSON is the runs/get answer.
type runJSON struct {
	JobID                int64      `json:"job_id"`
	RunID                int64      `json:"run_id"`
	NumberInJob          int64      `json:"number_in_job"`
	OriginalAttemptRunID int64      `json:"original_attempt_run_id"`
	RunName              string     `json:"run_name"`
	RunType              string     `json:"run_type"`
	CreatorUserName      string     `json:"creator_user_name"`
	RunPageURL           string     `json:"run_page_url"`
	StartTime            int64      `json:"start_time"`
	EndTime              int64      `json:"end_time"`
	State                *RunState  `json:"state,omitempty"`
	Status               *RunStatus `json:"status,omitempty"`
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	body, ok := postedObject(w, r)
	if !ok {
		return
	}
	n, isNum := body["run_id"].(json.Number)
	id, err := n.Int64()
	if !isNum || err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			fmt.Sprintf("run_id must be an integer, got %v.", body["run_id"]))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rn, ok := s.runs[id]
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Run %d does not exist.", id))
		return
	}
	rn.cancel(s.opts.Durations, s.opts.Manual, s.now())
	writeJSON(w, http.StatusOK, map[string]any{})
}

// decodeObject reads a JSON object body, numbers kept as json.Number.
func decodeObject(r *http.Request) (map[string]any, error) {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("expected a map: %w", err)
	}
	if body == nil {
		return nil, errors.New("expected a map, got null")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the object")
	}
	return body, nil
}

// Advance moves run id on by steps states (stopping at its last one) and
// returns its new state; ok is false for an unknown run.
func (s *Server) Advance(id int64, steps int) (state RunState, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rn, ok := s.runs[id]
	if !ok {
		return RunState{}, false
	}
	now := s.now()
	rn.current(s.opts.Durations, s.opts.Manual, now)
	rn.advance(steps, now)
	return rn.current(s.opts.Durations, s.opts.Manual, now), true
}

// Finish moves run id to its last state.
func (s *Server) Finish(id int64) (RunState, bool) {
	return s.Advance(id, 1<<20)
}

// Force pins run id to state until the next Advance or cancel; the state may
// be one the server never produces by itself.
func (s *Server) Force(id int64, state RunState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rn, ok := s.runs[id]
	if ok {
		rn.forced = &state
	}
	return ok
}

// SetOutcome makes runs submitted later with this run_name end with o. It
// returns an error for an unknown outcome.
func (s *Server) SetOutcome(runName string, o Outcome) error {
	if _, ok := ParseOutcome(string(o)); !ok {
		return fmt.Errorf("unknown outcome %q (want one of %v)", o, Outcomes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[runName] = o
	return nil
}

// Runs returns a snapshot of every run, in submission order.
func (s *Server) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]Run, 0, len(s.runs))
	for _, rn := range s.runs {
		out = append(out, rn.snapshot(rn.current(s.opts.Durations, s.opts.Manual, now)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out
}

// Run returns a snapshot of run id.
func (s *Server) Run(id int64) (Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rn, ok := s.runs[id]
	if !ok {
		return Run{}, false
	}
	return rn.snapshot(rn.current(s.opts.Durations, s.opts.Manual, s.now())), true
}

// ErrorBody is the shape of every error answer, as Databricks sends it.
type ErrorBody struct {
	// ErrorCode is a word, or a number written as digits (an invalid
	// token's 403).
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// UnmarshalJSON reads error_code whether Databricks sent a word or a number.
func (e *ErrorBody) UnmarshalJSON(b []byte) error {
	var raw struct {
		ErrorCode json.RawMessage `json:"error_code"`
		Message   string          `json:"message"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Message, e.ErrorCode = raw.Message, ""
	if len(raw.ErrorCode) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw.ErrorCode, &e.ErrorCode); err == nil {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(raw.ErrorCode, &n); err != nil {
		return fmt.Errorf("error_code is neither a word nor a number: %s", raw.ErrorCode)
	}
	e.ErrorCode = n.String()
	return nil
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error_code": code, "message": msg})
}

// postedObject reads a POST request's JSON object body; on a wrong method
// or a body that is not an object it answers as Databricks does and ok is
// false.
func postedObject(w http.ResponseWriter, r *http.Request) (body map[string]any, ok bool) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return nil, false
	}
	body, err := decodeObject(r)
	if err != nil {
		malformed(w, err)
		return nil, false
	}
	return body, true
}

func malformed(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - "+err.Error())
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("Method %s is not allowed for %s.", r.Method, r.URL.Path))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

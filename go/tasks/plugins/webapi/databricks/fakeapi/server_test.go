package fakeapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

const token = "dapi-test-token"

type harness struct {
	t   *testing.T
	api *fakeapi.Server
	srv *httptest.Server
}

func newHarness(t *testing.T, opts fakeapi.Options) *harness {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	api := fakeapi.New(opts)
	srv := httptest.NewTLSServer(api)
	t.Cleanup(srv.Close)
	return &harness{t: t, api: api, srv: srv}
}

// do sends a request with the harness token and decodes a JSON answer.
func (h *harness) do(method, path string, body any, out any) int {
	h.t.Helper()
	return h.doAuth(method, path, "Bearer "+token, body, out)
}

func (h *harness) doAuth(method, path, auth string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	require.NoError(h.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		require.NoError(h.t, dec.Decode(out), "body %s", raw)
	}
	return resp.StatusCode
}

func pythonRun(extra map[string]any) map[string]any {
	body := map[string]any{
		"run_name":            "run",
		"existing_cluster_id": "0123-456789-abcdef",
		"spark_python_task":   map[string]any{"python_file": "dbfs:///entrypoint.py", "parameters": []string{"a"}},
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

func (h *harness) submit(body map[string]any) int64 {
	h.t.Helper()
	var out struct {
		RunID int64 `json:"run_id"`
	}
	require.Equal(h.t, http.StatusOK, h.do(http.MethodPost, "/api/2.1/jobs/runs/submit", body, &out))
	return out.RunID
}

type runAnswer struct {
	RunID      json.Number        `json:"run_id"`
	JobID      json.Number        `json:"job_id"`
	RunPageURL string             `json:"run_page_url"`
	State      *fakeapi.RunState  `json:"state"`
	Status     *fakeapi.RunStatus `json:"status"`
}

func (h *harness) get(id int64) runAnswer {
	h.t.Helper()
	var out runAnswer
	require.Equal(h.t, http.StatusOK, h.do(http.MethodGet, fmt.Sprintf("/api/2.1/jobs/runs/get?run_id=%d", id), nil, &out))
	return out
}

func TestLifecycleManual(t *testing.T) {
	h := newHarness(t, fakeapi.Options{Manual: true})
	id := h.submit(pythonRun(nil))
	assert.Equal(t, fakeapi.FirstID, id, "run IDs start above 2^53")

	got := h.get(id)
	assert.Equal(t, fmt.Sprint(fakeapi.FirstID), got.RunID.String())
	assert.Equal(t, fakeapi.StateQueued, got.State.LifeCycleState)
	assert.Equal(t, fakeapi.StateQueued, got.Status.State)
	assert.Contains(t, got.RunPageURL, strings.TrimPrefix(h.srv.URL, "https://"))
	assert.Contains(t, got.RunPageURL, fmt.Sprintf("run/%d", id))

	for _, want := range []string{fakeapi.StatePending, fakeapi.StateRunning, fakeapi.StateTerminating, fakeapi.StateTerminated} {
		st, ok := h.api.Advance(id, 1)
		require.True(t, ok)
		assert.Equal(t, want, st.LifeCycleState)
		assert.Equal(t, want, h.get(id).State.LifeCycleState)
	}
	final := h.get(id)
	assert.Equal(t, "SUCCESS", final.State.ResultState)
	require.NotNil(t, final.Status.TerminationDetails)
	assert.Equal(t, "SUCCESS", final.Status.TerminationDetails.Code)

	st, _ := h.api.Advance(id, 1)
	assert.Equal(t, fakeapi.StateTerminated, st.LifeCycleState, "a finished run stays finished")
	_, ok := h.api.Advance(id+100, 1)
	assert.False(t, ok)
}

func TestLifecycleByClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tick := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	h := newHarness(t, fakeapi.Options{Durations: fakeapi.Uniform(time.Minute), Now: clock})
	id := h.submit(pythonRun(nil))
	assert.Equal(t, fakeapi.StateQueued, h.get(id).State.LifeCycleState)
	tick(59 * time.Second)
	assert.Equal(t, fakeapi.StateQueued, h.get(id).State.LifeCycleState)
	tick(time.Second)
	assert.Equal(t, fakeapi.StatePending, h.get(id).State.LifeCycleState)
	tick(2 * time.Minute)
	assert.Equal(t, fakeapi.StateTerminating, h.get(id).State.LifeCycleState)
	tick(time.Hour)
	assert.Equal(t, fakeapi.StateTerminated, h.get(id).State.LifeCycleState)
}

func TestZeroDurationsFinishAtOnce(t *testing.T) {
	h := newHarness(t, fakeapi.Options{})
	id := h.submit(pythonRun(nil))
	got := h.get(id)
	assert.Equal(t, fakeapi.StateTerminated, got.State.LifeCycleState)
	assert.Equal(t, "SUCCESS", got.State.ResultState)
}

func TestOutcomes(t *testing.T) {
	want := map[fakeapi.Outcome][2]string{
		fakeapi.OutcomeSuccess:       {fakeapi.StateTerminated, "SUCCESS"},
		fakeapi.OutcomeFailed:        {fakeapi.StateTerminated, "FAILED"},
		fakeapi.OutcomeTimedOut:      {fakeapi.StateTerminated, "TIMEDOUT"},
		fakeapi.OutcomeCanceled:      {fakeapi.StateTerminated, "CANCELED"},
		fakeapi.OutcomeInternalError: {fakeapi.StateInternalError, "FAILED"},
		fakeapi.OutcomeSkipped:       {fakeapi.StateSkipped, ""},
	}
	require.Len(t, want, len(fakeapi.Outcomes))
	markers := map[string]func(fakeapi.Outcome) map[string]any{
		"spark_conf": func(o fakeapi.Outcome) map[string]any {
			return map[string]any{"new_cluster": map[string]any{"spark_conf": map[string]any{fakeapi.MarkerKey: string(o)}},
				"existing_cluster_id": nil}
		},
		"parameter": func(o fakeapi.Outcome) map[string]any {
			return map[string]any{"spark_python_task": map[string]any{"python_file": "f.py",
				"parameters": []string{"x", fakeapi.MarkerKey + "=" + strings.ToLower(string(o))}}}
		},
	}
	for how, mk := range markers {
		for o, w := range want {
			t.Run(how+"/"+string(o), func(t *testing.T) {
				h := newHarness(t, fakeapi.Options{})
				body := pythonRun(mk(o))
				if body["existing_cluster_id"] == nil {
					delete(body, "existing_cluster_id")
				}
				id := h.submit(body)
				got := h.get(id)
				assert.Equal(t, w[0], got.State.LifeCycleState)
				assert.Equal(t, w[1], got.State.ResultState)
				assert.Equal(t, fakeapi.StateTerminated, got.Status.State, "2.2 status folds every end into TERMINATED")
				run, ok := h.api.Run(id)
				require.True(t, ok)
				assert.Equal(t, o, run.Outcome)
			})
		}
	}
}

func TestOutcomeByRunName(t *testing.T) {
	h := newHarness(t, fakeapi.Options{DefaultOutcome: fakeapi.OutcomeFailed})
	require.NoError(t, h.api.SetOutcome("lucky", fakeapi.OutcomeSuccess))
	require.Error(t, h.api.SetOutcome("x", "MAYBE"))
	lucky := h.submit(pythonRun(map[string]any{"run_name": "lucky"}))
	other := h.submit(pythonRun(map[string]any{"run_name": "other"}))
	assert.Equal(t, "SUCCESS", h.get(lucky).State.ResultState)
	assert.Equal(t, "FAILED", h.get(other).State.ResultState)
}

func TestForceAndStatusOnly(t *testing.T) {
	h := newHarness(t, fakeapi.Options{Manual: true, StatusOnly: true})
	id := h.submit(pythonRun(nil))
	require.True(t, h.api.Force(id, fakeapi.RunState{LifeCycleState: "HIBERNATING", StateMessage: "zzz"}))
	got := h.get(id)
	assert.Nil(t, got.State, "StatusOnly drops the 2.1 state")
	assert.Equal(t, "HIBERNATING", got.Status.State)
	assert.False(t, h.api.Force(id+1, fakeapi.RunState{}))
	h.api.Advance(id, 1)
	assert.Equal(t, fakeapi.StatePending, h.get(id).Status.State, "Advance clears a forced state")
}

func TestIdempotencyToken(t *testing.T) {
	h := newHarness(t, fakeapi.Options{})
	a := h.submit(pythonRun(map[string]any{"idempotency_token": "tok-1"}))
	b := h.submit(pythonRun(map[string]any{"idempotency_token": "tok-1"}))
	c := h.submit(pythonRun(map[string]any{"idempotency_token": "tok-2"}))
	d := h.submit(pythonRun(nil))
	e := h.submit(pythonRun(nil))
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.NotEqual(t, d, e, "runs without a token are never deduplicated")
	runs := h.api.Runs()
	require.Len(t, runs, 4)
	assert.Equal(t, 2, runs[0].Submissions)
}

func TestAuth(t *testing.T) {
	h := newHarness(t, fakeapi.Options{})
	var e fakeapi.ErrorBody
	assert.Equal(t, http.StatusUnauthorized, h.doAuth(http.MethodGet, "/api/2.1/jobs/runs/get?run_id=1", "", nil, &e))
	assert.Equal(t, "UNAUTHENTICATED", e.ErrorCode)
	// A token Databricks does not accept: 403, with the number as the code.
	assert.Equal(t, http.StatusForbidden, h.doAuth(http.MethodPost, "/api/2.1/jobs/runs/submit", "Bearer nope", pythonRun(nil), &e))
	assert.Equal(t, "403", e.ErrorCode)
	assert.Equal(t, "Invalid access token.", e.Message)
	assert.Equal(t, http.StatusForbidden, h.doAuth(http.MethodGet, "/fakeapi/runs", "Basic abc", nil, &e))
	assert.Empty(t, h.api.Runs())
	reqs := h.api.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, fakeapi.EndpointGet, reqs[0].Endpoint)
	assert.False(t, reqs[0].Authorized)
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, fakeapi.Options{})
	long := strings.Repeat("x", 65)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"not json", http.MethodPost, "submit", "{nope", 400, "MALFORMED_REQUEST", "Invalid JSON"},
		{"null", http.MethodPost, "submit", "null", 400, "MALFORMED_REQUEST", "null"},
		{"array", http.MethodPost, "submit", "[1]", 400, "MALFORMED_REQUEST", "map"},
		{"trailing", http.MethodPost, "submit", "{} {}", 400, "MALFORMED_REQUEST", "trailing"},
		{"no task", http.MethodPost, "submit", map[string]any{"existing_cluster_id": "c"}, 400, "INVALID_PARAMETER_VALUE", "A task must be given"},
		{"task not object", http.MethodPost, "submit", map[string]any{"existing_cluster_id": "c", "notebook_task": "nb"}, 400, "INVALID_PARAMETER_VALUE", "notebook_task must be an object"},
		{"no cluster", http.MethodPost, "submit", map[string]any{"notebook_task": map[string]any{"notebook_path": "/x"}}, 400, "INVALID_PARAMETER_VALUE", "new_cluster or existing_cluster_id"},
		{"cluster not object", http.MethodPost, "submit", map[string]any{"notebook_task": map[string]any{}, "new_cluster": 3}, 400, "INVALID_PARAMETER_VALUE", "new_cluster must be an object"},
		{"docker url", http.MethodPost, "submit", map[string]any{"notebook_task": map[string]any{}, "new_cluster": map[string]any{"docker_image": map[string]any{"url": 1}}}, 400, "INVALID_PARAMETER_VALUE", "docker_image.url"},
		{"no python file", http.MethodPost, "submit", map[string]any{"existing_cluster_id": "c", "spark_python_task": map[string]any{}}, 400, "INVALID_PARAMETER_VALUE", "python_file"},
		{"long token", http.MethodPost, "submit", pythonRun(map[string]any{"idempotency_token": long}), 400, "INVALID_PARAMETER_VALUE", "at most 64"},
		{"token type", http.MethodPost, "submit", pythonRun(map[string]any{"idempotency_token": 5}), 400, "INVALID_PARAMETER_VALUE", "idempotency_token"},
		{"run name type", http.MethodPost, "submit", pythonRun(map[string]any{"run_name": 5}), 400, "INVALID_PARAMETER_VALUE", "run_name"},
		{"timeout", http.MethodPost, "submit", pythonRun(map[string]any{"timeout_seconds": -1}), 400, "INVALID_PARAMETER_VALUE", "timeout_seconds"},
		{"empty tasks", http.MethodPost, "submit", map[string]any{"tasks": []any{}}, 400, "INVALID_PARAMETER_VALUE", "tasks"},
		{"get bad id", http.MethodGet, "get?run_id=1.5", nil, 400, "INVALID_PARAMETER_VALUE", "integer"},
		{"get unknown", http.MethodGet, "get?run_id=7", nil, 400, "INVALID_PARAMETER_VALUE", "Run 7 does not exist."},
		{"cancel unknown", http.MethodPost, "cancel", map[string]any{"run_id": 7}, 400, "INVALID_PARAMETER_VALUE", "Run 7 does not exist."},
		{"cancel bad id", http.MethodPost, "cancel", map[string]any{"run_id": "7"}, 400, "INVALID_PARAMETER_VALUE", "integer"},
		{"cancel not json", http.MethodPost, "cancel", "x", 400, "MALFORMED_REQUEST", "Invalid JSON"},
		{"wrong method", http.MethodGet, "submit", nil, 405, "METHOD_NOT_ALLOWED", "GET"},
		{"unknown path", http.MethodGet, "list", nil, 404, "ENDPOINT_NOT_FOUND", "list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e fakeapi.ErrorBody
			assert.Equal(t, c.status, h.do(c.method, "/api/2.1/jobs/runs/"+c.path, c.body, &e))
			assert.Equal(t, c.code, e.ErrorCode)
			assert.Contains(t, e.Message, c.msg)
		})
	}
	assert.Empty(t, h.api.Runs())
}

func TestMultiTaskAndV22Paths(t *testing.T) {
	h := newHarness(t, fakeapi.Options{})
	var out struct {
		RunID int64 `json:"run_id"`
	}
	body := map[string]any{"tasks": []any{map[string]any{"task_key": "a"}}, "run_name": "multi"}
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, "/api/2.2/jobs/runs/submit", body, &out))
	var got runAnswer
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, fmt.Sprintf("/api/2.2/jobs/runs/get?run_id=%d", out.RunID), nil, &got))
	assert.Equal(t, fakeapi.StateTerminated, got.State.LifeCycleState)
	run, _ := h.api.Run(out.RunID)
	assert.Equal(t, "2.2", run.APIVersion)
	assert.Equal(t, http.StatusOK, h.do(http.MethodPost, "/api/2.2/jobs/runs/cancel", map[string]any{"run_id": out.RunID}, nil))
}

func TestCancel(t *testing.T) {
	h := newHarness(t, fakeapi.Options{Manual: true})
	id := h.submit(pythonRun(nil))
	h.api.Advance(id, 2)
	assert.Equal(t, http.StatusOK, h.do(http.MethodPost, "/api/2.1/jobs/runs/cancel", map[string]any{"run_id": id}, nil))
	got := h.get(id)
	assert.Equal(t, fakeapi.StateTerminated, got.State.LifeCycleState)
	assert.Equal(t, "CANCELED", got.State.ResultState)

	done := h.submit(pythonRun(nil))
	h.api.Finish(done)
	assert.Equal(t, http.StatusOK, h.do(http.MethodPost, "/api/2.1/jobs/runs/cancel", map[string]any{"run_id": done}, nil))
	assert.Equal(t, "SUCCESS", h.get(done).State.ResultState, "cancelling a finished run changes nothing")
	run, _ := h.api.Run(done)
	assert.Equal(t, 1, run.CancelRequests)
}

func TestFaults(t *testing.T) {
	for _, ep := range fakeapi.Endpoints {
		for _, kind := range fakeapi.FaultKinds {
			for _, after := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/after=%v", ep, kind, after)
				t.Run(name, func(t *testing.T) {
					h := newHarness(t, fakeapi.Options{Manual: true})
					id := h.submit(pythonRun(nil))
					f := fakeapi.Fault{Kind: kind, RetryAfter: 1500 * time.Millisecond, Delay: 10 * time.Millisecond, AfterEffect: after}
					require.NoError(t, h.api.InjectFault(ep, f, 1))
					require.Equal(t, 1, h.api.PendingFaults(ep))

					var req *http.Request
					switch ep {
					case fakeapi.EndpointSubmit:
						raw, _ := json.Marshal(pythonRun(map[string]any{"run_name": "second"}))
						req, _ = http.NewRequest(http.MethodPost, h.srv.URL+"/api/2.1/jobs/runs/submit", bytes.NewReader(raw))
					case fakeapi.EndpointGet:
						req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/2.1/jobs/runs/get?run_id=%d", h.srv.URL, id), nil)
					case fakeapi.EndpointCancel:
						raw, _ := json.Marshal(map[string]any{"run_id": id})
						req, _ = http.NewRequest(http.MethodPost, h.srv.URL+"/api/2.1/jobs/runs/cancel", bytes.NewReader(raw))
					}
					req.Header.Set("Authorization", "Bearer "+token)
					// A fresh connection: net/http silently retries an idempotent
					// request whose reused connection drops.
					resp, err := freshClient(h).Do(req)
					switch kind {
					case fakeapi.FaultDropConnection:
						require.Error(t, err)
					default:
						require.NoError(t, err)
						raw, _ := io.ReadAll(resp.Body)
						_ = resp.Body.Close()
						switch kind {
						case fakeapi.FaultRateLimit:
							assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
							assert.Equal(t, "2", resp.Header.Get("Retry-After"))
						case fakeapi.FaultInternalError:
							assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
						case fakeapi.FaultUnavailable:
							assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
						case fakeapi.FaultMalformedJSON:
							assert.Equal(t, http.StatusOK, resp.StatusCode)
							assert.False(t, json.Valid(raw))
						case fakeapi.FaultSlow:
							assert.Equal(t, http.StatusOK, resp.StatusCode)
							assert.True(t, json.Valid(raw))
						}
					}
					assert.Equal(t, 0, h.api.PendingFaults(ep), "a fault is consumed by one request")

					took := kind == fakeapi.FaultSlow || after
					switch ep {
					case fakeapi.EndpointSubmit:
						want := 1
						if took {
							want = 2
						}
						assert.Len(t, h.api.Runs(), want)
					case fakeapi.EndpointCancel:
						run, _ := h.api.Run(id)
						if took {
							assert.Equal(t, "CANCELED", run.State.ResultState)
						} else {
							assert.Equal(t, fakeapi.StateQueued, run.State.LifeCycleState)
						}
					}
					// The next request is served normally.
					_ = h.get(id)
				})
			}
		}
	}
}

func freshClient(h *harness) *http.Client {
	tr := h.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr}
}

func TestSlowFaultClientGivesUp(t *testing.T) {
	h := newHarness(t, fakeapi.Options{Manual: true})
	require.NoError(t, h.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: fakeapi.FaultSlow, Delay: time.Minute}, 1))
	client := h.srv.Client()
	client.Timeout = 50 * time.Millisecond
	raw, _ := json.Marshal(pythonRun(nil))
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/2.1/jobs/runs/submit", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	_, err := client.Do(req)
	require.Error(t, err)
	h.srv.CloseClientConnections()
	assert.Empty(t, h.api.Runs(), "a request the client gave up on before it took effect creates nothing")
}

func TestInjectFaultValidation(t *testing.T) {
	api := fakeapi.New(fakeapi.Options{})
	assert.Error(t, api.InjectFault("list", fakeapi.Fault{Kind: fakeapi.FaultSlow}, 1))
	assert.Error(t, api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: "gremlins"}, 1))
	assert.Error(t, api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: fakeapi.FaultSlow, Delay: -1}, 1))
	require.NoError(t, api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: fakeapi.FaultSlow}, 3))
	assert.Equal(t, 3, api.PendingFaults(fakeapi.EndpointGet))
	api.ClearFaults()
	assert.Equal(t, 0, api.PendingFaults(fakeapi.EndpointGet))
}

func TestAdminEndpoints(t *testing.T) {
	h := newHarness(t, fakeapi.Options{Manual: true})
	assert.Equal(t, http.StatusOK, h.do(http.MethodPost, "/fakeapi/outcomes",
		fakeapi.OutcomeRequest{RunName: "doomed", Outcome: fakeapi.OutcomeTimedOut}, nil))
	var e fakeapi.ErrorBody
	assert.Equal(t, http.StatusBadRequest, h.do(http.MethodPost, "/fakeapi/outcomes",
		fakeapi.OutcomeRequest{RunName: "doomed", Outcome: "MEH"}, &e))
	id := h.submit(pythonRun(map[string]any{"run_name": "doomed"}))

	var adv struct {
		State fakeapi.RunState `json:"state"`
	}
	assert.Equal(t, http.StatusOK, h.do(http.MethodPost, "/fakeapi/advance", fakeapi.AdvanceRequest{RunID: id, Steps: 10}, &adv))
	assert.Equal(t, "TIMEDOUT", adv.State.ResultState)
	assert.Equal(t, http.StatusNotFound, h.do(http.MethodPost, "/fakeapi/advance", fakeapi.AdvanceRequest{RunID: 1}, nil))
	assert.Equal(t, http.StatusBadRequest, h.do(http.MethodPost, "/fakeapi/advance", map[string]any{"run": 1}, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodGet, "/fakeapi/advance", nil, nil))

	assert.Equal(t, http.StatusOK, h.do(http.MethodPost, "/fakeapi/faults",
		fakeapi.FaultRequest{Endpoint: fakeapi.EndpointGet, Kind: fakeapi.FaultUnavailable, Count: 2}, nil))
	assert.Equal(t, 2, h.api.PendingFaults(fakeapi.EndpointGet))
	assert.Equal(t, http.StatusBadRequest, h.do(http.MethodPost, "/fakeapi/faults",
		fakeapi.FaultRequest{Endpoint: "list", Kind: fakeapi.FaultUnavailable}, nil))
	assert.Equal(t, http.StatusOK, h.do(http.MethodDelete, "/fakeapi/faults", nil, nil))
	assert.Equal(t, 0, h.api.PendingFaults(fakeapi.EndpointGet))

	var list struct {
		Runs []fakeapi.Run `json:"runs"`
	}
	assert.Equal(t, http.StatusOK, h.do(http.MethodGet, "/fakeapi/runs", nil, &list))
	require.Len(t, list.Runs, 1)
	assert.Equal(t, id, list.Runs[0].RunID)
	assert.Equal(t, "doomed", list.Runs[0].RunName)
	assert.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/fakeapi/nothing", nil, nil))
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, fakeapi.Options{Durations: fakeapi.Uniform(time.Millisecond)})
	require.NoError(t, h.api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: fakeapi.FaultUnavailable}, 5))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := h.submit(pythonRun(map[string]any{"idempotency_token": fmt.Sprintf("t-%d", i%4)}))
			for j := 0; j < 5; j++ {
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/2.1/jobs/runs/get?run_id=%d", h.srv.URL, id), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				if resp, err := h.srv.Client().Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				h.api.Advance(id, 1)
			}
			_ = h.api.Runs()
		}(i)
	}
	wg.Wait()
	assert.Len(t, h.api.Runs(), 4, "four idempotency tokens, four runs")
}

package databricks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flytestdlib/logger"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

// API paths, relative to https://<instance>.
const (
	submitPath = "/api/2.1/jobs/runs/submit"
	getPath    = "/api/2.1/jobs/runs/get"
	cancelPath = "/api/2.1/jobs/runs/cancel"
)

// maxResponseBytes bounds how much of an answer is read.
const maxResponseBytes = 4 << 20

// client is a small typed client for the three Jobs API calls the plugin
// makes. It owns timeouts, retries and error classification; it never logs or
// returns the token.
type client struct {
	http  *http.Client
	retry *remote.Retrier
	// sleep waits between tries; tests replace it to observe waits.
	sleep func(ctx context.Context, d time.Duration) error
	// now is the clock of pauses; tests replace it.
	now func() time.Time
}

func newClient(cfg *Config) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = cfg.HTTPTimeout.Duration
	c := &client{
		http: &http.Client{
			Transport: tr,
			Timeout:   cfg.HTTPTimeout.Duration,
			// Never follow a redirect: it could carry the token elsewhere
			// (net/http drops Authorization only across domains).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		sleep: remote.SleepCtx,
		now:   time.Now,
	}
	c.retry = &remote.Retrier{
		Policy: remote.Policy{
			MaxAttempts: cfg.Retry.MaxAttempts,
			Base:        cfg.Retry.BaseBackoff.Duration,
			Max:         cfg.Retry.MaxBackoff.Duration,
		},
		Sleep: func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) },
		Now:   func() time.Time { return c.now() },
		Log: func(ctx context.Context, format string, args ...any) {
			logger.Infof(ctx, format, args...)
		},
	}
	return c
}

// apiRun is the part of a runs/get answer the plugin reads. IDs are int64 all
// the way: run IDs exceed 2^53 and must never pass through float64.
type apiRun struct {
	JobID      int64         `json:"job_id"`
	RunID      int64         `json:"run_id"`
	RunName    string        `json:"run_name"`
	RunPageURL string        `json:"run_page_url"`
	State      *apiRunState  `json:"state"`
	Status     *apiRunStatus `json:"status"`
}

// apiRunState is the Jobs API 2.1 state object.
type apiRunState struct {
	LifeCycleState string `json:"life_cycle_state"`
	ResultState    string `json:"result_state"`
	StateMessage   string `json:"state_message"`
}

// apiRunStatus is the Jobs API 2.2 status object.
type apiRunStatus struct {
	State              string `json:"state"`
	TerminationDetails *struct {
		Code    string `json:"code"`
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"termination_details"`
	QueueDetails *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"queue_details"`
}

// apiError is an HTTP answer other than 2xx, or a call that could not be
// completed. Its text names the call and the host, never the token.
type apiError struct {
	// op is the call: "submit run", "get run 42", "cancel run 42".
	op string
	// host is the instance the call went to.
	host string
	// status is the HTTP status, 0 if no answer was received.
	status int
	// code and message are Databricks' error_code and message, if it sent
	// them, with any copy of the token removed.
	code, message string
	// cause is the transport or decoding failure when there is no status.
	cause error
	// retryAfter is the server's Retry-After, if any.
	retryAfter time.Duration
	// attempts is how many tries were made.
	attempts int
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Databricks %s at %s", e.op, e.host)
	if e.status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.status)
		if e.code != "" {
			fmt.Fprintf(&b, " %s", e.code)
		}
		if e.message != "" {
			fmt.Fprintf(&b, ": %s", e.message)
		}
	} else if e.cause != nil {
		fmt.Fprintf(&b, ": %v", e.cause)
	}
	if e.attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.attempts)
	}
	return b.String()
}

func (e *apiError) Unwrap() error { return e.cause }

// Transient, RetryAfter and SetAttempts make an apiError a remote.TryError.
func (e *apiError) Transient() bool { return e.transient() }

// RetryAfter is Databricks' Retry-After, if any.
func (e *apiError) RetryAfter() time.Duration { return e.retryAfter }

// SetAttempts records how many tries were made.
func (e *apiError) SetAttempts(n int) { e.attempts = n }

// transient reports whether trying again later may succeed.
func (e *apiError) transient() bool {
	if e.status == 0 {
		return !errors.Is(e.cause, context.Canceled)
	}
	return e.status == http.StatusTooManyRequests || e.status >= 500 || e.status == http.StatusRequestTimeout
}

// final reports whether Databricks answered and no retry can change the
// answer. A call that got no answer (including one whose context was
// cancelled) is never final.
func (e *apiError) final() bool {
	return e.status != 0 && !e.transient()
}

// tokenRefused reports whether Databricks refused the credentials.
func (e *apiError) tokenRefused() bool {
	return e.status == http.StatusUnauthorized || e.status == http.StatusForbidden
}

// notFound reports whether the run does not exist (any more). Databricks
// answers 404 RESOURCE_DOES_NOT_EXIST or, for runs, 400 INVALID_PARAMETER_VALUE
// "Run <id> does not exist.".
func (e *apiError) notFound() bool {
	return e.status == http.StatusNotFound || e.code == "RESOURCE_DOES_NOT_EXIST" ||
		(e.status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.message), "does not exist"))
}

// alreadyFinished reports whether a cancel was refused because the run had
// already ended.
func (e *apiError) alreadyFinished() bool {
	return e.code == "INVALID_STATE" || strings.Contains(strings.ToLower(e.message), "terminal state")
}

// errPaused marks a call not made because Databricks asked for a pause.
var errPaused = errors.New("not calling Databricks: paused")

// asAPIError returns err as an *apiError, if it is one.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}

// submit posts a one-time run (body is the JSON runs/submit body) and returns
// its ID.
//
//nolint:unparam // the tests' entry point; the plugin calls submitN
func (c *client) submit(ctx context.Context, host, token string, body []byte) (int64, error) {
	return c.submitN(ctx, 0, host, token, body)
}

// submitN is submit with at most maxAttempts tries (0: the policy's).
func (c *client) submitN(ctx context.Context, maxAttempts int, host, token string, body []byte) (int64, error) {
	var out struct {
		RunID *int64 `json:"run_id"`
	}
	if err := c.callN(ctx, maxAttempts, "submit run", host, token, http.MethodPost, submitPath, body, &out); err != nil {
		return 0, err
	}
	if out.RunID == nil {
		return 0, &apiError{op: "submit run", host: host, cause: errors.New("the answer has no run_id")}
	}
	return *out.RunID, nil
}

// getRun fetches a run.
func (c *client) getRun(ctx context.Context, host, token string, runID int64) (*apiRun, error) {
	var out apiRun
	path := getPath + "?run_id=" + strconv.FormatInt(runID, 10)
	if err := c.call(ctx, fmt.Sprintf("get run %d", runID), host, token, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	out.RunPageURL = redact(out.RunPageURL, token)
	if out.State != nil {
		out.State.StateMessage = redact(out.State.StateMessage, token)
	}
	if out.Status != nil && out.Status.TerminationDetails != nil {
		out.Status.TerminationDetails.Message = redact(out.Status.TerminationDetails.Message, token)
	}
	if out.Status != nil && out.Status.QueueDetails != nil {
		out.Status.QueueDetails.Message = redact(out.Status.QueueDetails.Message, token)
	}
	return &out, nil
}

// cancelRun asks Databricks to cancel a run.
func (c *client) cancelRun(ctx context.Context, host, token string, runID int64) error {
	raw := []byte(`{"run_id":` + strconv.FormatInt(runID, 10) + `}`)
	// The answer is an empty object; reading it tells a real answer from a
	// garbled one, which is retried like any other failed try.
	var out struct{}
	return c.call(ctx, fmt.Sprintf("cancel run %d", runID), host, token, http.MethodPost, cancelPath, raw, &out)
}

// call makes one API call with the retry policy. body is resent unchanged on
// every try (submit is safe to resend: it carries an idempotency token).
func (c *client) call(ctx context.Context, op, host, token, method, path string, body []byte, out any) error {
	return c.callN(ctx, 0, op, host, token, method, path, body, out)
}

// callN is call with at most maxAttempts tries (0: the policy's).
func (c *client) callN(ctx context.Context, maxAttempts int, op, host, token, method, path string, body []byte, out any) error {
	if wait := c.retry.PausedFor(host); wait > 0 {
		return &apiError{op: op, host: host, cause: fmt.Errorf("%w for another %v (Databricks asked with Retry-After)", errPaused, wait.Round(time.Second))}
	}
	return c.retry.Do(ctx, host, maxAttempts, func() error {
		return c.once(ctx, op, host, token, method, path, body, out)
	})
}

// once makes a single try.
func (c *client) once(ctx context.Context, op, host, token, method, path string, body []byte, out any) error {
	u := url.URL{Scheme: "https", Host: host}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String()+path, rd)
	if err != nil {
		return &apiError{op: op, host: host, cause: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "flyte-databricks-plugin")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &apiError{op: op, host: host, cause: scrubTransportError(err, token)}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &apiError{op: op, host: host, cause: fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{op: op, host: host, status: resp.StatusCode, retryAfter: remote.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())}
		// error_code is a word ("INVALID_PARAMETER_VALUE") on most answers,
		// but a number on some (an invalid token answers 403 with 403).
		var body struct {
			ErrorCode json.RawMessage `json:"error_code"`
			Message   string          `json:"message"`
		}
		if json.Unmarshal(raw, &body) == nil {
			e.code, e.message = redact(errorCode(body.ErrorCode), token), redact(body.Message, token)
		}
		if e.message == "" {
			e.message = redact(snippet(raw), token)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		// A 2xx we cannot read is treated like a dropped connection: the
		// call is retried (submit is idempotent).
		return &apiError{op: op, host: host, cause: fmt.Errorf("unreadable answer (HTTP %d): %w", resp.StatusCode, err)}
	}
	return nil
}

// errorCode reads an error_code that is a JSON string or number.
func errorCode(raw json.RawMessage) string {
	var word string
	if json.Unmarshal(raw, &word) == nil {
		return word
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration { return remote.ParseRetryAfter(v, time.Now()) }

// snippet is a short printable excerpt of a body that is not Databricks JSON.
func snippet(raw []byte) string { return remote.Snippet(raw) }

// redact removes every copy of token from s.
func redact(s, token string) string { return remote.Redact(s, token) }

// scrubTransportError keeps net/http's error (it names the URL, never
// headers) but makes sure the token cannot appear in it, and marks timeouts.
func scrubTransportError(err error, token string) error {
	return remote.ScrubTransportError(err, token)
}

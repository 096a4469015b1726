package databricks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted is a TLS server answering each request with the next scripted
// answer (the last one repeats).
type scripted struct {
	srv   *httptest.Server
	calls atomic.Int32
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func newScripted(t *testing.T, answers ...answer) *scripted {
	s := &scripted{}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.calls.Add(1)) - 1
		a := answers[min(n, len(answers)-1)]
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) host() string { return strings.TrimPrefix(s.srv.URL, "https://") }

// testClient is a client whose waits are recorded instead of slept.
func testClient(attempts int, base, maxWait time.Duration) (*client, *[]time.Duration) {
	cfg := Config{
		HTTPTimeout: config.Duration{Duration: 5 * time.Second},
		Retry: RetryPolicy{MaxAttempts: attempts, BaseBackoff: config.Duration{Duration: base},
			MaxBackoff: config.Duration{Duration: maxWait}},
	}
	c := newClient(&cfg)
	var mu sync.Mutex
	waits := &[]time.Duration{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, d)
		return ctx.Err()
	}
	return c, waits
}

func TestRetryAfterHonoured(t *testing.T) {
	s := newScripted(t,
		answer{status: 429, header: map[string]string{"Retry-After": "3"}, body: `{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}`},
		answer{status: 200, body: `{"run_id": 9007199254740993}`})
	c, waits := testClient(5, time.Millisecond, 10*time.Second)
	id, err := c.submit(context.Background(), s.host(), "tok", []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, int64(9007199254740993), id)
	require.Len(t, *waits, 1)
	assert.Equal(t, 3*time.Second, (*waits)[0], "the wait is the server's Retry-After")
}

func TestRetryAfterBeyondMaxBackoffEndsCall(t *testing.T) {
	s := newScripted(t, answer{status: 429, header: map[string]string{"Retry-After": "60"}})
	c, waits := testClient(5, time.Millisecond, 10*time.Second)
	_, err := c.submit(context.Background(), s.host(), "tok", []byte(`{}`))
	require.Error(t, err)
	e, ok := asAPIError(err)
	require.True(t, ok)
	assert.True(t, e.transient())
	assert.Empty(t, *waits)
	assert.EqualValues(t, 1, s.calls.Load())

	// The pause holds for every call to that host until it is over.
	now := time.Now()
	c.now = func() time.Time { return now }
	for _, call := range []func() error{
		func() error { _, err := c.submit(context.Background(), s.host(), "tok", []byte(`{}`)); return err },
		func() error { _, err := c.getRun(context.Background(), s.host(), "tok", 1); return err },
		func() error { return c.cancelRun(context.Background(), s.host(), "tok", 1) },
	} {
		err := call()
		require.Error(t, err)
		assert.ErrorIs(t, err, errPaused)
		e, _ := asAPIError(err)
		assert.True(t, e.transient(), "a pause is worth waiting out")
	}
	assert.EqualValues(t, 1, s.calls.Load(), "no request during the pause")
	now = now.Add(61 * time.Second)
	_, _ = c.getRun(context.Background(), s.host(), "tok", 1)
	assert.EqualValues(t, 2, s.calls.Load(), "called again once the pause is over")
}

func TestRetriesBoundedWithBackoff(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := newScripted(t, answer{status: status, body: `{"error_code":"X","message":"no"}`})
			c, waits := testClient(4, 100*time.Millisecond, 250*time.Millisecond)
			_, err := c.getRun(context.Background(), s.host(), "tok", 1)
			require.Error(t, err)
			assert.EqualValues(t, 4, s.calls.Load(), "exactly maxAttempts tries")
			require.Len(t, *waits, 3)
			for i, w := range *waits {
				full := min(100*time.Millisecond<<i, 250*time.Millisecond)
				assert.GreaterOrEqual(t, w, full/2, "wait %d", i)
				assert.LessOrEqual(t, w, full, "wait %d", i)
			}
			assert.Contains(t, err.Error(), "after 4 attempts")
		})
	}
}

func TestPermanentAnswersNotRetried(t *testing.T) {
	cases := []struct {
		status  int
		body    string
		refused bool
		missing bool
	}{
		{400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}`, false, false},
		{400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"Run 5 does not exist."}`, false, true},
		{401, `{"error_code":"UNAUTHENTICATED","message":"no"}`, true, false},
		{403, `<html>Forbidden</html>`, true, false},
		{403, `{"error_code": 403, "message": "Invalid access token."}`, true, false},
		{404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"gone"}`, false, true},
		{302, ``, false, false},
	}
	for _, cse := range cases {
		t.Run(fmt.Sprint(cse.status), func(t *testing.T) {
			s := newScripted(t, answer{status: cse.status, body: cse.body, header: map[string]string{"Location": "https://elsewhere.example.com/"}})
			c, waits := testClient(4, time.Millisecond, time.Millisecond)
			_, err := c.getRun(context.Background(), s.host(), "tok", 5)
			require.Error(t, err)
			e, ok := asAPIError(err)
			require.True(t, ok)
			assert.False(t, e.transient())
			assert.Equal(t, cse.refused, e.tokenRefused())
			assert.Equal(t, cse.missing, e.notFound())
			assert.EqualValues(t, 1, s.calls.Load(), "not retried, and redirects not followed")
			assert.Empty(t, *waits)
			assert.Equal(t, cse.status, e.status)
		})
	}
}

func TestConnectionErrorsRetried(t *testing.T) {
	s := newScripted(t, answer{status: 200, body: `{}`})
	host := s.host()
	s.srv.Close()
	c, waits := testClient(3, time.Millisecond, time.Millisecond)
	err := c.cancelRun(context.Background(), host, "tok", 5)
	require.Error(t, err)
	e, _ := asAPIError(err)
	assert.True(t, e.transient())
	assert.Len(t, *waits, 2)
}

func TestCancelledContextStopsRetries(t *testing.T) {
	s := newScripted(t, answer{status: 503})
	c, _ := testClient(10, time.Millisecond, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := c.getRun(ctx, s.host(), "tok", 5)
	require.Error(t, err)
	assert.EqualValues(t, 1, s.calls.Load())
}

func TestSubmitWithoutRunID(t *testing.T) {
	s := newScripted(t, answer{status: 200, body: `{"number_in_job": 1}`})
	c, _ := testClient(1, time.Millisecond, time.Millisecond)
	_, err := c.submit(context.Background(), s.host(), "tok", []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no run_id")
}

func TestParseRetryAfter(t *testing.T) {
	assert.Equal(t, time.Duration(0), parseRetryAfter(""))
	assert.Equal(t, time.Duration(0), parseRetryAfter("0"))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-4"))
	assert.Equal(t, time.Duration(0), parseRetryAfter("soon"))
	assert.Equal(t, 7*time.Second, parseRetryAfter(" 7 "))
	assert.Equal(t, 24*time.Hour, parseRetryAfter("99999999999"))
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	got := parseRetryAfter(future)
	assert.Greater(t, got, 58*time.Minute)
	assert.LessOrEqual(t, got, time.Hour)
	assert.Equal(t, time.Duration(0), parseRetryAfter("Mon, 02 Jan 2006 15:04:05 GMT"))
}

func TestRedactAndSnippet(t *testing.T) {
	assert.Equal(t, "a [REDACTED] b [REDACTED]", redact("a tok b tok", "tok"))
	assert.Equal(t, "nothing", redact("nothing", ""))
	long := strings.Repeat("x", 500)
	assert.Len(t, []rune(snippet([]byte(long))), 201)
	assert.Equal(t, "a b", snippet([]byte("a\nb")))
}

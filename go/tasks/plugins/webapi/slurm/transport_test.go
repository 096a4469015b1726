package slurm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testJWT = "jwt-SECRET-TOKEN-abc123" // #nosec G101 -- a test token

// fakeRest is an in-process slurmrestd speaking the v0.0.40+ list shapes.
func fakeRest(t testing.TB, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-SLURM-USER-TOKEN") != testJWT {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/jobs"):
			_, _ = w.Write([]byte(`{"jobs":[{"job_id":41,"name":"other"}],"errors":[]}`))
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/job/submit"):
			var body struct {
				Script string         `json:"script"`
				Job    map[string]any `json:"job"`
			}
			if json.NewDecoder(r.Body).Decode(&body) != nil || body.Script == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if _, isList := body.Job["environment"].([]any); !isList {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"errors":[{"error_number":9,"error":"environment must be a list"}]}`))
				return
			}
			_, _ = w.Write([]byte(`{"job_id":42,"errors":[]}`))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/job/42"):
			_, _ = w.Write([]byte(`{"jobs":[{"job_id":42,"name":"m","job_state":["FAILED"],"state_reason":"NonZeroExitCode",
				"exit_code":{"status":["EXITED"],"return_code":{"set":true,"number":3},"signal":{"id":{"set":false,"number":0}}},
				"standard_output":"/tmp/slurm-42.out"}]}`))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/job/43"):
			_, _ = w.Write([]byte(`{"jobs":[{"job_id":43,"job_state":["SOMETHING_NEW"]}]}`))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/job/44"):
			_, _ = w.Write([]byte(`{"jobs": [ {"job_id": "garbage"`))
		case strings.Contains(r.URL.Path, "/job/"):
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"errors":[{"error_number":2017,"error":"Invalid job id specified"}]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRESTListShapes(t *testing.T) {
	var calls atomic.Int32
	srv := fakeRest(t, &calls)
	tok := testJWT
	tr, err := newRESTTransport(Cluster{Name: "c", Transport: TransportREST, Address: srv.URL, User: "u", APIVersion: "v0.0.41", SecretKey: "k"},
		func(context.Context) (string, error) { return tok, nil }, 5*time.Second)
	require.NoError(t, err)
	ctx := context.Background()
	id, adopted, err := tr.submit(ctx, &Submission{Marker: "m", Script: "#!/bin/bash\ntrue\n"})
	require.NoError(t, err)
	assert.Equal(t, "42", id)
	assert.False(t, adopted)
	j, err := tr.job(ctx, "42")
	require.NoError(t, err)
	assert.Equal(t, "FAILED", j.State)
	assert.Equal(t, 3, j.ExitCode)
	j, err = tr.job(ctx, "43")
	require.NoError(t, err)
	assert.Equal(t, "SOMETHING_NEW", j.State)
	_, err = tr.job(ctx, "44")
	require.Error(t, err, "a malformed answer is an error to retry, not a state")
	e, ok := asCallError(err)
	require.True(t, ok)
	assert.True(t, e.transient)
	_, err = tr.job(ctx, "99")
	assert.ErrorIs(t, err, errJobGone)
	assert.NoError(t, tr.cancel(ctx, "99"), "cancelling a purged job is not an error")

	tok = "wrong"
	_, _, err = tr.submit(ctx, &Submission{Marker: "m", Script: "x"})
	require.Error(t, err)
	e, _ = asCallError(err)
	assert.True(t, e.permanent)
	assert.Contains(t, err.Error(), `secret "k"`)
	assert.NotContains(t, err.Error(), testJWT)
}

func TestRESTFlatShapeRejectedByListServer(t *testing.T) {
	var calls atomic.Int32
	srv := fakeRest(t, &calls)
	tr, err := newRESTTransport(Cluster{Name: "c", Address: srv.URL, User: "u", APIVersion: "v0.0.38", SecretKey: "k"},
		func(context.Context) (string, error) { return testJWT, nil }, 5*time.Second)
	require.NoError(t, err)
	_, _, err = tr.submit(context.Background(), &Submission{Marker: "m", Script: "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environment must be a list")
}

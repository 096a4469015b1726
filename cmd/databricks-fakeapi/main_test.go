package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// start runs the command in the background and returns its URL and a client
// that trusts its certificate.
func start(t *testing.T, args ...string) (string, *http.Client) {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-token", "dapi-demo", "-ca-out", ca}, args...), pw, io.Discard)
		_ = pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url := strings.TrimSpace(line)
	require.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)

	pemBytes, err := os.ReadFile(ca) // #nosec G304 -- the test's own temp file
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	return url, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func call(t *testing.T, c *http.Client, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer dapi-demo")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

func TestServesTheJobsAPIOverTLS(t *testing.T) {
	url, c := start(t, "-manual", "-fault", "submit:unavailable:1", "-outcome", "failed")
	submit := map[string]any{"run_name": "demo", "existing_cluster_id": "c",
		"spark_python_task": map[string]any{"python_file": "dbfs:///e.py"}}
	assert.Equal(t, http.StatusServiceUnavailable, call(t, c, http.MethodPost, url+"/api/2.1/jobs/runs/submit", submit, nil), "the -fault")
	var sub struct {
		RunID int64 `json:"run_id"`
	}
	require.Equal(t, http.StatusOK, call(t, c, http.MethodPost, url+"/api/2.1/jobs/runs/submit", submit, &sub))
	assert.Equal(t, fakeapi.FirstID, sub.RunID)

	var adv struct {
		State fakeapi.RunState `json:"state"`
	}
	require.Equal(t, http.StatusOK, call(t, c, http.MethodPost, url+"/fakeapi/advance", fakeapi.AdvanceRequest{RunID: sub.RunID, Steps: 9}, &adv))
	assert.Equal(t, "FAILED", adv.State.ResultState, "the -outcome")

	var got struct {
		State fakeapi.RunState `json:"state"`
	}
	require.Equal(t, http.StatusOK, call(t, c, http.MethodGet, fmt.Sprintf("%s/api/2.2/jobs/runs/get?run_id=%d", url, sub.RunID), nil, &got))
	assert.Equal(t, "TERMINATED", got.State.LifeCycleState)

	require.Equal(t, http.StatusOK, call(t, c, http.MethodPost, url+"/fakeapi/faults",
		fakeapi.FaultRequest{Endpoint: fakeapi.EndpointGet, Kind: fakeapi.FaultDropConnection}, nil))
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/2.1/jobs/runs/get?run_id=%d", url, sub.RunID), nil)
	req.Header.Set("Authorization", "Bearer dapi-demo")
	c.Transport.(*http.Transport).DisableKeepAlives = true
	_, err := c.Do(req)
	assert.Error(t, err, "the dropped connection")

	req, _ = http.NewRequest(http.MethodGet, url+"/fakeapi/runs", nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the token is required")
}

func TestRunsMoveByTheClock(t *testing.T) {
	url, c := start(t, "-tick", "0", "-status-only")
	var sub struct {
		RunID int64 `json:"run_id"`
	}
	require.Equal(t, http.StatusOK, call(t, c, http.MethodPost, url+"/api/2.1/jobs/runs/submit",
		map[string]any{"existing_cluster_id": "c", "notebook_task": map[string]any{"notebook_path": "/nb"}}, &sub))
	var got map[string]json.RawMessage
	require.Equal(t, http.StatusOK, call(t, c, http.MethodGet, fmt.Sprintf("%s/api/2.1/jobs/runs/get?run_id=%d", url, sub.RunID), nil, &got))
	assert.NotContains(t, got, "state")
	assert.Contains(t, string(got["status"]), `"TERMINATED"`)
}

func TestFlags(t *testing.T) {
	bad := map[string][]string{
		"no token":        {},
		"not loopback":    {"-token", "t", "-addr", "0.0.0.0:8443"},
		"public name":     {"-token", "t", "-addr", "example.com:8443"},
		"no port":         {"-token", "t", "-addr", "127.0.0.1"},
		"cert no key":     {"-token", "t", "-tls-cert", "c.pem"},
		"ca-out and cert": {"-token", "t", "-tls-cert", "c.pem", "-tls-key", "k.pem", "-ca-out", "x"},
		"bad outcome":     {"-token", "t", "-outcome", "MAYBE"},
		"bad fault":       {"-token", "t", "-fault", "submit"},
		"bad endpoint":    {"-token", "t", "-fault", "list:slow"},
		"bad kind":        {"-token", "t", "-fault", "get:gremlins"},
		"bad count":       {"-token", "t", "-fault", "get:slow:0"},
		"bad after":       {"-token", "t", "-fault", "get:slow:1:before"},
		"negative tick":   {"-token", "t", "-tick", "-1s"},
		"extra args":      {"-token", "t", "extra"},
	}
	for name, args := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(args, io.Discard)
			assert.Error(t, err)
		})
	}
	o, err := parseFlags([]string{"-token", "t", "-addr", "localhost:0", "-tick", "3s", "-running", "10s",
		"-fault", "get:rate-limit:2:after", "-retry-after", "4s"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, fakeapi.Durations{Queued: 3 * time.Second, Pending: 3 * time.Second, Running: 10 * time.Second, Terminating: 3 * time.Second}, o.api.Durations)
	require.Len(t, o.faults, 1)
	assert.Equal(t, 2, o.faults[0].count)
	assert.True(t, o.faults[0].fault.AfterEffect)
	assert.Equal(t, 4*time.Second, o.faults[0].fault.RetryAfter)
}

func TestOwnCertificate(t *testing.T) {
	dir := t.TempDir()
	c, err := fakeapi.NewLoopbackCert("127.0.0.1")
	require.NoError(t, err)
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(cert, c.CertPEM, 0o600))
	require.NoError(t, os.WriteFile(key, c.KeyPEM, 0o600))
	o, err := parseFlags([]string{"-token", "t", "-tls-cert", cert, "-tls-key", key}, io.Discard)
	require.NoError(t, err)
	_, err = loadOrMakeCert(o, "127.0.0.1")
	require.NoError(t, err)
}

package databricks_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// recorder is a TLS server that answers like Databricks and remembers every
// request, headers included.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecorder(t testing.TB) *recorder {
	r := &recorder{}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.mu.Unlock()
		_, _ = io.WriteString(w, `{"run_id": 1}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) host() string { return strings.TrimPrefix(r.srv.URL, "https://") }

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// TestAllowlist: a task naming a host that is not allowed cannot make the
// plugin send the platform token there; an allowed host gets the run.
func TestAllowlist(t *testing.T) {
	foreign := newRecorder(t)
	allowed := fakeapi.New(fakeapi.Options{Token: platformToken, Manual: true})
	allowedSrv := httptest.NewTLSServer(allowed)
	t.Cleanup(allowedSrv.Close)
	allowedHost := strings.TrimPrefix(allowedSrv.URL, "https://")

	e := newEnv(t, fakeapi.Options{Manual: true}, func(c *databricks.Config) {
		c.AllowedInstances = []string{"https://" + strings.ToUpper(allowedHost) + "/"}
	})

	for _, instance := range []string{
		foreign.host(),
		"https://" + foreign.host() + "/",
		strings.ToUpper(foreign.host()),
		e.host + "@" + foreign.host(),
		foreign.host() + "/api",
		foreign.host() + "#" + e.host,
		"http://" + e.host,
		e.host + ".",
		" ",
	} {
		t.Run(instance, func(t *testing.T) {
			k := newTask(t, taskSpec{conf: newClusterConf(nil), instance: instance, name: "t-" + fmt.Sprint(len(e.api.Runs()))})
			meta := e.create(k)
			assert.Equal(t, e.host, meta.Instance, "the configured instance is used")
			assert.Equal(t, core.PhaseQueued, e.phase(k, meta).Phase())
			require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
		})
	}
	assert.Zero(t, foreign.count(), "no request, and so no token, ever reached the foreign host")

	k := newTask(t, taskSpec{conf: newClusterConf(nil), instance: allowedHost})
	meta := e.create(k)
	assert.Equal(t, allowedHost, meta.Instance)
	require.Len(t, allowed.Runs(), 1)
	assert.Equal(t, core.PhaseQueued, e.phase(k, meta).Phase())
	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
	assert.Equal(t, "CANCELED", allowed.Runs()[0].State.ResultState, "polling and cancelling follow the run to its host")
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLogs sends flytestdlib's logs, at debug level, to a buffer for the
// rest of the test.
func captureLogs(t *testing.T) *syncBuffer {
	prev := *logger.GetConfig()
	buf := &syncBuffer{}
	cfg := prev
	cfg.Level = logger.DebugLevel
	require.NoError(t, logger.SetConfig(&cfg))
	logrus.SetOutput(buf)
	t.Cleanup(func() {
		logrus.SetOutput(logrusDefaultOut)
		_ = logger.SetConfig(&prev)
	})
	return buf
}

var logrusDefaultOut = logrus.StandardLogger().Out

// echoServer is a Databricks look-alike that puts the bearer token it was
// sent into everything it answers: messages, links, error bodies.
func echoServer(t testing.TB) string {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		tok := strings.TrimPrefix(auth, "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/submit"):
			_, _ = fmt.Fprint(w, `{"run_id": 77}`)
		case strings.HasSuffix(r.URL.Path, "/get"):
			_ = json.NewEncoder(w).Encode(map[string]any{
				"run_id": 77, "job_id": 5,
				"run_page_url": "https://console.example.com/run?auth=" + tok,
				"state": map[string]any{"life_cycle_state": "TERMINATED", "result_state": "FAILED",
					"state_message": "you sent " + auth},
			})
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error_code": "INVALID_%s", "message": "bad request from %s"}`, tok, auth) // #nosec G705 -- a test server echoing on purpose
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

// TestTokenNeverLeaks runs the plugin through successes, failures, retries,
// refusals and a server that echoes the token back, and looks for the token
// in everything the plugin leaves behind: logs, plugin state (as propeller
// stores it, gob-encoded), resources, phases, events' task info, links and
// errors.
func TestTokenNeverLeaks(t *testing.T) {
	logs := captureLogs(t)
	var seen []string
	keep := func(vs ...any) {
		for _, v := range vs {
			seen = append(seen, fmt.Sprintf("%v|%+v|%#v", v, v, v))
		}
	}
	keepState := func(meta webapi.ResourceMeta) {
		var buf bytes.Buffer
		require.NoError(t, gob.NewEncoder(&buf).Encode(struct{ ResourceMeta webapi.ResourceMeta }{meta}))
		seen = append(seen, buf.String())
		var back struct{ ResourceMeta webapi.ResourceMeta }
		require.NoError(t, gob.NewDecoder(&buf).Decode(&back))
		assert.Equal(t, meta, back.ResourceMeta, "plugin state survives propeller's gob round trip")
	}
	keepPhase := func(ph core.PhaseInfo) {
		keep(ph.String(), ph.Reason(), ph.Err())
		if info := ph.Info(); info != nil {
			for _, l := range info.Logs {
				raw, _ := protojson.Marshal(l)
				seen = append(seen, string(raw))
			}
			if info.CustomInfo != nil {
				raw, _ := protojson.Marshal(info.CustomInfo)
				seen = append(seen, string(raw))
			}
		}
	}
	ctx := context.Background()

	// A normal life, with faults to retry.
	e := newEnv(t, fakeapi.Options{Manual: true})
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointSubmit, fakeapi.Fault{Kind: fakeapi.FaultDropConnection, AfterEffect: true}, 1))
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: fakeapi.FaultUnavailable}, 1))
	require.NoError(t, e.api.InjectFault(fakeapi.EndpointCancel, fakeapi.Fault{Kind: fakeapi.FaultMalformedJSON}, 1))
	k := newTask(t, taskSpec{conf: newClusterConf(nil), inlineToken: "dapi-INLINE-task-token"}) // #nosec G101 -- a test token
	meta := e.create(k)
	keepState(meta)
	for i := 0; i < 6; i++ {
		res, err := e.plugin.Get(ctx, getCtx(meta))
		require.NoError(t, err)
		keep(res)
		ph, err := e.plugin.Status(ctx, k.statusCtx(meta, res))
		require.NoError(t, err)
		keepPhase(ph)
		e.api.Advance(meta.RunID, 1)
	}
	require.NoError(t, e.plugin.Delete(ctx, deleteCtx(meta)))

	// A failed run, a rejected submission, exhausted retries.
	failed := newEnv(t, fakeapi.Options{DefaultOutcome: fakeapi.OutcomeFailed})
	fk := newTask(t, taskSpec{conf: newClusterConf(nil)})
	fmeta := failed.create(fk)
	keepPhase(failed.phase(fk, fmeta))
	_, res, err := failed.plugin.Create(ctx, newTask(t, taskSpec{conf: map[string]any{"notebook_task": map[string]any{}}, name: "bad"}).createCtx())
	require.NoError(t, err)
	keep(res)
	require.NoError(t, failed.api.InjectFault(fakeapi.EndpointGet, fakeapi.Fault{Kind: fakeapi.FaultInternalError}, 10))
	_, err = failed.plugin.Get(ctx, getCtx(fmeta))
	require.Error(t, err)
	keep(err)

	// A workspace that refuses the token.
	refusing := newEnv(t, fakeapi.Options{Token: "dapi-something-else"})
	rk := newTask(t, taskSpec{conf: newClusterConf(nil)})
	rmeta, res, err := refusing.plugin.Create(ctx, rk.createCtx())
	require.NoError(t, err)
	keep(rmeta, res)
	ph, err := refusing.plugin.Status(ctx, rk.statusCtx(rmeta, res))
	require.NoError(t, err)
	keepPhase(ph)
	assert.Equal(t, "DatabricksTokenRefused", ph.Err().GetCode())
	err = refusing.plugin.Delete(ctx, deleteCtx(databricks.RunMeta{RunID: 3, Instance: refusing.host, TokenKey: databricks.DefaultTokenKey}))
	require.Error(t, err)
	keep(err)

	// A server that echoes the token into every answer.
	echoHost := echoServer(t)
	echo := load(t, testConfig(echoHost), nil)
	ek := newTask(t, taskSpec{conf: newClusterConf(nil), name: "echo"})
	emeta, res, err := echo.Create(ctx, ek.createCtx())
	require.NoError(t, err)
	require.Nil(t, res)
	keepState(emeta)
	eres, err := echo.Get(ctx, getCtx(emeta))
	require.NoError(t, err)
	keep(eres)
	ph, err = echo.Status(ctx, ek.statusCtx(emeta, eres))
	require.NoError(t, err)
	keepPhase(ph)
	assert.Contains(t, ph.Err().GetMessage(), "you sent Bearer [REDACTED]", "the echoed token is cut out")
	err = echo.Delete(ctx, deleteCtx(emeta))
	require.Error(t, err)
	keep(err)

	all := strings.Join(seen, "\n") + "\n" + logs.String()
	assertNoSecret(t, all, platformToken)
	assertNoSecret(t, all, "dapi-INLINE-task-token")
	assert.Contains(t, logs.String(), "databricksToken; it is ignored", "the logs were captured")
	assert.Contains(t, logs.String(), "try 2 of 4", "retries were logged")
}

// assertNoSecret fails with the text around the first copy of secret in s.
func assertNoSecret(t *testing.T, s, secret string) {
	t.Helper()
	i := strings.Index(s, secret)
	if i < 0 {
		return
	}
	from, to := max(0, i-200), min(len(s), i+len(secret)+50)
	t.Errorf("secret found: ...%s...", s[from:to])
}

// Plugin state lives in the FlyteWorkflow object, not in the config: a
// state naming a host or secret the config does not is refused before any
// token is read or sent — polling fails the task, abort gives up.
func TestSavedStateIsCheckedBeforeTheTokenIsSent(t *testing.T) {
	foreign := newRecorder(t)
	e := newEnv(t, fakeapi.Options{Manual: true}, func(c *databricks.Config) {
		c.NamespaceTokenKeys = map[string]string{"team-a": "TEAM_A_TOKEN"}
	})
	for name, meta := range map[string]databricks.RunMeta{
		"foreign host":           {RunID: 1, Instance: foreign.host(), TokenKey: databricks.DefaultTokenKey},
		"host written otherwise": {RunID: 1, Instance: "https://" + e.host + "/", TokenKey: databricks.DefaultTokenKey},
		"foreign secret key":     {RunID: 1, Instance: e.host, TokenKey: "SOMEONE_ELSES_TOKEN"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := e.plugin.Get(context.Background(), getCtx(meta))
			require.NoError(t, err)
			k := newTask(t, taskSpec{conf: newClusterConf(nil)})
			ph, err := e.plugin.Status(context.Background(), k.statusCtx(meta, res))
			require.NoError(t, err)
			assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
			assert.Equal(t, "DatabricksStateNotTrusted", ph.Err().GetCode())
			require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
		})
	}
	assert.Zero(t, foreign.count(), "the foreign host was never called")
	assert.Empty(t, e.api.Requests(), "nothing was sent for a state that names another secret")

	// The keys the config names are trusted.
	for _, key := range []string{databricks.DefaultTokenKey, "TEAM_A_TOKEN"} {
		// Trusted: the plugin goes on to read the secret (this plugin has no
		// secret manager and has read no token yet, so that is as far as it
		// gets).
		_, err := e.plugin.Get(context.Background(), getCtx(databricks.RunMeta{RunID: 1, Instance: e.host, TokenKey: key}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `no Databricks token available from secret "`+key+`"`)
	}
}

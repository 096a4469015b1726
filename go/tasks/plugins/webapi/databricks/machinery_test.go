package databricks_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	coremocks "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core/mocks"
	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// stateStore keeps plugin state between rounds the way propeller does: gob
// encoded bytes.
type stateStore struct {
	mu      sync.Mutex
	version uint8
	raw     []byte
}

func (s *stateStore) GetStateVersion() uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

func (s *stateStore) Get(t interface{}) (uint8, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.raw) == 0 {
		return 0, nil
	}
	return s.version, gob.NewDecoder(bytes.NewReader(s.raw)).Decode(t)
}

func (s *stateStore) Put(version uint8, v interface{}) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version, s.raw = version, buf.Bytes()
	return nil
}

func (s *stateStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version, s.raw = 0, nil
	return nil
}

func (s *stateStore) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.raw...)
}

// TestThroughWebAPIMachinery runs the plugin the way propeller does: the
// registry entry wrapped by flyteplugins' web-API machinery (quota tokens,
// the status cache, gob-encoded plugin state), driven by Handle rounds.
func TestThroughWebAPIMachinery(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	e.cfg.WebAPI.Caching.Workers = 2
	require.NoError(t, databricks.SetConfig(&e.cfg))

	secrets := secretsFor(map[string]string{databricks.DefaultTokenKey: platformToken})
	registrar := &coremocks.ResourceRegistrar{}
	registrar.EXPECT().RegisterResourceQuota(mock.Anything, core.ResourceNamespace("default"), 1000).Return(nil)
	setup := &coremocks.SetupContext{}
	setup.EXPECT().MetricsScope().Return(promutils.NewTestScope())
	setup.EXPECT().ResourceRegistrar().Return(registrar)
	setup.EXPECT().SecretManager().Return(secrets).Maybe()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entry := pluginmachinery.CreateRemotePlugin(databricks.PluginEntry())
	plugin, err := entry.LoadPlugin(ctx, setup)
	require.NoError(t, err)

	run := func(name string, outcome fakeapi.Outcome) (core.PhaseInfo, *stateStore) {
		k := newTask(t, taskSpec{conf: newClusterConf(nil), name: name,
			sparkConf: map[string]string{fakeapi.MarkerKey: string(outcome)}})
		resources := &coremocks.ResourceManager{}
		resources.EXPECT().AllocateResource(mock.Anything, core.ResourceNamespace("default"), name, mock.Anything).
			Return(core.AllocationStatusGranted, nil)
		resources.EXPECT().ReleaseResource(mock.Anything, core.ResourceNamespace("default"), name).Return(nil).Maybe()
		state := &stateStore{}
		tCtx := &coremocks.TaskExecutionContext{}
		tCtx.EXPECT().PluginStateReader().Return(state)
		tCtx.EXPECT().PluginStateWriter().Return(state)
		tCtx.EXPECT().TaskExecutionMetadata().Return(k.md)
		tCtx.EXPECT().ResourceManager().Return(resources)
		tCtx.EXPECT().TaskReader().Return(k.reader)
		tCtx.EXPECT().SecretManager().Return(k.secrets)
		tCtx.EXPECT().InputReader().Return(k.inputs)
		tCtx.EXPECT().OutputWriter().Return(k.outputs)
		tCtx.EXPECT().DataStore().Return(k.store)

		var last core.PhaseInfo
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			trns, err := plugin.Handle(ctx, tCtx)
			require.NoError(t, err)
			last = trns.Info()
			if last.Phase().IsTerminal() {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		require.True(t, last.Phase().IsTerminal(), "the task finished (last phase %v)", last)
		require.NoError(t, plugin.Finalize(ctx, tCtx))
		return last, state
	}

	ph, state := run("machinery-ok", fakeapi.OutcomeSuccess)
	assert.Equal(t, core.PhaseSuccess, ph.Phase())
	require.NotEmpty(t, ph.Info().Logs)
	assert.Equal(t, databricks.ConsoleLinkName, ph.Info().Logs[0].GetName())
	assert.NotContains(t, string(state.bytes()), platformToken, "the stored plugin state holds no token")
	assert.Contains(t, string(state.bytes()), "RunMeta", "the stored plugin state holds the run")

	ph, _ = run("machinery-failed", fakeapi.OutcomeFailed)
	assert.Equal(t, core.PhaseRetryableFailure, ph.Phase())
	assert.Equal(t, "DatabricksRunFailed", ph.Err().GetCode())
	assert.Len(t, e.api.Runs(), 2)
}

// TestAbortThroughWebAPIMachinery: Abort on the machinery cancels the run.
func TestAbortThroughWebAPIMachinery(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plugin := loadThroughMachinery(ctx, t)

	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	state := &stateStore{}
	// The state the machinery would have saved after Create.
	require.NoError(t, state.Put(1, struct {
		Phase        int
		PhaseVersion uint32
		ResourceMeta interface{}
	}{Phase: 2, PhaseVersion: 2, ResourceMeta: meta}))
	tCtx := &coremocks.TaskExecutionContext{}
	tCtx.EXPECT().PluginStateReader().Return(state)
	tCtx.EXPECT().TaskExecutionMetadata().Return(k.md)
	require.NoError(t, plugin.Abort(ctx, tCtx))
	assert.Equal(t, "CANCELED", e.onlyRun().State.ResultState)
}

// upstreamState reads testdata/upstream-v1.16.8-state.gob: the web-API
// machinery's state with flyteplugins v1.16.8's Databricks plugin state in
// it (its ResourceMetaWrapper under its gob name: run 9007199254740993, a
// stored token), made by a throwaway program that registered a look-alike
// type under that name. Its instance, "127.0.0.1:00000", is replaced by
// host, which has the same length on loopback's ephemeral ports.
func upstreamState(t *testing.T, host string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/upstream-v1.16.8-state.gob")
	require.NoError(t, err)
	const placeholder = "127.0.0.1:00000"
	if len(host) != len(placeholder) {
		t.Skipf("the fake's host %q is not %d characters long", host, len(placeholder))
	}
	require.Contains(t, string(raw), "dapi-upstream-stored-this", "the fixture carries upstream's stored token")
	return bytes.Replace(raw, []byte(placeholder), []byte(host), 1)
}

// A task in flight when a platform swaps upstream's plugin for ours is
// tracked and aborted from the state upstream saved; the token upstream
// stored is dropped on reading and never sent, logged or saved again.
func TestUpstreamStateAfterASwap(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	require.Equal(t, int64(9007199254740993), e.create(k).RunID, "the fake's first run is the fixture's")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plugin := loadThroughMachinery(ctx, t)

	state := &stateStore{version: 1, raw: upstreamState(t, e.host)}
	var decoded struct{ ResourceMeta interface{} }
	_, err := state.Get(&decoded)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%#v", decoded.ResourceMeta), "dapi-upstream-stored-this", "the stored token is not read")

	// Polling it finds the run (with the platform's token).
	ph := e.phase(k, decoded.ResourceMeta)
	assert.Equal(t, core.PhaseQueued, ph.Phase())
	require.NotEmpty(t, ph.Info().Logs)
	assert.Contains(t, ph.Info().Logs[0].GetUri(), "9007199254740993")

	// Abort through the machinery cancels the run, with the platform's token.
	tCtx := &coremocks.TaskExecutionContext{}
	tCtx.EXPECT().PluginStateReader().Return(state)
	tCtx.EXPECT().TaskExecutionMetadata().Return(k.md)
	require.NoError(t, plugin.Abort(ctx, tCtx))
	assert.Equal(t, "CANCELED", e.onlyRun().State.ResultState)
	for _, r := range e.api.Requests() {
		assert.True(t, r.Authorized, "%s was sent the platform's token", r.Endpoint)
	}
}

// loadThroughMachinery loads the plugin as propeller does: through the web-API
// machinery, with a setup context whose secret manager has the platform token.
func loadThroughMachinery(ctx context.Context, t *testing.T) core.Plugin {
	t.Helper()
	setup := &coremocks.SetupContext{}
	setup.EXPECT().MetricsScope().Return(promutils.NewTestScope())
	registrar := &coremocks.ResourceRegistrar{}
	registrar.EXPECT().RegisterResourceQuota(mock.Anything, mock.Anything, mock.Anything).Return(nil)
	setup.EXPECT().ResourceRegistrar().Return(registrar)
	setup.EXPECT().SecretManager().Return(secretsFor(map[string]string{databricks.DefaultTokenKey: platformToken})).Maybe()
	plugin, err := pluginmachinery.CreateRemotePlugin(databricks.PluginEntry()).LoadPlugin(ctx, setup)
	require.NoError(t, err)
	return plugin
}

package slurm_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	coremocks "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core/mocks"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/ioutils"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	webmocks "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi/mocks"
	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/contextutils"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils/labeled"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"
)

var (
	baseline  slurm.Config
	testStore *storage.DataStore
)

func TestMain(m *testing.M) {
	_ = logger.SetConfig(logger.GetConfig())
	baseline = *slurm.GetConfig()
	labeled.SetMetricKeys(contextutils.ProjectKey, contextutils.DomainKey, contextutils.WorkflowIDKey, contextutils.TaskIDKey)
	store, err := storage.NewDataStore(&storage.Config{Type: storage.TypeMemory}, promutils.NewTestScope())
	if err != nil {
		panic(err)
	}
	testStore = store
	os.Exit(m.Run())
}

// testConfig is baseline with clusters and fast retries and resyncs.
func testConfig(clusters ...slurm.Cluster) slurm.Config {
	cfg := baseline
	cfg.Clusters = clusters
	cfg.CallTimeout = config.Duration{Duration: 20 * time.Second}
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.BaseBackoff = config.Duration{Duration: 10 * time.Millisecond}
	cfg.Retry.MaxBackoff = config.Duration{Duration: 50 * time.Millisecond}
	cfg.WebAPI.Caching.ResyncInterval = config.Duration{Duration: 5 * time.Second}
	cfg.WebAPI.Caching.Workers = 2
	cfg.Logs = slurm.LogTemplates{Stdout: "https://hpc.example/logs/{{ .slurmCluster }}/{{ .slurmJobID }}?path={{ .stdout }}"}
	return cfg
}

// taskSpec describes a task.
type taskSpec struct {
	taskType string
	custom   map[string]any
	args     []string
	outputs  map[string]*idlcore.LiteralType
	name     string
	inputs   map[string]*idlcore.Literal
}

type task struct {
	t       testing.TB
	tmpl    *idlcore.TaskTemplate
	name    string
	md      *coremocks.TaskExecutionMetadata
	secrets core.SecretManager
	inputs  ioutils.RemoteFileInputReader
	outputs *ioutils.BufferedOutputWriter
	reader  taskReader
}

type taskReader struct{ tmpl *idlcore.TaskTemplate }

func (r taskReader) Read(context.Context) (*idlcore.TaskTemplate, error) { return r.tmpl, nil }
func (r taskReader) Path(context.Context) (storage.DataReference, error) {
	return "s3://bucket/metadata/task.pb", nil
}

func secretsFor(secrets map[string]string) *coremocks.SecretManager {
	sm := &coremocks.SecretManager{}
	sm.EXPECT().Get(mock.Anything, mock.Anything).RunAndReturn(func(_ context.Context, key string) (string, error) {
		if v, ok := secrets[key]; ok {
			return v, nil
		}
		return "", fmt.Errorf("secret %q not found", key)
	}).Maybe()
	return sm
}

func newTask(t testing.TB, s taskSpec, secrets core.SecretManager) *task {
	t.Helper()
	ctx := context.Background()
	if s.taskType == "" {
		s.taskType = slurm.TaskTypeFunction
	}
	if s.name == "" {
		s.name = fmt.Sprintf("t%d-n0-0", time.Now().UnixNano())
	}
	custom, err := structpb.NewStruct(s.custom)
	require.NoError(t, err)
	outVars := map[string]*idlcore.Variable{}
	for k, v := range s.outputs {
		outVars[k] = &idlcore.Variable{Type: v}
	}
	tmpl := &idlcore.TaskTemplate{
		Id:        &idlcore.Identifier{ResourceType: idlcore.ResourceType_TASK, Project: "p", Domain: "d", Name: "t", Version: "v"},
		Type:      s.taskType,
		Custom:    custom,
		Interface: &idlcore.TypedInterface{Outputs: &idlcore.VariableMap{Variables: outVars}},
		Target:    &idlcore.TaskTemplate_Container{Container: &idlcore.Container{Image: "img", Args: s.args}},
	}
	id := &coremocks.TaskExecutionID{}
	id.EXPECT().GetGeneratedName().Return(s.name).Maybe()
	id.EXPECT().GetID().Return(idlcore.TaskExecutionIdentifier{TaskId: tmpl.GetId(),
		NodeExecutionId: &idlcore.NodeExecutionIdentifier{NodeId: "n0",
			ExecutionId: &idlcore.WorkflowExecutionIdentifier{Project: "p", Domain: "d", Name: s.name}}}).Maybe()
	id.EXPECT().GetUniqueNodeID().Return("n0").Maybe()
	md := &coremocks.TaskExecutionMetadata{}
	md.EXPECT().GetTaskExecutionID().Return(id).Maybe()
	md.EXPECT().GetNamespace().Return("ns").Maybe()
	inPaths := ioutils.NewInputFilePaths(ctx, testStore, storage.DataReference("s3://bucket/inputs/"+s.name))
	require.NoError(t, testStore.WriteProtobuf(ctx, inPaths.GetInputPath(), storage.Options{}, &idlcore.LiteralMap{Literals: s.inputs}))
	paths := ioutils.NewCheckpointRemoteFilePaths(ctx, testStore, storage.DataReference("s3://bucket/outputs/"+s.name),
		ioutils.NewRawOutputPaths(ctx, "s3://bucket/raw/"+storage.DataReference(s.name)), "")
	return &task{t: t, tmpl: tmpl, name: s.name, md: md, secrets: secrets,
		inputs: ioutils.NewRemoteFileInputReader(ctx, testStore, inPaths), outputs: ioutils.NewBufferedOutputWriter(ctx, paths),
		reader: taskReader{tmpl: tmpl}}
}

func (k *task) createCtx() *webmocks.TaskExecutionContextReader {
	c := &webmocks.TaskExecutionContextReader{}
	c.EXPECT().TaskReader().Return(k.reader).Maybe()
	c.EXPECT().TaskExecutionMetadata().Return(k.md).Maybe()
	c.EXPECT().SecretManager().Return(k.secrets).Maybe()
	c.EXPECT().InputReader().Return(k.inputs).Maybe()
	c.EXPECT().OutputWriter().Return(k.outputs).Maybe()
	return c
}

func (k *task) statusCtx(meta webapi.ResourceMeta, res webapi.Resource) *webmocks.StatusContext {
	c := &webmocks.StatusContext{}
	c.EXPECT().TaskReader().Return(k.reader).Maybe()
	c.EXPECT().TaskExecutionMetadata().Return(k.md).Maybe()
	c.EXPECT().SecretManager().Return(k.secrets).Maybe()
	c.EXPECT().InputReader().Return(k.inputs).Maybe()
	c.EXPECT().OutputWriter().Return(k.outputs).Maybe()
	c.EXPECT().DataStore().Return(testStore).Maybe()
	c.EXPECT().ResourceMeta().Return(meta).Maybe()
	c.EXPECT().Resource().Return(res).Maybe()
	return c
}

func getCtx(meta webapi.ResourceMeta) *webmocks.GetContext {
	c := &webmocks.GetContext{}
	c.EXPECT().ResourceMeta().Return(meta).Maybe()
	return c
}

func deleteCtx(meta webapi.ResourceMeta) *webmocks.DeleteContext {
	c := &webmocks.DeleteContext{}
	c.EXPECT().ResourceMeta().Return(meta).Maybe()
	c.EXPECT().Reason().Return("aborted by test").Maybe()
	return c
}

// load builds the plugin from its registry entry with cfg in force.
func load(t testing.TB, cfg slurm.Config, secrets core.SecretManager) webapi.AsyncPlugin {
	t.Helper()
	require.NoError(t, slurm.SetConfig(&cfg))
	sc := &coremocks.SetupContext{}
	sc.EXPECT().MetricsScope().Return(promutils.NewTestScope()).Maybe()
	sc.EXPECT().SecretManager().Return(secrets).Maybe()
	p, err := slurm.PluginEntry().PluginLoader(context.Background(), sc)
	require.NoError(t, err)
	t.Cleanup(p.(*slurm.Plugin).Close)
	return p
}

// phase polls once and maps the job to a phase.
func phase(t testing.TB, p webapi.AsyncPlugin, k *task, meta webapi.ResourceMeta) core.PhaseInfo {
	t.Helper()
	res, err := p.Get(context.Background(), getCtx(meta))
	require.NoError(t, err)
	ph, err := p.Status(context.Background(), k.statusCtx(meta, res))
	require.NoError(t, err)
	return ph
}

// stateStore keeps plugin state between rounds as propeller does (gob).
type stateStore struct {
	mu      sync.Mutex
	version uint8
	raw     []byte
}

func (s *stateStore) GetStateVersion() uint8 { s.mu.Lock(); defer s.mu.Unlock(); return s.version }
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

// machinery is the plugin loaded as propeller loads it: the registry entry
// wrapped by the web-API machinery.
type machinery struct {
	plugin  core.Plugin
	secrets core.SecretManager
}

func loadMachinery(ctx context.Context, t testing.TB, cfg slurm.Config, secrets core.SecretManager) *machinery {
	t.Helper()
	require.NoError(t, slurm.SetConfig(&cfg))
	registrar := &coremocks.ResourceRegistrar{}
	registrar.EXPECT().RegisterResourceQuota(mock.Anything, mock.Anything, mock.Anything).Return(nil)
	setup := &coremocks.SetupContext{}
	setup.EXPECT().MetricsScope().Return(promutils.NewTestScope())
	setup.EXPECT().ResourceRegistrar().Return(registrar)
	setup.EXPECT().SecretManager().Return(secrets).Maybe()
	// The entry propeller loads: what init() registered.
	var entry *core.PluginEntry
	for _, e := range pluginmachinery.PluginRegistry().GetCorePlugins() {
		if e.ID == "slurm" {
			e := e
			entry = &e
		}
	}
	require.NotNil(t, entry, "slurm is registered")
	require.ElementsMatch(t, []core.TaskType{"slurm", "slurm_fn"}, entry.RegisteredTaskTypes)
	p, err := entry.LoadPlugin(ctx, setup)
	require.NoError(t, err)
	return &machinery{plugin: p, secrets: secrets}
}

// run is one task driven through Handle rounds.
type run struct {
	k     *task
	state *stateStore
	tCtx  *coremocks.TaskExecutionContext
}

func (m *machinery) start(k *task) *run {
	resources := &coremocks.ResourceManager{}
	resources.EXPECT().AllocateResource(mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(core.AllocationStatusGranted, nil).Maybe()
	resources.EXPECT().ReleaseResource(mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	r := &run{k: k, state: &stateStore{}}
	tCtx := &coremocks.TaskExecutionContext{}
	tCtx.EXPECT().PluginStateReader().Return(r.state).Maybe()
	tCtx.EXPECT().PluginStateWriter().Return(r.state).Maybe()
	tCtx.EXPECT().TaskExecutionMetadata().Return(k.md).Maybe()
	tCtx.EXPECT().ResourceManager().Return(resources).Maybe()
	tCtx.EXPECT().TaskReader().Return(k.reader).Maybe()
	tCtx.EXPECT().SecretManager().Return(k.secrets).Maybe()
	tCtx.EXPECT().InputReader().Return(k.inputs).Maybe()
	tCtx.EXPECT().OutputWriter().Return(k.outputs).Maybe()
	tCtx.EXPECT().DataStore().Return(testStore).Maybe()
	r.tCtx = tCtx
	return r
}

// until runs Handle rounds until done says stop or the timeout passes.
func (m *machinery) until(ctx context.Context, t testing.TB, r *run, timeout time.Duration, done func(core.PhaseInfo) bool) core.PhaseInfo {
	t.Helper()
	var last core.PhaseInfo
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		trns, err := m.plugin.Handle(ctx, r.tCtx)
		require.NoError(t, err)
		last = trns.Info()
		if done(last) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("gave up after %v; last phase %v %q", timeout, last.Phase(), last.Reason())
	return last
}

func terminal(ph core.PhaseInfo) bool { return ph.Phase().IsTerminal() }

// restServer answers every job GET with job (v0.0.38 shapes).
func restServer(t *testing.T, job string, calls *int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*calls++
		_, _ = w.Write([]byte(job))
	}))
	t.Cleanup(srv.Close)
	return srv
}

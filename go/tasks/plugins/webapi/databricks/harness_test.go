package databricks_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
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
	"github.com/flyteorg/flyte/flytestdlib/utils"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// platformToken is the token the platform's secret holds. Tests search every
// output for it.
const platformToken = "dapi-PLATFORM-SECRET-5f3c9a7e1d" // #nosec G101 -- a test token

const entrypoint = "dbfs:///FileStore/tables/entrypoint.py"

// baseline is the plugins.databricks config before any test changed it.
var baseline databricks.Config

// testStore is the in-memory blob store every task's inputs and outputs live
// in (each task under its own paths).
var testStore *storage.DataStore

// TestMain makes the process trust httptest's TLS certificate the way a
// platform would trust a private CA: through the system pool, via
// SSL_CERT_FILE, before anything uses TLS. The plugin then talks to the local
// servers on its production path, https://<instance>.
func TestMain(m *testing.M) {
	// Log at flytestdlib's default level (warn), as propeller does once its
	// config is loaded; logrus alone would log at info.
	_ = logger.SetConfig(logger.GetConfig())
	baseline = *databricks.GetConfig()
	labeled.SetMetricKeys(contextutils.ProjectKey, contextutils.DomainKey, contextutils.WorkflowIDKey, contextutils.TaskIDKey)
	store, err := storage.NewDataStore(&storage.Config{Type: storage.TypeMemory}, promutils.NewTestScope())
	if err != nil {
		panic(err)
	}
	testStore = store
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	srv.Close()
	dir, err := os.MkdirTemp("", "databricks-test-ca")
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, certPEM, 0o600); err != nil {
		panic(err)
	}
	_ = os.Setenv("SSL_CERT_FILE", path)
	_ = os.Setenv("SSL_CERT_DIR", dir)
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// testConfig is a config pointing at instance, with retries fast enough for
// tests.
func testConfig(instance string, mutate ...func(*databricks.Config)) databricks.Config {
	cfg := baseline
	cfg.DatabricksInstance = instance
	cfg.EntrypointFile = entrypoint
	cfg.HTTPTimeout = config.Duration{Duration: 2 * time.Second}
	cfg.Retry = databricks.RetryPolicy{
		MaxAttempts: 4,
		BaseBackoff: config.Duration{Duration: time.Millisecond},
		MaxBackoff:  config.Duration{Duration: 20 * time.Millisecond},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return cfg
}

// load builds the plugin from its registration entry with cfg in force. A
// non-nil secrets is offered through the setup context, as propeller does.
func load(t testing.TB, cfg databricks.Config, secrets core.SecretManager) webapi.AsyncPlugin {
	t.Helper()
	require.NoError(t, databricks.SetConfig(&cfg))
	var setup webapi.PluginSetupContext
	if secrets != nil {
		sc := &coremocks.SetupContext{}
		sc.EXPECT().MetricsScope().Return(promutils.NewTestScope()).Maybe()
		sc.EXPECT().SecretManager().Return(secrets).Maybe()
		setup = sc
	} else {
		sc := &webmocks.PluginSetupContext{}
		sc.EXPECT().MetricsScope().Return(promutils.NewTestScope()).Maybe()
		setup = sc
	}
	p, err := databricks.PluginEntry().PluginLoader(context.Background(), setup)
	require.NoError(t, err)
	return p
}

// env is a fake Databricks workspace served over TLS and a plugin pointing at
// it.
type env struct {
	t      testing.TB
	api    *fakeapi.Server
	srv    *httptest.Server
	host   string
	cfg    databricks.Config
	plugin webapi.AsyncPlugin
}

func newEnv(t testing.TB, opts fakeapi.Options, mutate ...func(*databricks.Config)) *env {
	t.Helper()
	if opts.Token == "" {
		opts.Token = platformToken
	}
	api := fakeapi.New(opts)
	srv := httptest.NewTLSServer(api)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	cfg := testConfig(host, mutate...)
	return &env{t: t, api: api, srv: srv, host: host, cfg: cfg, plugin: load(t, cfg, nil)}
}

// taskSpec describes a task for a test.
type taskSpec struct {
	taskType    string
	conf        map[string]any
	sparkConf   map[string]string
	instance    string
	inlineToken string
	image       string
	args        []string
	outputs     bool
	timeout     time.Duration
	namespace   string
	name        string
	retry       uint32
	noCustom    bool
	// custom replaces the SparkJob as the task's custom field.
	custom *structpb.Struct
}

func newClusterConf(extra map[string]any) map[string]any {
	conf := map[string]any{
		"new_cluster": map[string]any{
			"spark_version": "13.3.x-scala2.12",
			"node_type_id":  "i3.xlarge",
			"num_workers":   2,
		},
	}
	for k, v := range extra {
		conf[k] = v
	}
	return conf
}

func (s taskSpec) template(t testing.TB) *idlcore.TaskTemplate {
	t.Helper()
	if s.taskType == "" {
		s.taskType = "spark"
	}
	if s.image == "" {
		s.image = "ghcr.io/example/spark-task:v1"
	}
	if s.args == nil {
		s.args = []string{"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
			"--x", "{{.inputs.x}}"}
	}
	tmpl := &idlcore.TaskTemplate{
		Id:   &idlcore.Identifier{ResourceType: idlcore.ResourceType_TASK, Project: "flytesnacks", Domain: "development", Name: "wf.spark_task", Version: "v1"},
		Type: s.taskType,
		Metadata: &idlcore.TaskMetadata{
			Timeout: durationpb.New(s.timeout),
		},
		Target: &idlcore.TaskTemplate_Container{Container: &idlcore.Container{Image: s.image, Args: s.args}},
		Interface: &idlcore.TypedInterface{
			Inputs: &idlcore.VariableMap{Variables: map[string]*idlcore.Variable{
				"x": {Type: &idlcore.LiteralType{Type: &idlcore.LiteralType_Simple{Simple: idlcore.SimpleType_INTEGER}}},
			}},
		},
	}
	if s.outputs {
		tmpl.Interface.Outputs = &idlcore.VariableMap{Variables: map[string]*idlcore.Variable{
			"o0": {Type: &idlcore.LiteralType{Type: &idlcore.LiteralType_Simple{Simple: idlcore.SimpleType_INTEGER}}},
		}}
	}
	switch {
	case s.custom != nil:
		tmpl.Custom = s.custom
	case !s.noCustom:
		job := &plugins.SparkJob{
			SparkConf:          s.sparkConf,
			DatabricksInstance: s.instance,
			DatabricksToken:    s.inlineToken,
		}
		if s.conf != nil {
			conf, err := structpb.NewStruct(s.conf)
			require.NoError(t, err)
			job.DatabricksConf = conf
		}
		custom, err := utils.MarshalPbToStruct(job)
		require.NoError(t, err)
		tmpl.Custom = custom
	}
	return tmpl
}

// task is one task execution attempt, with the contexts the plugin is called
// with.
type task struct {
	t       testing.TB
	tmpl    *idlcore.TaskTemplate
	name    string
	md      *coremocks.TaskExecutionMetadata
	secrets *coremocks.SecretManager
	store   *storage.DataStore
	inputs  ioutils.RemoteFileInputReader
	outputs *ioutils.BufferedOutputWriter
	reader  taskReader
	outPath storage.DataReference
}

// taskReader hands out a fixed template.
type taskReader struct{ tmpl *idlcore.TaskTemplate }

func (r taskReader) Read(context.Context) (*idlcore.TaskTemplate, error) { return r.tmpl, nil }

func (r taskReader) Path(context.Context) (storage.DataReference, error) {
	return "s3://bucket/metadata/task.pb", nil
}

// secretsFor is a secret manager holding the given secrets.
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

func newTask(t testing.TB, s taskSpec) *task {
	t.Helper()
	ctx := context.Background()
	if s.namespace == "" {
		s.namespace = "flytesnacks-development"
	}
	if s.name == "" {
		s.name = "f8a3c1e0b2d4-n0-" + fmt.Sprint(s.retry)
	}
	tmpl := s.template(t)

	id := &coremocks.TaskExecutionID{}
	id.EXPECT().GetGeneratedName().Return(s.name).Maybe()
	id.EXPECT().GetID().Return(idlcore.TaskExecutionIdentifier{
		TaskId: tmpl.GetId(),
		NodeExecutionId: &idlcore.NodeExecutionIdentifier{
			NodeId: "n0",
			ExecutionId: &idlcore.WorkflowExecutionIdentifier{
				Project: "flytesnacks", Domain: "development", Name: "f8a3c1e0b2d4",
			},
		},
		RetryAttempt: s.retry,
	}).Maybe()
	id.EXPECT().GetUniqueNodeID().Return("n0").Maybe()
	md := &coremocks.TaskExecutionMetadata{}
	md.EXPECT().GetTaskExecutionID().Return(id).Maybe()
	md.EXPECT().GetNamespace().Return(s.namespace).Maybe()

	store := testStore
	inPrefix := storage.DataReference("s3://bucket/inputs/" + s.name)
	inPaths := ioutils.NewInputFilePaths(ctx, store, inPrefix)
	require.NoError(t, store.WriteProtobuf(ctx, inPaths.GetInputPath(), storage.Options{}, &idlcore.LiteralMap{
		Literals: map[string]*idlcore.Literal{"x": intLiteral(3)},
	}))
	outPath := storage.DataReference("s3://bucket/outputs/" + s.name)
	paths := ioutils.NewCheckpointRemoteFilePaths(ctx, store, outPath,
		ioutils.NewRawOutputPaths(ctx, "s3://bucket/raw/"+storage.DataReference(s.name)), "")

	return &task{
		t:       t,
		tmpl:    tmpl,
		name:    s.name,
		md:      md,
		secrets: secretsFor(map[string]string{databricks.DefaultTokenKey: platformToken}),
		store:   store,
		inputs:  ioutils.NewRemoteFileInputReader(ctx, store, inPaths),
		outputs: ioutils.NewBufferedOutputWriter(ctx, paths),
		reader:  taskReader{tmpl: tmpl},
		outPath: outPath,
	}
}

func intLiteral(v int64) *idlcore.Literal {
	return &idlcore.Literal{Value: &idlcore.Literal_Scalar{Scalar: &idlcore.Scalar{
		Value: &idlcore.Scalar_Primitive{Primitive: &idlcore.Primitive{Value: &idlcore.Primitive_Integer{Integer: v}}},
	}}}
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
	c.EXPECT().DataStore().Return(k.store).Maybe()
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

// create calls Create and requires it to have submitted a run.
func (e *env) create(k *task) databricks.RunMeta {
	e.t.Helper()
	meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
	require.NoError(e.t, err)
	require.Nil(e.t, res, "Create returned a resource: the submission failed for good")
	m, ok := meta.(databricks.RunMeta)
	require.True(e.t, ok, "meta is a %T", meta)
	return m
}

// phase polls the run once and maps it to a phase.
func (e *env) phase(k *task, meta webapi.ResourceMeta) core.PhaseInfo {
	e.t.Helper()
	res, err := e.plugin.Get(context.Background(), getCtx(meta))
	require.NoError(e.t, err)
	ph, err := e.plugin.Status(context.Background(), k.statusCtx(meta, res))
	require.NoError(e.t, err)
	return ph
}

// onlyRun requires the fake to hold exactly one run and returns it.
func (e *env) onlyRun() fakeapi.Run {
	e.t.Helper()
	runs := e.api.Runs()
	require.Len(e.t, runs, 1, "want exactly one run")
	return runs[0]
}

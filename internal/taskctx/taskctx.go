// Package taskctx is a TaskExecutionContext and k8s.PluginContext made of
// plain values: what FlytePropeller hands a plugin, without propeller. The
// flytedist CLI renders resources through it, and tests and benchmarks drive
// plugins with it (no mocks: race-safe, and cheap enough not to skew
// -benchmem).
package taskctx

import (
	"context"
	"strings"
	"sync"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/catalog"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/encoding"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/io"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flytestdlib/contextutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils/labeled"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	v1 "k8s.io/api/core/v1"
	v12 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Task describes one task execution as propeller would hand it to a plugin.
// Zero values get sensible defaults (see Defaults).
type Task struct {
	Template       *core.TaskTemplate
	GeneratedName  string
	Namespace      string
	Interruptible  bool
	ServiceAccount string
	Labels         map[string]string
	Annotations    map[string]string
	EnvVars        map[string]string
	MaxAttempts    uint32
	// Resources are the resource overrides propeller computed for the task
	// (required for container tasks).
	Resources         *v1.ResourceRequirements
	PlatformResources *v1.ResourceRequirements
	// PodTemplate is the execution-level pod template override.
	PodTemplate    *core.K8SPod
	ImageOverride  string
	ConsoleURL     string
	Secrets        map[string]string
	State          k8s.PluginState
	OutputPrefix   storage.DataReference
	TaskExecIDName string
}

// Defaults fills what a test left empty.
func (t Task) Defaults() Task {
	if t.GeneratedName == "" {
		t.GeneratedName = "f8a1b2c3d4-n0-0"
	}
	if t.Namespace == "" {
		t.Namespace = "flyteproject-development"
	}
	if t.MaxAttempts == 0 {
		t.MaxAttempts = 3
	}
	if t.Resources == nil {
		t.Resources = &v1.ResourceRequirements{}
	}
	if t.OutputPrefix == "" {
		t.OutputPrefix = "mem://outputs/" + storage.DataReference(t.GeneratedName)
	}
	return t
}

// Context is a TaskExecutionContext and k8s.PluginContext over a Task.
type Context struct {
	task Task
	meta *metadata
	out  *outputWriter
}

var _ pluginsCore.TaskExecutionContext = (*Context)(nil)
var _ k8s.PluginContext = (*Context)(nil)

var (
	storeOnce sync.Once
	memStore  *storage.DataStore
)

// SharedStore is one in-memory data store shared by all contexts of a test
// binary (flytestdlib registers metrics per store, so making one per call
// would panic on duplicate registration).
func SharedStore() *storage.DataStore {
	storeOnce.Do(func() {
		// Data stores record labeled metrics, which need the metric keys set
		// once per process; a test binary that already set them keeps its own.
		func() {
			defer func() { _ = recover() }()
			labeled.SetMetricKeys(contextutils.ProjectKey, contextutils.DomainKey, contextutils.WorkflowIDKey, contextutils.TaskIDKey)
		}()
		s, err := storage.NewDataStore(&storage.Config{Type: storage.TypeMemory}, promutils.NewTestScope())
		if err != nil {
			panic(err)
		}
		memStore = s
	})
	return memStore
}

// executionName is the workflow execution every default task belongs to.
const executionName = "f8a1b2c3d4"

// New builds a Context for task.
func New(task Task) *Context {
	task = task.Defaults()
	tmpl := task.Template
	id := &core.TaskExecutionIdentifier{
		TaskId: tmpl.GetId(),
		NodeExecutionId: &core.NodeExecutionIdentifier{
			NodeId: "n0",
			ExecutionId: &core.WorkflowExecutionIdentifier{
				Project: "flyteproject", Domain: "development", Name: executionName,
			},
		},
		RetryAttempt: 0,
	}
	return &Context{
		task: task,
		meta: &metadata{task: task, id: taskExecID{name: task.GeneratedName, id: id}},
		out:  &outputWriter{prefix: task.OutputPrefix},
	}
}

// ResourceManager is unused by k8s plugins.
func (c *Context) ResourceManager() pluginsCore.ResourceManager { return nil }

// SecretManager serves Task.Secrets.
func (c *Context) SecretManager() pluginsCore.SecretManager { return secrets(c.task.Secrets) }

// TaskRefreshIndicator is a no-op.
func (c *Context) TaskRefreshIndicator() pluginsCore.SignalAsync { return func(context.Context) {} }

// DataStore is the shared in-memory store, made on first use.
func (c *Context) DataStore() *storage.DataStore { return SharedStore() }

// PluginStateReader returns Task.State.
func (c *Context) PluginStateReader() pluginsCore.PluginStateReader { return stateReader{c.task.State} }

// TaskReader returns Task.Template.
func (c *Context) TaskReader() pluginsCore.TaskReader { return taskReader{c.task.Template} }

// InputReader has fixed paths and no inputs.
func (c *Context) InputReader() io.InputReader { return inputReader{} }

// TaskExecutionMetadata is built from the Task.
func (c *Context) TaskExecutionMetadata() pluginsCore.TaskExecutionMetadata { return c.meta }

// OutputWriter writes under Task.OutputPrefix.
func (c *Context) OutputWriter() io.OutputWriter { return c.out }

// PluginStateWriter is unused by k8s plugins.
func (c *Context) PluginStateWriter() pluginsCore.PluginStateWriter { return nil }

// Catalog is unused by k8s plugins.
func (c *Context) Catalog() catalog.AsyncClient { return nil }

// EventsRecorder is unused by k8s plugins.
func (c *Context) EventsRecorder() pluginsCore.EventsRecorder { return nil }

type taskReader struct{ t *core.TaskTemplate }

func (r taskReader) Read(context.Context) (*core.TaskTemplate, error) { return r.t, nil }
func (r taskReader) Path(context.Context) (storage.DataReference, error) {
	return "mem://task/template.pb", nil
}

type stateReader struct{ s k8s.PluginState }

func (r stateReader) GetStateVersion() uint8 { return 0 }
func (r stateReader) Get(t interface{}) (uint8, error) {
	if p, ok := t.(*k8s.PluginState); ok {
		*p = r.s
	}
	return 0, nil
}

type secrets map[string]string

func (s secrets) Get(_ context.Context, key string) (string, error) {
	if v, ok := s[key]; ok {
		return v, nil
	}
	return "", errMissingSecret(key)
}

type errMissingSecret string

func (e errMissingSecret) Error() string { return "secret " + string(e) + " not found" }

type inputReader struct{}

func (inputReader) GetInputPrefixPath() storage.DataReference { return "mem://inputs" }
func (inputReader) GetInputPath() storage.DataReference       { return "mem://inputs/inputs.pb" }
func (inputReader) Get(context.Context) (*core.LiteralMap, error) {
	return &core.LiteralMap{}, nil
}

type outputWriter struct{ prefix storage.DataReference }

func (o *outputWriter) GetOutputPrefixPath() storage.DataReference { return o.prefix }
func (o *outputWriter) GetRawOutputPrefix() storage.DataReference  { return o.prefix + "/raw" }
func (o *outputWriter) GetPreviousCheckpointsPrefix() storage.DataReference {
	return o.prefix + "/prev-checkpoint"
}
func (o *outputWriter) GetCheckpointPrefix() storage.DataReference { return o.prefix + "/checkpoint" }
func (o *outputWriter) GetOutputPath() storage.DataReference       { return o.prefix + "/outputs.pb" }
func (o *outputWriter) GetDeckPath() storage.DataReference         { return o.prefix + "/deck.html" }
func (o *outputWriter) GetErrorPath() storage.DataReference        { return o.prefix + "/error.pb" }
func (o *outputWriter) Put(context.Context, io.OutputReader) error { return nil }

type taskExecID struct {
	name string
	id   *core.TaskExecutionIdentifier
}

func (t taskExecID) GetGeneratedName() string { return t.name }
func (t taskExecID) GetID() core.TaskExecutionIdentifier {
	return core.TaskExecutionIdentifier{TaskId: t.id.GetTaskId(), NodeExecutionId: t.id.GetNodeExecutionId(), RetryAttempt: t.id.GetRetryAttempt()}
}
func (t taskExecID) GetUniqueNodeID() string { return "n0" }
func (t taskExecID) GetGeneratedNameWith(minLength, maxLength int) (string, error) {
	if len(t.name) < minLength {
		return t.name + strings.Repeat("0", minLength-len(t.name)), nil
	}
	if len(t.name) > maxLength {
		return encoding.FixedLengthUniqueID(t.name, maxLength)
	}
	return t.name, nil
}

type metadata struct {
	task Task
	id   taskExecID
}

func (m *metadata) GetOwnerID() types.NamespacedName {
	return types.NamespacedName{Namespace: m.task.Namespace, Name: executionName}
}
func (m *metadata) GetTaskExecutionID() pluginsCore.TaskExecutionID { return m.id }
func (m *metadata) GetNamespace() string                            { return m.task.Namespace }
func (m *metadata) GetOwnerReference() v12.OwnerReference {
	return v12.OwnerReference{APIVersion: "flyte.lyft.com/v1alpha1", Kind: "FlyteWorkflow", Name: executionName, UID: "uid-" + executionName}
}
func (m *metadata) GetOverrides() pluginsCore.TaskOverrides { return overrides{m.task} }
func (m *metadata) GetLabels() map[string]string            { return m.task.Labels }
func (m *metadata) GetMaxAttempts() uint32                  { return m.task.MaxAttempts }
func (m *metadata) GetAnnotations() map[string]string       { return m.task.Annotations }
func (m *metadata) GetK8sServiceAccount() string            { return m.task.ServiceAccount }
func (m *metadata) GetSecurityContext() core.SecurityContext {
	if sc := m.task.Template.GetSecurityContext(); sc != nil {
		return core.SecurityContext{RunAs: sc.GetRunAs(), Secrets: sc.GetSecrets(), Tokens: sc.GetTokens()}
	}
	return core.SecurityContext{}
}
func (m *metadata) IsInterruptible() bool { return m.task.Interruptible }
func (m *metadata) GetPlatformResources() *v1.ResourceRequirements {
	if m.task.PlatformResources != nil {
		return m.task.PlatformResources
	}
	return &v1.ResourceRequirements{}
}
func (m *metadata) GetInterruptibleFailureThreshold() int32 { return 2 }
func (m *metadata) GetEnvironmentVariables() map[string]string {
	return m.task.EnvVars
}
func (m *metadata) GetConsoleURL() string { return m.task.ConsoleURL }

type overrides struct{ task Task }

func (o overrides) GetResources() *v1.ResourceRequirements        { return o.task.Resources }
func (o overrides) GetExtendedResources() *core.ExtendedResources { return nil }
func (o overrides) GetContainerImage() string                     { return o.task.ImageOverride }
func (o overrides) GetPodTemplate() *core.K8SPod                  { return o.task.PodTemplate }
func (o overrides) GetConfig() *v1.ConfigMap                      { return nil }

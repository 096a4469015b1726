// Package kittest drives k8s plugins the way FlytePropeller does, for tests
// and benchmarks: the plain-value contexts of internal/taskctx, template
// builders, and a helper to set the platform config for one test.
package kittest

import (
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/internal/taskctx"
)

func init() {
	// Log at flytestdlib's default level (warn), which is what propeller
	// runs with once its config is loaded; logrus alone would log at info.
	_ = logger.SetConfig(logger.GetConfig())
}

// Task describes one task execution (see taskctx.Task).
type Task = taskctx.Task

// Context is a TaskExecutionContext and k8s.PluginContext over a Task.
type Context = taskctx.Context

// New builds a Context for task.
func New(task Task) *Context { return taskctx.New(task) }

// Struct converts a proto message into the custom Struct flytekit sends.
func Struct(t testing.TB, msg proto.Message) *structpb.Struct {
	t.Helper()
	return must(t)(taskctx.CustomStruct(msg))
}

// ObjStruct converts any JSON-marshalable value (a v1.PodSpec) into a Struct.
func ObjStruct(t testing.TB, obj any) *structpb.Struct {
	t.Helper()
	return must(t)(taskctx.ObjectStruct(obj))
}

// must fails t on a conversion error.
func must(t testing.TB) func(*structpb.Struct, error) *structpb.Struct {
	return func(s *structpb.Struct, err error) *structpb.Struct {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// ContainerTemplate is a task template with a container target.
func ContainerTemplate(taskType string, custom *structpb.Struct, image string, args ...string) *core.TaskTemplate {
	return &core.TaskTemplate{
		Id:   &core.Identifier{ResourceType: core.ResourceType_TASK, Project: "flyteproject", Domain: "development", Name: "wf.my_task", Version: "v1"},
		Type: taskType,
		Metadata: &core.TaskMetadata{
			Runtime: &core.RuntimeMetadata{Type: core.RuntimeMetadata_FLYTE_SDK, Version: "1.16.0", Flavor: "python"},
		},
		Interface: &core.TypedInterface{Inputs: &core.VariableMap{}, Outputs: &core.VariableMap{}},
		Custom:    custom,
		Target: &core.TaskTemplate_Container{Container: &core.Container{
			Image: image,
			Args:  args,
			Env:   []*core.KeyValuePair{{Key: "TASK_ENV", Value: "1"}},
		}},
	}
}

// SetPlatform installs cfg as the plugins.k8s section for one test and
// restores the previous one afterwards. Tests that call it must not run in
// parallel with each other.
func SetPlatform(t testing.TB, cfg *config.K8sPluginConfig) {
	t.Helper()
	prev := config.GetK8sPluginConfig()
	if err := config.SetK8sPluginConfig(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = config.SetK8sPluginConfig(prev) })
}

// Registered is the k8s plugin registered under id, as propeller finds it.
func Registered(t testing.TB, id string) k8s.Plugin {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == id {
			return e.Plugin
		}
	}
	t.Fatalf("plugin %q is not registered", id)
	return nil
}

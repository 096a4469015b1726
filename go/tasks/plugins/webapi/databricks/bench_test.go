package databricks_test

import (
	"context"
	"fmt"
	"testing"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/io"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/flyteorg/flyte/flytestdlib/storage"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// The benchmarks call the plugin with plain-value contexts instead of
// testify mocks, whose bookkeeping (a stack walk per call) would otherwise be
// most of what is measured.

// plainID is a TaskExecutionID; methods the plugin does not call panic.
type plainID struct {
	core.TaskExecutionID
	name  string
	task  *idlcore.Identifier
	exec  *idlcore.NodeExecutionIdentifier
	retry uint32
}

func (p *plainID) GetGeneratedName() string { return p.name }
func (p *plainID) GetUniqueNodeID() string  { return "n0" }
func (p *plainID) GetGeneratedNameWith(int, int) (string, error) {
	return p.name, nil
}
func (p *plainID) GetID() idlcore.TaskExecutionIdentifier {
	return idlcore.TaskExecutionIdentifier{TaskId: p.task, NodeExecutionId: p.exec, RetryAttempt: p.retry}
}

// plainMetadata is a TaskExecutionMetadata; methods the plugin does not call
// panic.
type plainMetadata struct {
	core.TaskExecutionMetadata
	id        *plainID
	namespace string
}

func (p *plainMetadata) GetTaskExecutionID() core.TaskExecutionID { return p.id }
func (p *plainMetadata) GetNamespace() string                     { return p.namespace }

type plainSecrets map[string]string

func (s plainSecrets) Get(_ context.Context, key string) (string, error) {
	if v, ok := s[key]; ok {
		return v, nil
	}
	return "", fmt.Errorf("secret %q not found", key)
}

// plainCtx is every context the plugin is called with.
type plainCtx struct {
	k       *task
	md      *plainMetadata
	secrets plainSecrets
	meta    webapi.ResourceMeta
	res     webapi.Resource
}

func (c *plainCtx) SecretManager() core.SecretManager                 { return c.secrets }
func (c *plainCtx) TaskReader() core.TaskReader                       { return c.k.reader }
func (c *plainCtx) InputReader() io.InputReader                       { return c.k.inputs }
func (c *plainCtx) TaskExecutionMetadata() core.TaskExecutionMetadata { return c.md }
func (c *plainCtx) OutputWriter() io.OutputWriter                     { return c.k.outputs }
func (c *plainCtx) DataStore() *storage.DataStore                     { return c.k.store }
func (c *plainCtx) ResourceMeta() webapi.ResourceMeta                 { return c.meta }
func (c *plainCtx) Resource() webapi.Resource                         { return c.res }
func (c *plainCtx) Reason() string                                    { return "benchmark" }

func plainFor(k *task, name string, retry uint32) *plainCtx {
	return &plainCtx{
		k:       k,
		secrets: plainSecrets{"FLYTE_DATABRICKS_API_TOKEN": platformToken},
		md: &plainMetadata{namespace: "flytesnacks-development", id: &plainID{
			name: name,
			task: k.tmpl.GetId(),
			exec: &idlcore.NodeExecutionIdentifier{NodeId: "n0",
				ExecutionId: &idlcore.WorkflowExecutionIdentifier{Project: "flytesnacks", Domain: "development", Name: "bench"}},
			retry: retry,
		}},
	}
}

// BenchmarkCreateGetStatus is the Databricks round trip: submit a run over
// HTTPS to the local Jobs API, poll it once and map it to a phase. Every
// iteration is a new task attempt, so every submission makes a new run; the
// fake finishes runs at once, so Status takes the success path. The fake
// server runs in the same process and is measured too.
func BenchmarkCreateGetStatus(b *testing.B) {
	e := newEnv(b, fakeapi.Options{})
	ctx := context.Background()
	k := newTask(b, taskSpec{conf: newClusterConf(nil), name: "bench"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := plainFor(k, "bench", uint32(i))
		meta, _, err := e.plugin.Create(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		c.meta = meta
		if c.res, err = e.plugin.Get(ctx, c); err != nil {
			b.Fatal(err)
		}
		ph, err := e.plugin.Status(ctx, c)
		if err != nil || ph.Phase() != core.PhaseSuccess {
			b.Fatalf("phase %v, err %v", ph.Phase(), err)
		}
	}
}

// BenchmarkGetStatus is one poll of a running run: runs/get over HTTPS and
// the phase mapping, what the web-API cache does for each run every resync.
func BenchmarkGetStatus(b *testing.B) {
	e := newEnv(b, fakeapi.Options{Manual: true})
	ctx := context.Background()
	k := newTask(b, taskSpec{conf: newClusterConf(nil)})
	c := plainFor(k, "bench", 0)
	meta, _, err := e.plugin.Create(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	c.meta = meta
	e.api.Advance(e.onlyRun().RunID, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.res, err = e.plugin.Get(ctx, c); err != nil {
			b.Fatal(err)
		}
		ph, err := e.plugin.Status(ctx, c)
		if err != nil || ph.Phase() != core.PhaseRunning {
			b.Fatalf("phase %v, err %v", ph.Phase(), err)
		}
	}
}

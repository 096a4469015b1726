// Package integration_test drives our Spark, Ray and Dask plugins through
// FlytePropeller v1.16.8's own k8s plugin manager
// (flytepropeller/pkg/controller/nodes/task/k8s) against a real
// kube-apiserver and etcd with the operators' CRDs installed
// (internal/testenv).
//
// The manager gets what propeller's task handler gives it: propeller's own
// kube client (executors.BuildNewClientFunc: reads from an informer cache,
// falls back to the API server, de-duplicates writes), the informer cache
// it watches the resources through, an EnqueueOwner, the owner kind
// FlyteWorkflow, and per round a TaskExecutionContext whose plugin state is
// stored gob-encoded between rounds as propeller stores it. The platform
// config is testdata/propeller.yaml, loaded as propeller loads its config
// file; it turns on plugins.k8s.inject-finalizer.
//
// No operator, kubelet or garbage collector runs. Each test stands in for
// the operator: it writes the resource's status through the status
// subresource the way that operator does, waits until the manager's
// informer has seen it (and enqueued the owning workflow, as propeller's
// watch does), and runs the next round.
package integration_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flytepropeller/pkg/controller/executors"
	"github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task/backoff"
	k8smgr "github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task/k8s"
	stdconfig "github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/config/viper"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	// The plugins under test, registered as propeller registers them.
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"

	"github.com/flytedist/flyteplugins/internal/apicheck"
	"github.com/flytedist/flyteplugins/internal/taskctx"
	"github.com/flytedist/flyteplugins/internal/testenv"
)

// finalizer is the one propeller's manager adds with inject-finalizer.
const finalizer = "flyte.org/finalizer-k8s"

// ownerKind is the kind of the object that owns task resources in
// propeller: the FlyteWorkflow CR.
const ownerKind = "FlyteWorkflow"

func TestMain(m *testing.M) {
	if err := loadPlatformConfig("testdata/propeller.yaml"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(testenv.Run(m))
}

// loadPlatformConfig reads a propeller config file into the registered
// config sections (plugins.k8s, plugins.spark, …), as propeller does.
func loadPlatformConfig(path string) error {
	accessor := viper.NewAccessor(stdconfig.Options{SearchPaths: []string{path}, StrictMode: true})
	if err := accessor.UpdateConfig(context.Background()); err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	if !config.GetK8sPluginConfig().InjectFinalizer {
		return fmt.Errorf("%s: plugins.k8s.inject-finalizer did not load", path)
	}
	// Log at flytestdlib's default level (warn), as propeller runs with
	// this config; logrus alone would log the manager's every create and
	// delete at info.
	if os.Getenv("IT_DEBUG") != "" {
		c := *logger.GetConfig()
		c.Level = logger.DebugLevel
		return logger.SetConfig(&c)
	}
	return logger.SetConfig(logger.GetConfig())
}

// withK8sConfig changes plugins.k8s for one test. Tests here do not run
// in parallel, so the change is seen by that test only.
func withK8sConfig(t *testing.T, edit func(*config.K8sPluginConfig)) {
	t.Helper()
	prev := config.GetK8sPluginConfig()
	next := *prev
	edit(&next)
	if err := config.SetK8sPluginConfig(&next); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = config.SetK8sPluginConfig(prev) })
}

// harness is what propeller's task handler hands the k8s plugin manager,
// against the shared control plane.
type harness struct {
	env   *testenv.Env
	ctx   context.Context
	cache cache.Cache
	kube  kubeClient
	enq   *enqueueLog

	mu      sync.Mutex
	watched map[schema.GroupVersionKind]bool // see ensureWatched
}

// newHarness starts an informer cache and propeller's kube client over it
// for t; both stop when t ends.
func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, testenv.Shared(t))
}

// newHarnessOn is newHarness against a control plane of the test's own.
func newHarnessOn(t *testing.T, env *testenv.Env) *harness {
	t.Helper()
	taskctx.SharedStore() // sets flytestdlib's labeled-metric keys once
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// Propeller's client reads through an informer cache of scheme.Scheme,
	// to which each plugin added its types in init.
	c, err := cache.New(env.Config, cache.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("informer cache did not start")
	}
	cl, err := executors.BuildNewClientFunc(promutils.NewTestScope())(env.Config, client.Options{
		Scheme: scheme.Scheme,
		Cache:  &client.CacheOptions{Reader: c},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{
		env:   env,
		ctx:   ctx,
		cache: c,
		kube:  kubeClient{c: cl, cache: c},
		enq:   &enqueueLog{counts: map[types.NamespacedName]int{}},

		watched: map[schema.GroupVersionKind]bool{},
	}
}

// manager builds propeller's k8s plugin manager for the registered plugin
// id, as propeller's plugin loader does (NewPluginManagerWithBackOff). wrap,
// when set, wraps the registered plugin (see recorder).
func (h *harness) manager(t *testing.T, id string, wrap func(k8s.Plugin) k8s.Plugin) *k8smgr.PluginManager {
	t.Helper()
	entry := registered(t, id)
	if wrap != nil {
		entry.Plugin = wrap(entry.Plugin)
	}
	clientset, err := kubernetes.NewForConfig(h.env.Config)
	if err != nil {
		t.Fatal(err)
	}
	// A scope per manager: a test may run several managers of one plugin,
	// and each registers its metrics under its plugin ID.
	mgr, err := k8smgr.NewPluginManagerWithBackOff(h.ctx, setupContext{h: h, scope: promutils.NewTestScope()}, entry,
		backoff.NewController(h.ctx), k8smgr.NewResourceMonitorIndex(), clientset)
	if err != nil {
		t.Fatalf("NewPluginManagerWithBackOff(%s): %v", id, err)
	}
	return mgr
}

// registered is the registry entry of plugin id.
func registered(t *testing.T, id string) k8s.PluginEntry {
	t.Helper()
	var ids []string
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == id {
			return e
		}
		ids = append(ids, e.ID)
	}
	t.Fatalf("k8s plugin %q is not registered (registered: %v)", id, ids)
	return k8s.PluginEntry{}
}

// kubeClient is pluginsCore.KubeClient over propeller's client and cache.
type kubeClient struct {
	c     client.Client
	cache cache.Cache
}

func (k kubeClient) GetClient() client.Client { return k.c }
func (k kubeClient) GetCache() cache.Cache    { return k.cache }

// setupContext is pluginsCore.SetupContext as propeller's task handler
// builds it (no secret manager or resource registrar: k8s plugins use
// neither).
type setupContext struct {
	h     *harness
	scope promutils.Scope
}

func (s setupContext) EnqueueOwner() pluginsCore.EnqueueOwner           { return s.h.enq.enqueue }
func (s setupContext) OwnerKind() string                                { return ownerKind }
func (s setupContext) MetricsScope() promutils.Scope                    { return s.scope }
func (s setupContext) KubeClient() pluginsCore.KubeClient               { return s.h.kube }
func (s setupContext) SecretManager() pluginsCore.SecretManager         { return nil }
func (s setupContext) ResourceRegistrar() pluginsCore.ResourceRegistrar { return nil }

// enqueueLog counts the workflows the manager's watch enqueued.
type enqueueLog struct {
	mu     sync.Mutex
	counts map[types.NamespacedName]int
}

func (e *enqueueLog) enqueue(id types.NamespacedName) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[id]++
	return nil
}

func (e *enqueueLog) count(id types.NamespacedName) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[id]
}

// recorder is the registered plugin, unchanged, keeping a copy of each
// object it builds, before propeller's manager adds its metadata and
// creates it, so a test can compare it with what the API server stored.
type recorder struct {
	k8s.Plugin
	mu    sync.Mutex
	built client.Object
}

// BuildResource builds through the wrapped plugin and keeps a copy.
func (r *recorder) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	o, err := r.Plugin.BuildResource(ctx, tCtx)
	if err == nil && o != nil {
		r.mu.Lock()
		r.built = o.DeepCopyObject().(client.Object)
		r.mu.Unlock()
	}
	return o, err
}

func (r *recorder) last() client.Object {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.built
}

// The execution's identity, as propeller would name it.
const (
	workflowExecution = "f8a1b2c3d4e5f6a7b8c9"
	generatedName     = workflowExecution + "-n0-0"
)

// execution is one task execution driven round by round through the
// manager, with its plugin state carried between rounds.
type execution struct {
	t     *testing.T
	h     *harness
	mgr   *k8smgr.PluginManager
	rec   *recorder
	task  taskctx.Task
	state *stateStore
	gvk   schema.GroupVersionKind
}

// newExecution prepares task for plugin id in a namespace of its own.
func (h *harness) newExecution(t *testing.T, id string, task taskctx.Task) *execution {
	t.Helper()
	return h.newExecutionWith(t, id, task, nil)
}

// newExecutionWith is newExecution with the registered plugin wrapped by
// wrap, for tests that need to change its output; the recorder keeps what
// the wrapper returns.
func (h *harness) newExecutionWith(t *testing.T, id string, task taskctx.Task, wrap func(k8s.Plugin) k8s.Plugin) *execution {
	t.Helper()
	rec := &recorder{}
	mgr := h.manager(t, id, func(p k8s.Plugin) k8s.Plugin {
		if wrap != nil {
			p = wrap(p)
		}
		rec.Plugin = p
		return rec
	})
	task.Namespace = h.env.NewNamespace(t)
	if task.GeneratedName == "" {
		task.GeneratedName = generatedName
	}
	// Outputs (and the error file) of each execution in a place of its own.
	task.OutputPrefix = storage.DataReference("mem://outputs/" + task.Namespace + "/" + task.GeneratedName)
	// The labels propeller puts on every task resource; execution-id is
	// how its watch finds the workflow to enqueue.
	task.Labels = map[string]string{
		"execution-id":  workflowExecution,
		"workflow-name": "workflows-distributed-wf",
		"node-id":       "n0",
		"task-name":     "workflows-distributed-task",
		"shard-key":     "7",
	}
	if task.Annotations == nil {
		task.Annotations = map[string]string{"flyte.org/execution": workflowExecution}
	}
	identity, err := registered(t, id).Plugin.BuildIdentityResource(context.Background(), taskctx.New(task).TaskExecutionMetadata())
	if err != nil {
		t.Fatal(err)
	}
	gvks, _, err := scheme.Scheme.ObjectKinds(identity)
	if err != nil {
		t.Fatal(err)
	}
	return &execution{t: t, h: h, mgr: mgr, rec: rec, task: task, state: &stateStore{}, gvk: gvks[0]}
}

// tCtx is the TaskExecutionContext of one round.
func (e *execution) tCtx() pluginsCore.TaskExecutionContext {
	base := taskctx.New(e.task)
	return roundContext{Context: base, meta: ownedMetadata{base.TaskExecutionMetadata()}, state: e.state}
}

// handle runs one round of the manager and commits the plugin state it
// wrote, as propeller's task handler does.
func (e *execution) handle() pluginsCore.Transition {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.h.ctx, time.Minute)
	defer cancel()
	tr, err := e.mgr.Handle(ctx, e.tCtx())
	if err != nil {
		e.t.Fatalf("Handle: %v", err)
	}
	e.state.commit()
	return tr
}

// abort runs the manager's Abort, as propeller does when a workflow is
// aborted or a failure asks for cleanup.
func (e *execution) abort() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.h.ctx, time.Minute)
	defer cancel()
	if err := e.mgr.Abort(ctx, e.tCtx()); err != nil {
		e.t.Fatalf("Abort: %v", err)
	}
}

// finalize runs the manager's Finalize, as propeller does once the task is
// done (after success, failure or abort).
func (e *execution) finalize() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.h.ctx, time.Minute)
	defer cancel()
	if err := e.mgr.Finalize(ctx, e.tCtx()); err != nil {
		e.t.Fatalf("Finalize: %v", err)
	}
}

// key is the resource's namespace and name (the manager names it after the
// execution).
func (e *execution) key() types.NamespacedName {
	return types.NamespacedName{Namespace: e.task.Namespace, Name: e.task.GeneratedName}
}

// owner is the workflow the manager's watch enqueues.
func (e *execution) owner() types.NamespacedName {
	return types.NamespacedName{Namespace: e.task.Namespace, Name: workflowExecution}
}

// managerState is the plugin state the manager stored in the last round.
func (e *execution) managerState() k8smgr.PluginState {
	e.t.Helper()
	var s k8smgr.PluginState
	if _, err := e.state.Get(&s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// server reads the resource from the API server, bypassing every cache, as
// unstructured so nothing the Go types do not know is hidden. It returns
// nil when the resource does not exist.
func (e *execution) server() *unstructured.Unstructured {
	e.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(e.gvk)
	err := e.h.env.Client.Get(context.Background(), e.key(), u)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("get %s: %v", e.key(), err)
	}
	return u
}

// typed reads the resource from the API server into obj.
func (e *execution) typed(obj client.Object) {
	e.t.Helper()
	if err := e.h.env.Client.Get(context.Background(), e.key(), obj); err != nil {
		e.t.Fatalf("get %s: %v", e.key(), err)
	}
}

// checkStored compares the object the plugin built with the one the API
// server stored: every spec value the plugin set is there unchanged
// (nothing pruned or rewritten; defaults the CRD adds are allowed), and so
// are its labels and annotations. allowLost lists paths (prefixes) a CRD is
// known to prune, each with the reason it is harmless, checked by the
// caller.
func (e *execution) checkStored(allowLost ...string) *unstructured.Unstructured {
	e.t.Helper()
	lost, stored := e.lost()
	var unexpected []string
	for _, l := range lost {
		allowed := false
		for _, p := range allowLost {
			if strings.HasPrefix(l, p) {
				allowed = true
			}
		}
		if allowed {
			e.t.Logf("known loss (checked by the caller): %s", l)
		} else {
			unexpected = append(unexpected, l)
		}
	}
	if len(unexpected) > 0 {
		e.t.Errorf("the API server did not store what the plugin built for %s:\n  %s", e.key(), strings.Join(unexpected, "\n  "))
	}
	return stored
}

// lost is what the API server did not store of the object the plugin
// built (see apicheck.Lost), and the stored object.
func (e *execution) lost() ([]string, *unstructured.Unstructured) {
	e.t.Helper()
	built := e.rec.last()
	if built == nil {
		e.t.Fatal("the plugin built nothing")
	}
	stored := e.server()
	if stored == nil {
		e.t.Fatalf("%s was not created", e.key())
	}
	sent := map[string]any{}
	raw, err := json.Marshal(built)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sent); err != nil {
		e.t.Fatal(err)
	}
	meta, _ := sent["metadata"].(map[string]any)
	compare := map[string]any{"spec": sent["spec"], "metadata": map[string]any{
		"labels": meta["labels"], "annotations": meta["annotations"],
	}}
	lost, err := apicheck.Lost(compare, stored.Object)
	if err != nil {
		e.t.Fatal(err)
	}
	return lost, stored
}

// checkPropellerMetadata checks what the manager adds to every resource:
// the execution's labels and annotations, the platform's defaults, the
// workflow as controlling owner, and the finalizer (inject-finalizer).
func (e *execution) checkPropellerMetadata(u *unstructured.Unstructured) {
	e.t.Helper()
	labels := u.GetLabels()
	for k, v := range e.task.Labels {
		if labels[k] != v {
			e.t.Errorf("label %s = %q, want %q (from the execution)", k, labels[k], v)
		}
	}
	if labels["team"] != "data-platform" {
		e.t.Errorf("label team = %q, want the platform default data-platform", labels["team"])
	}
	ann := u.GetAnnotations()
	for k, v := range e.task.Annotations {
		if ann[k] != v {
			e.t.Errorf("annotation %s = %q, want %q", k, ann[k], v)
		}
	}
	if ann["cluster-autoscaler.kubernetes.io/safe-to-evict"] != "false" {
		e.t.Errorf("platform default annotation missing: %v", ann)
	}
	refs := u.GetOwnerReferences()
	want := ownedMetadata{}.GetOwnerReference()
	if len(refs) != 1 || refs[0].Kind != want.Kind || refs[0].Name != want.Name || refs[0].UID != want.UID ||
		refs[0].Controller == nil || !*refs[0].Controller {
		e.t.Errorf("owner references = %+v, want the workflow as controller %+v", refs, want)
	}
	if !hasFinalizer(u) {
		e.t.Errorf("finalizers = %v, want %s (inject-finalizer is on)", u.GetFinalizers(), finalizer)
	}
}

func hasFinalizer(o metav1.Object) bool {
	for _, f := range o.GetFinalizers() {
		if f == finalizer {
			return true
		}
	}
	return false
}

// writeStatus plays the operator: it updates the resource's status through
// the status subresource with set, then waits until the manager's informer
// has the new version and its watch has enqueued the workflow, as
// propeller's next round would be triggered.
func (e *execution) writeStatus(obj client.Object, set func()) {
	e.t.Helper()
	ctx := context.Background()
	e.ensureWatched()
	before := e.h.enq.count(e.owner())
	e.typed(obj)
	set()
	if err := e.h.env.Client.Status().Update(ctx, obj); err != nil {
		e.t.Fatalf("status update of %s (as the operator): %v", e.key(), err)
	}
	e.waitSeen(obj.GetResourceVersion(), before)
}

// patchStatus plays an operator that merge-patches its status (Dask's
// kopf-based operator does).
func (e *execution) patchStatus(obj client.Object, status map[string]any) {
	e.t.Helper()
	e.ensureWatched()
	before := e.h.enq.count(e.owner())
	raw, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		e.t.Fatal(err)
	}
	e.typed(obj)
	if err := e.h.env.Client.Status().Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, raw)); err != nil {
		e.t.Fatalf("status patch of %s (as the operator): %v", e.key(), err)
	}
	e.waitSeen(obj.GetResourceVersion(), before)
}

// ensureWatched waits until the manager's watch of the resource's kind is
// registered. NewPluginManager starts its watch in the background
// (source.Kind.Start returns before the informer has synced and the event
// handler is added); propeller starts its plugins long before the first
// task, so an update right after the first create could be missed here
// only. The probe touches an annotation of the resource until the watch
// enqueues the workflow, once per kind and harness.
func (e *execution) ensureWatched() {
	e.t.Helper()
	e.h.mu.Lock()
	done := e.h.watched[e.gvk]
	e.h.mu.Unlock()
	if done {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		before := e.h.enq.count(e.owner())
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(e.gvk)
		u.SetNamespace(e.key().Namespace)
		u.SetName(e.key().Name)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, watchProbeAnnotation, strconv.Itoa(i))
		if err := e.h.env.Client.Patch(context.Background(), u, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			e.t.Fatalf("probing the manager's watch: %v", err)
		}
		for wait := time.Now().Add(500 * time.Millisecond); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
			if e.h.enq.count(e.owner()) > before {
				e.h.mu.Lock()
				e.h.watched[e.gvk] = true
				e.h.mu.Unlock()
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the manager's watch of %v never enqueued %s", e.gvk, e.owner())
		}
	}
}

// watchProbeAnnotation is what ensureWatched touches.
const watchProbeAnnotation = "test.flytedist.io/watch-probe"

// waitSeen waits until the informer cache holds resource version rv and
// the watch enqueued the workflow since before.
func (e *execution) waitSeen(rv string, before int) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(e.gvk)
	for {
		err := e.h.cache.Get(context.Background(), e.key(), u)
		if err == nil && u.GetResourceVersion() == rv && e.h.enq.count(e.owner()) > before {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the manager's informer did not see %s at version %s (or did not enqueue %s) in 30s: get err %v, cached version %q, enqueued %d times",
				e.key(), rv, e.owner(), err, u.GetResourceVersion(), e.h.enq.count(e.owner()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// roundContext is the TaskExecutionContext propeller hands the manager:
// the task's plain-value context with the workflow as controlling owner
// and plugin state that persists between rounds.
type roundContext struct {
	*taskctx.Context
	meta  pluginsCore.TaskExecutionMetadata
	state *stateStore
}

func (r roundContext) TaskExecutionMetadata() pluginsCore.TaskExecutionMetadata { return r.meta }
func (r roundContext) PluginStateReader() pluginsCore.PluginStateReader         { return r.state }
func (r roundContext) PluginStateWriter() pluginsCore.PluginStateWriter         { return r.state }

// ownedMetadata is the execution's metadata with the owner reference
// propeller sets: the FlyteWorkflow as controller (metav1.NewControllerRef).
type ownedMetadata struct {
	pluginsCore.TaskExecutionMetadata
}

func (ownedMetadata) GetOwnerReference() metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: "flyte.lyft.com/v1alpha1", Kind: ownerKind, Name: workflowExecution,
		UID: "6b0c1f6e-3f43-4c1e-9a57-0d6f0b6a1c01", Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// stateStore keeps plugin state between rounds as propeller's task handler
// does: gob-encoded; a round that writes nothing keeps the previous state.
type stateStore struct {
	mu          sync.Mutex
	prev        []byte
	prevVersion uint8
	next        []byte
	nextVersion uint8
	written     bool
}

func (s *stateStore) GetStateVersion() uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prevVersion
}

func (s *stateStore) Get(v interface{}) (uint8, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prev == nil {
		return s.prevVersion, nil
	}
	return s.prevVersion, gob.NewDecoder(bytes.NewReader(s.prev)).Decode(v)
}

func (s *stateStore) Put(version uint8, v interface{}) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextVersion, s.written = version, true
	if v == nil {
		s.next = nil
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	s.next = buf.Bytes()
	return nil
}

func (s *stateStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next, s.written = nil, true
	return nil
}

func (s *stateStore) commit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written && s.next != nil {
		s.prev, s.prevVersion = s.next, s.nextVersion
	}
	s.next, s.written = nil, false
}

// round is what a test expects of one Handle.
type round struct {
	phase   pluginsCore.Phase
	version uint32
	// reason is a substring of the phase's reason (its first additional
	// reason while Running; propeller puts those on the task event).
	reason string
	// code is the failure's error code.
	code string
	// links are substrings of link URIs that must be present.
	links []string
	// noLinks are substrings no link URI may contain.
	noLinks []string
}

// check compares a transition with want.
func check(t *testing.T, name string, tr pluginsCore.Transition, want round) {
	t.Helper()
	info := tr.Info()
	if info.Phase() != want.phase {
		t.Errorf("%s: phase %v (reason %q, err %v), want %v", name, info.Phase(), reasonOf(info), info.Err(), want.phase)
		return
	}
	wantVersion := want.version
	// A Running version carries a fingerprint of its reason and links in
	// its low bits (kit.NextVersion, spec/queueing.md "While it runs"): the
	// kit's and the plugins' unit tests pin how it grows; rounds here that
	// care compare Running versions with each other.
	if info.Phase() != pluginsCore.PhaseRunning && info.Version() != wantVersion {
		t.Errorf("%s: phase version %d, want %d", name, info.Version(), wantVersion)
	}
	if want.reason != "" && !strings.Contains(reasonOf(info), want.reason) {
		t.Errorf("%s: reason %q, want it to contain %q", name, reasonOf(info), want.reason)
	}
	if want.code != "" {
		if info.Err() == nil {
			t.Errorf("%s: no error, want code %s", name, want.code)
		} else if info.Err().GetCode() != want.code {
			t.Errorf("%s: error code %q (%s), want %q", name, info.Err().GetCode(), info.Err().GetMessage(), want.code)
		}
	}
	uris := linkURIs(info)
	for _, l := range want.links {
		if !containsSub(uris, l) {
			t.Errorf("%s: no link containing %q in %q", name, l, uris)
		}
	}
	for _, l := range want.noLinks {
		if containsSub(uris, l) {
			t.Errorf("%s: a link contains %q: %q", name, l, uris)
		}
	}
}

// reasonOf is the phase's reason, its error message for failures, else its
// first additional reason.
func reasonOf(p pluginsCore.PhaseInfo) string {
	if p.Err() != nil {
		return p.Err().GetMessage()
	}
	if p.Reason() != "" {
		return p.Reason()
	}
	if p.Info() != nil && len(p.Info().AdditionalReasons) > 0 {
		return p.Info().AdditionalReasons[0].Reason
	}
	return ""
}

func linkURIs(p pluginsCore.PhaseInfo) []string {
	if p.Info() == nil {
		return nil
	}
	var out []string
	for _, l := range p.Info().Logs {
		out = append(out, l.GetUri())
	}
	return out
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// checkFinalizedKept checks the state after Finalize with
// delete-resource-on-finalize off: the resource stays (no garbage
// collector runs; in a cluster the workflow's deletion takes it), without
// propeller's finalizer.
func (e *execution) checkFinalizedKept() {
	e.t.Helper()
	u := e.server()
	if u == nil {
		e.t.Fatalf("%s was deleted by Finalize with delete-resource-on-finalize off", e.key())
	}
	if hasFinalizer(u) {
		e.t.Errorf("finalizers after Finalize = %v, want %s removed", u.GetFinalizers(), finalizer)
	}
	if u.GetDeletionTimestamp() != nil {
		e.t.Errorf("%s is marked for deletion after Finalize without abort", e.key())
	}
}

// checkAbortedThenGone checks Abort and Finalize together: Abort deletes
// the resource, which propeller's finalizer holds (marked for deletion,
// still there); Finalize removes the finalizer, and the API server
// completes the deletion.
func (e *execution) abortAndFinalize() {
	e.t.Helper()
	e.abort()
	u := e.server()
	if u == nil {
		e.t.Fatalf("%s is gone right after Abort; propeller's finalizer should hold it until Finalize", e.key())
	}
	if u.GetDeletionTimestamp() == nil {
		e.t.Errorf("%s is not marked for deletion after Abort", e.key())
	}
	if !hasFinalizer(u) {
		e.t.Errorf("finalizers after Abort = %v, want %s still there", u.GetFinalizers(), finalizer)
	}
	e.finalize()
	if u := e.server(); u != nil {
		e.t.Errorf("%s still exists after Abort and Finalize: deletion %v, finalizers %v", e.key(), u.GetDeletionTimestamp(), u.GetFinalizers())
	}
}

// customStruct is msg as the custom Struct flytekit puts in a task
// template.
func customStruct(t *testing.T, msg proto.Message) *structpb.Struct {
	t.Helper()
	s, err := taskctx.CustomStruct(msg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// objStruct is a Kubernetes value (a pod spec) as a Struct.
func objStruct(t *testing.T, v any) *structpb.Struct {
	t.Helper()
	s, err := taskctx.ObjectStruct(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// template is a task template with a container, as flytekit registers it.
func template(taskType string, custom *structpb.Struct, image string) *core.TaskTemplate {
	return &core.TaskTemplate{
		Id:   &core.Identifier{ResourceType: core.ResourceType_TASK, Project: "flytesnacks", Domain: "development", Name: "workflows.distributed.task", Version: "v1"},
		Type: taskType,
		Metadata: &core.TaskMetadata{
			Runtime: &core.RuntimeMetadata{Type: core.RuntimeMetadata_FLYTE_SDK, Version: "1.16.0", Flavor: "python"},
			Retries: &core.RetryStrategy{Retries: 2},
		},
		Interface: &core.TypedInterface{Inputs: &core.VariableMap{}, Outputs: &core.VariableMap{}},
		Custom:    custom,
		Target: &core.TaskTemplate_Container{Container: &core.Container{
			Image: image,
			Args: []string{"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
				"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}", "--resolver", "flytekit.core.python_auto_container.default_task_resolver",
				"--", "task-module", "workflows.distributed", "task-name", "task"},
			Env: []*core.KeyValuePair{{Key: "TASK_ENV", Value: "1"}},
		}},
	}
}

package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	stdconfig "github.com/flyteorg/flyte/flytestdlib/config"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/queueinghost"
	"github.com/flytedist/flyteplugins/internal/taskctx"
	"github.com/flytedist/flyteplugins/internal/testenv"
)

// TestQueueingThroughPluginManager runs Ray, Spark and PyTorch tasks
// through propeller's k8s plugin manager with plugins.queueing =
// {provider: kueue, queue: queue} on a control plane where the real Kueue
// controller runs (StartKueueEnv). The plugins read Kueue's Workloads
// through an informer cache handed over with queueinghost.UseReader, built
// over a transport that counts the requests it makes. No operator runs:
// the test plays KubeRay (asKubeRay), spark-operator (asSparkOperator) and
// the Training Operator (asTrainingOperator) by writing the statuses they
// would write, which Kueue reads too.
//
//   - QuotaFitsOne: the ClusterQueue's cpu quota is exactly what one Ray
//     task's RayJob (as our plugin builds it: head, worker and submitter)
//     requests. The first task is admitted (Kueue unsuspends it) and runs;
//     the second stays Queued with Kueue's own "insufficient unused quota
//     for cpu" in its reason, at a phase version that grew as its reason
//     changed; twenty more rounds on it add no request to the API server
//     (the Workload is read from the cache). Once the first completes, the
//     second is admitted and leaves Queued.
//   - Preemption: a running low-priority task (the priority class comes
//     from the execution's kueue.x-k8s.io/priority-class label) is evicted
//     for a high-priority one: its phase goes back to Queued with Kueue's
//     eviction (Preempted) in the reason; once it reports Suspended (as
//     KubeRay would), Kueue admits the high one, and the low one stays
//     Queued, its Workload pending again.
//   - SparkQuotaFitsOne, PyTorchQuotaFitsOne: as QuotaFitsOne, the quota
//     being what Kueue asks for the first job (read from its Workload,
//     which Kueue makes before any queue exists): the second waits with
//     Kueue's message until the first succeeds, then runs.
func TestQueueingThroughPluginManager(t *testing.T) {
	begin := time.Now()
	env, kq := testenv.StartKueueEnv(t)
	withQueueingConfig(t, map[string]any{"provider": "kueue", "queue": "queue"})

	counter := &requestCounter{}
	queueinghost.UseReader(workloadCache(t, env, counter))
	t.Cleanup(func() { queueinghost.UseReader(nil) })
	h := newHarnessOn(t, env)
	q := kueueRun{t: t, env: env, kueue: kq}

	t.Run("QuotaFitsOne", func(t *testing.T) {
		q := q.with(t)
		first := q.rayExecution(h)
		quota := q.quotaForOne(first)
		qs := testenv.KueueQueues(t, env.Client, first.key().Namespace, quota, false)
		second := q.rayExecution(h)
		q.localQueue(second.key().Namespace, qs.ClusterQueue)

		first.launch()
		first.checkQueueLabels("")
		q.waitUnsuspended(first.execution)
		firstRJ := &rayv1.RayJob{}
		first.asKubeRay(firstRJ, func() {
			firstRJ.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusRunning
			firstRJ.Status.JobStatus = rayv1.JobStatusRunning
		})
		tr := first.until("running once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseRunning })
		t.Logf("first: admitted by Kueue and Running (version %d)", tr.Info().Version())

		second.launch()
		second.checkQueueLabels("")
		tr = second.until("Queued with Kueue's pending message", func(p pluginsCore.PhaseInfo) bool {
			return p.Phase() == pluginsCore.PhaseQueued && strings.Contains(reasonOf(p), "insufficient unused quota for cpu")
		})
		pending := tr.Info()
		t.Logf("second: Queued, version %d, reason %q", pending.Version(), reasonOf(pending))
		if !strings.Contains(reasonOf(pending), `waiting in Kueue queue "queue"`) {
			t.Errorf("second's reason %q does not name the LocalQueue", reasonOf(pending))
		}
		if pending.Version() == 0 {
			t.Errorf("second's phase version is still 0 with Kueue's reason (launch was 0 with %q)", "task submitted to K8s")
		}

		// Reads of the Workload come from the informer cache: rounds on
		// the queued task make no request of their own.
		before := counter.snapshot()
		const rounds = 20
		for i := range rounds {
			info := second.handle().Info()
			if info.Phase() != pluginsCore.PhaseQueued || reasonOf(info) != reasonOf(pending) || info.Version() != pending.Version() {
				t.Fatalf("round %d on the queued task: %v v%d %q, want Queued v%d %q", i, info.Phase(), info.Version(), reasonOf(info), pending.Version(), reasonOf(pending))
			}
		}
		after := counter.snapshot()
		t.Logf("Workload reader: %d requests before the %d rounds (%s), %d during them (%s)",
			before.total, rounds, before.describe(), after.total-before.total, after.since(before))
		// A watch may reconnect meanwhile; anything like one request per
		// round is a read that bypasses the cache.
		if grew := after.total - before.total; grew > 2 {
			t.Errorf("%d GetTaskPhase rounds on one queued task made %d requests through the Workload reader (%s): the Workload is not read from the cache",
				rounds, grew, after.since(before))
		}

		// The first finishes; Kueue releases its quota and admits the second.
		first.asKubeRay(firstRJ, func() {
			firstRJ.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusComplete
			firstRJ.Status.JobStatus = rayv1.JobStatusSucceeded
		})
		first.until("succeeded", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseSuccess })
		tr = second.until("no longer waiting for quota", func(p pluginsCore.PhaseInfo) bool {
			return !strings.Contains(reasonOf(p), "insufficient unused quota")
		})
		t.Logf("second after the first completed: %v, version %d, reason %q", tr.Info().Phase(), tr.Info().Version(), reasonOf(tr.Info()))
		q.waitUnsuspended(second.execution)
		secondRJ := &rayv1.RayJob{}
		second.asKubeRay(secondRJ, func() {
			secondRJ.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusInitializing
		})
		tr = second.until("leaves Queued once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() != pluginsCore.PhaseQueued })
		t.Logf("second: admitted, %v (version %d, reason %q)", tr.Info().Phase(), tr.Info().Version(), reasonOf(tr.Info()))
		if tr.Info().Phase() != pluginsCore.PhaseInitializing {
			t.Errorf("second: %v after KubeRay reported Initializing, want Initializing", tr.Info().Phase())
		}
		first.logHistory()
		second.logHistory()
	})

	t.Run("Preemption", func(t *testing.T) {
		q := q.with(t)
		low := q.rayExecution(h)
		quota := q.quotaForOne(low)
		qs := testenv.KueueQueues(t, env.Client, low.key().Namespace, quota, true)
		low.task.Labels[testenv.KueuePriorityClassLabel] = qs.Low
		high := q.rayExecution(h)
		high.task.Labels[testenv.KueuePriorityClassLabel] = qs.High
		q.localQueue(high.key().Namespace, qs.ClusterQueue)

		low.launch()
		low.checkQueueLabels(qs.Low)
		q.waitUnsuspended(low.execution)
		lowRJ := &rayv1.RayJob{}
		low.asKubeRay(lowRJ, func() {
			lowRJ.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusRunning
			lowRJ.Status.JobStatus = rayv1.JobStatusRunning
		})
		low.until("running", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseRunning })

		high.launch()
		high.checkQueueLabels(qs.High)
		tr := low.until("Queued again, evicted", func(p pluginsCore.PhaseInfo) bool {
			return p.Phase() == pluginsCore.PhaseQueued && strings.Contains(reasonOf(p), "evicted")
		})
		t.Logf("low: back to Queued, version %d, reason %q", tr.Info().Version(), reasonOf(tr.Info()))
		if !strings.Contains(reasonOf(tr.Info()), "Preempted") {
			t.Errorf("low's reason %q does not say it was preempted", reasonOf(tr.Info()))
		}
		tr = high.until("Queued with a Kueue reason", func(p pluginsCore.PhaseInfo) bool {
			return p.Phase() == pluginsCore.PhaseQueued && strings.Contains(reasonOf(p), "Kueue")
		})
		t.Logf("high while low still runs: version %d, reason %q", tr.Info().Version(), reasonOf(tr.Info()))

		// KubeRay stops low's cluster and reports it Suspended; only then
		// does Kueue release low's quota and admit high.
		low.asKubeRay(lowRJ, func() {
			lowRJ.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusSuspended
			lowRJ.Status.JobStatus = rayv1.JobStatusNew
		})
		q.waitUnsuspended(high.execution)
		highRJ := &rayv1.RayJob{}
		high.asKubeRay(highRJ, func() {
			highRJ.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusInitializing
		})
		tr = high.until("leaves Queued once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() != pluginsCore.PhaseQueued })
		t.Logf("high: admitted, %v", tr.Info().Phase())
		// Low waits in the queue again (Kueue keeps its Evicted condition
		// True while it is requeued, so the reason still tells why).
		wl := q.kueue.WaitWorkload(t, env.Client, low.key().Namespace, low.uid(), "low pending again", func(wl *unstructured.Unstructured) bool {
			return testenv.ConditionIs(wl, testenv.WorkloadQuotaReserved, metav1.ConditionFalse)
		})
		t.Logf("low's Workload once requeued:\n%s", testenv.DescribeConditions(wl))
		// Kueue keeps Evicted True once it requeues; the reason then gives
		// the why and the current wait (pending quota) both.
		tr = low.until("Queued, requeued and waiting for quota", func(p pluginsCore.PhaseInfo) bool {
			r := reasonOf(p)
			return p.Phase() == pluginsCore.PhaseQueued && strings.Contains(r, "evicted the job (Preempted) and requeued it") &&
				strings.Contains(r, "insufficient unused quota for cpu")
		})
		t.Logf("low: requeued, version %d, reason %q", tr.Info().Version(), reasonOf(tr.Info()))
		low.logHistory()
		high.logHistory()
	})

	t.Run("SparkQuotaFitsOne", func(t *testing.T) {
		q := q.with(t)
		first := &queuedTask{execution: kfExecution(t, h, "spark", sparkTask(t, sparkJob()), nil), q: q}
		second := &queuedTask{execution: kfExecution(t, h, "spark", sparkTask(t, sparkJob()), nil), q: q}

		// The quota is what Kueue counts for one SparkApplication of ours
		// (driver and executors, as Kueue's integration derives them): read
		// from the first one's Workload, made before any queue exists.
		first.launch()
		first.checkQueueLabels("")
		wl := q.kueue.WaitWorkload(t, env.Client, first.key().Namespace, first.uid(), "first's Workload", func(*unstructured.Unstructured) bool { return true })
		quota := workloadCPU(t, wl)
		qs := testenv.KueueQueues(t, env.Client, first.key().Namespace, quota, false)
		q.localQueue(second.key().Namespace, qs.ClusterQueue)

		q.waitUnsuspended(first.execution)
		firstApp := &sparkv1beta2.SparkApplication{}
		first.asSparkOperator(firstApp, sparkv1beta2.ApplicationStateRunning)
		first.until("running once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseRunning })

		second.launch()
		second.checkQueueLabels("")
		tr := second.until("Queued with Kueue's pending message", func(p pluginsCore.PhaseInfo) bool {
			return p.Phase() == pluginsCore.PhaseQueued && strings.Contains(reasonOf(p), "insufficient unused quota for cpu")
		})
		t.Logf("second: Queued, version %d, reason %q", tr.Info().Version(), reasonOf(tr.Info()))

		first.asSparkOperator(firstApp, sparkv1beta2.ApplicationStateCompleted)
		first.until("succeeded", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseSuccess })
		q.waitUnsuspended(second.execution)
		secondApp := &sparkv1beta2.SparkApplication{}
		second.asSparkOperator(secondApp, sparkv1beta2.ApplicationStateRunning)
		tr = second.until("leaves Queued once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() != pluginsCore.PhaseQueued })
		t.Logf("second: admitted, %v", tr.Info().Phase())
		first.logHistory()
		second.logHistory()
	})

	t.Run("PyTorchQuotaFitsOne", func(t *testing.T) {
		q := q.with(t)
		task := func() taskctx.Task {
			return kfTask(t, "pytorch", &kfplugins.DistributedPyTorchTrainingTask{
				MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 1}},
				WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 1}},
			})
		}
		first := &queuedTask{execution: kfExecution(t, h, "pytorch", task(), nil), q: q}
		second := &queuedTask{execution: kfExecution(t, h, "pytorch", task(), nil), q: q}

		first.launch()
		first.checkQueueLabels("")
		wl := q.kueue.WaitWorkload(t, env.Client, first.key().Namespace, first.uid(), "first's Workload", func(*unstructured.Unstructured) bool { return true })
		qs := testenv.KueueQueues(t, env.Client, first.key().Namespace, workloadCPU(t, wl), false)
		q.localQueue(second.key().Namespace, qs.ClusterQueue)

		q.waitUnsuspended(first.execution)
		firstJob := &kubeflowv1.PyTorchJob{}
		first.asTrainingOperator(firstJob, kubeflowv1.JobRunning)
		first.until("running once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseRunning })

		second.launch()
		second.checkQueueLabels("")
		tr := second.until("Queued with Kueue's pending message", func(p pluginsCore.PhaseInfo) bool {
			return p.Phase() == pluginsCore.PhaseQueued && strings.Contains(reasonOf(p), "insufficient unused quota for cpu")
		})
		t.Logf("second: Queued, version %d, reason %q", tr.Info().Version(), reasonOf(tr.Info()))

		first.asTrainingOperator(firstJob, kubeflowv1.JobSucceeded)
		first.until("succeeded", func(p pluginsCore.PhaseInfo) bool { return p.Phase() == pluginsCore.PhaseSuccess })
		q.waitUnsuspended(second.execution)
		secondJob := &kubeflowv1.PyTorchJob{}
		second.asTrainingOperator(secondJob, kubeflowv1.JobRunning)
		tr = second.until("leaves Queued once admitted", func(p pluginsCore.PhaseInfo) bool { return p.Phase() != pluginsCore.PhaseQueued })
		t.Logf("second: admitted, %v", tr.Info().Phase())
		first.logHistory()
		second.logHistory()
	})

	final := counter.snapshot()
	t.Logf("Workload reader: %d requests in all (%s); test took %s", final.total, final.describe(), time.Since(begin).Round(time.Millisecond))
}

// workloadCPU is the cpu a Workload asks for in all: each pod set's count
// times its pod's container requests.
func workloadCPU(t *testing.T, wl *unstructured.Unstructured) string {
	t.Helper()
	sets, _, err := unstructured.NestedSlice(wl.Object, "spec", "podSets")
	if err != nil || len(sets) == 0 {
		t.Fatalf("Workload %s has no pod sets (%v)", wl.GetName(), err)
	}
	total := resource.Quantity{}
	var parts []string
	for _, raw := range sets {
		ps := &unstructured.Unstructured{Object: raw.(map[string]any)}
		count, _, _ := unstructured.NestedInt64(ps.Object, "count")
		containers, _, _ := unstructured.NestedSlice(ps.Object, "template", "spec", "containers")
		pod := resource.Quantity{}
		for _, c := range containers {
			cpu, _, _ := unstructured.NestedString(c.(map[string]any), "resources", "requests", "cpu")
			if cpu == "" {
				cpu, _, _ = unstructured.NestedString(c.(map[string]any), "resources", "limits", "cpu")
			}
			if cpu != "" {
				pod.Add(resource.MustParse(cpu))
			}
		}
		for range count {
			total.Add(pod)
		}
		name, _, _ := unstructured.NestedString(ps.Object, "name")
		parts = append(parts, fmt.Sprintf("%s %d×%s", name, count, pod.String()))
	}
	t.Logf("Workload %s asks for %s cpu (%s): the ClusterQueue's cpu quota", wl.GetName(), total.String(), strings.Join(parts, ", "))
	return total.String()
}

// asSparkOperator plays spark-operator (none runs here): it sets the
// application's state, and waits until the manager's informer has seen it.
func (e *queuedTask) asSparkOperator(app *sparkv1beta2.SparkApplication, state sparkv1beta2.ApplicationStateType) {
	e.t.Helper()
	e.writeStatus(app, func() {
		app.Status.AppState.State = state
		if app.Status.DriverInfo.PodName == "" {
			app.Status.DriverInfo.PodName = e.key().Name + "-driver"
		}
	})
}

// asTrainingOperator plays the Training Operator (none runs here): it
// adds condition to the job's status, with its replicas active (Running)
// or succeeded, and waits until the manager's informer has seen it.
func (e *queuedTask) asTrainingOperator(job *kubeflowv1.PyTorchJob, condition kubeflowv1.JobConditionType) {
	e.t.Helper()
	e.writeStatus(job, func() {
		now := metav1.Now()
		if job.Status.StartTime == nil {
			job.Status.StartTime = &now
		}
		job.Status.Conditions = append(job.Status.Conditions, kubeflowv1.JobCondition{
			Type: condition, Status: corev1.ConditionTrue, Reason: "PyTorchJob" + string(condition),
			LastUpdateTime: now, LastTransitionTime: now,
		})
		if condition == kubeflowv1.JobRunning {
			for i := range job.Status.Conditions {
				if job.Status.Conditions[i].Type == kubeflowv1.JobCreated {
					job.Status.Conditions[i].Status = corev1.ConditionTrue
				}
			}
		}
		job.Status.ReplicaStatuses = map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaStatus{}
		for rt, spec := range job.Spec.PyTorchReplicaSpecs {
			n := int32(1)
			if spec.Replicas != nil {
				n = *spec.Replicas
			}
			st := &kubeflowv1.ReplicaStatus{Active: n}
			if condition == kubeflowv1.JobSucceeded {
				st = &kubeflowv1.ReplicaStatus{Succeeded: n}
				job.Status.CompletionTime = &now
			}
			job.Status.ReplicaStatuses[rt] = st
		}
	})
}

// withQueueingConfig sets fields of the plugins.queueing section (by
// their JSON names, as the config file sets them) for t. The section's Go
// type is internal to the plugins, so it is rebuilt from JSON.
func withQueueingConfig(t *testing.T, fields map[string]any) {
	t.Helper()
	plugins := stdconfig.GetSection("plugins")
	if plugins == nil {
		t.Fatal("no plugins config section")
	}
	sec := plugins.GetSection("queueing")
	if sec == nil {
		t.Fatal("no plugins.queueing config section (is a k8s plugin linked in?)")
	}
	prev := sec.GetConfig()
	raw, err := json.Marshal(prev)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	next := reflect.New(reflect.TypeOf(prev).Elem()).Interface()
	if err := json.Unmarshal(raw, next); err != nil {
		t.Fatal(err)
	}
	if err := sec.SetConfig(next); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sec.SetConfig(prev) })
}

// requestCounter counts the requests a client makes, by method and path.
type requestCounter struct {
	mu    sync.Mutex
	total int
	by    map[string]int
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		key := r.Method + " " + r.URL.Path
		if r.URL.Query().Get("watch") == "true" {
			key += "?watch"
		}
		c.mu.Lock()
		c.total++
		if c.by == nil {
			c.by = map[string]int{}
		}
		c.by[key]++
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

type requestCount struct {
	total int
	by    map[string]int
}

func (c *requestCounter) snapshot() requestCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	by := make(map[string]int, len(c.by))
	for k, v := range c.by {
		by[k] = v
	}
	return requestCount{total: c.total, by: by}
}

// describe lists the Workload requests (discovery is summed up).
func (r requestCount) describe() string {
	var parts []string
	discovery := 0
	for k, v := range r.by {
		if strings.Contains(k, "/workloads") {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
		} else {
			discovery += v
		}
	}
	return fmt.Sprintf("%s; %d others (discovery)", strings.Join(parts, ", "), discovery)
}

// since lists what grew since prev.
func (r requestCount) since(prev requestCount) string {
	var parts []string
	for k, v := range r.by {
		if d := v - prev.by[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, d))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// workloadCache is the informer cache the plugins read Workloads through
// (as the one they build from propeller's kube config: an empty scheme,
// unstructured objects), over a transport counted by counter.
func workloadCache(t *testing.T, env *testenv.Env, counter *requestCounter) cache.Cache {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(counter.wrap)
	c, err := cache.New(cfg, cache.Options{Scheme: runtime.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("Workload cache did not start")
	}
	return c
}

// kueueRun is one subtest's view of the control plane and Kueue.
type kueueRun struct {
	t     *testing.T
	env   *testenv.Env
	kueue *testenv.Kueue
}

func (q kueueRun) with(t *testing.T) kueueRun { q.t = t; return q }

// queuedTask is an execution with the history of its rounds.
type queuedTask struct {
	*execution
	q       kueueRun
	history []pluginsCore.PhaseInfo
}

// rayExecution is a Ray task (a head and one worker, no autoscaling:
// Kueue admits fixed-size clusters) in a namespace of its own.
func (q kueueRun) rayExecution(h *harness) *queuedTask {
	q.t.Helper()
	one := &plugins.RayJob{
		RayCluster: &plugins.RayCluster{
			HeadGroupSpec: &plugins.HeadGroupSpec{RayStartParams: map[string]string{"num-cpus": "1"}},
			WorkerGroupSpec: []*plugins.WorkerGroupSpec{{
				GroupName: "workers", Replicas: 1, MinReplicas: 1, MaxReplicas: 1,
				RayStartParams: map[string]string{"num-cpus": "1"},
			}},
		},
		ShutdownAfterJobFinishes: true,
	}
	return &queuedTask{execution: kfExecution(q.t, h, "ray", rayTask(q.t, one), nil), q: q}
}

// quotaForOne is the cpu the RayJob our plugin builds for e requests in
// all, as Kueue counts it: every pod set (head, each worker replica, the
// submitter), requests else limits.
func (q kueueRun) quotaForOne(e *queuedTask) string {
	q.t.Helper()
	obj, err := e.rec.Plugin.BuildResource(context.Background(), e.tCtx())
	if err != nil {
		q.t.Fatalf("BuildResource: %v", err)
	}
	rj, ok := obj.(*rayv1.RayJob)
	if !ok {
		q.t.Fatalf("the ray plugin built a %T", obj)
	}
	if !rj.Spec.Suspend || rj.Labels[testenv.KueueQueueLabel] != "queue" {
		q.t.Fatalf("the ray plugin built a RayJob not held for Kueue: suspend=%v labels=%v", rj.Spec.Suspend, rj.Labels)
	}
	total := resource.Quantity{}
	var parts []string
	add := func(what string, spec corev1.PodSpec, n int32) {
		pod := resource.Quantity{}
		for _, c := range spec.Containers {
			cpu, ok := c.Resources.Requests[corev1.ResourceCPU]
			if !ok {
				cpu = c.Resources.Limits[corev1.ResourceCPU]
			}
			pod.Add(cpu)
		}
		for range n {
			total.Add(pod)
		}
		parts = append(parts, fmt.Sprintf("%s %d×%s", what, n, pod.String()))
	}
	spec := rj.Spec.RayClusterSpec
	add("head", spec.HeadGroupSpec.Template.Spec, 1)
	for _, wg := range spec.WorkerGroupSpecs {
		n := int32(1)
		if wg.Replicas != nil {
			n = *wg.Replicas
		}
		if wg.NumOfHosts > 1 {
			n *= wg.NumOfHosts
		}
		add("worker group "+wg.GroupName, wg.Template.Spec, n)
	}
	if rj.Spec.SubmitterPodTemplate == nil {
		q.t.Fatal("the ray plugin built no submitter pod template: Kueue would count KubeRay's default submitter")
	}
	add("submitter", rj.Spec.SubmitterPodTemplate.Spec, 1)
	q.t.Logf("one Ray task's RayJob requests %s cpu (%s): the ClusterQueue's cpu quota", total.String(), strings.Join(parts, ", "))
	return total.String()
}

// localQueue creates the LocalQueue "queue" in ns, pointing at
// clusterQueue, and waits until Kueue reports it active.
func (q kueueRun) localQueue(ns, clusterQueue string) {
	q.t.Helper()
	lq := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"clusterQueue": clusterQueue}}}
	lq.SetGroupVersionKind(testenv.WorkloadGVK.GroupVersion().WithKind("LocalQueue"))
	lq.SetNamespace(ns)
	lq.SetName("queue")
	if err := q.env.Client.Create(context.Background(), lq); err != nil {
		q.t.Fatalf("creating LocalQueue in %s: %v", ns, err)
	}
	q.kueue.Wait(q.t, "LocalQueue "+ns+"/queue active", func() (bool, error) {
		got := lq.DeepCopy()
		if err := q.env.Client.Get(context.Background(), client.ObjectKeyFromObject(lq), got); err != nil {
			return false, err
		}
		return testenv.ConditionIs(got, "Active", metav1.ConditionTrue), nil
	})
}

// waitUnsuspended waits until Kueue unsuspended e's RayJob (admitted it).
func (q kueueRun) waitUnsuspended(e *execution) {
	q.t.Helper()
	q.kueue.Wait(q.t, e.key().String()+" unsuspended by Kueue", func() (bool, error) {
		u := e.server()
		if u == nil {
			return false, fmt.Errorf("%s is gone", e.key())
		}
		s, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
		rp, _, _ := unstructured.NestedBool(u.Object, "spec", "runPolicy", "suspend")
		return !s && !rp, nil
	})
}

// uid is the UID of the stored job.
func (e *queuedTask) uid() string {
	e.t.Helper()
	u := e.server()
	if u == nil {
		e.t.Fatalf("%s was not created", e.key())
	}
	return string(u.GetUID())
}

// launch runs the first round: the manager creates the job.
func (e *queuedTask) launch() {
	e.t.Helper()
	tr := e.handle()
	e.history = append(e.history, tr.Info())
	check(e.t, e.key().Namespace+": launch", tr, round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
}

// checkQueueLabels checks the stored job is labelled for the LocalQueue
// (and priority class) and was created suspended, or is now unsuspended
// by Kueue.
func (e *queuedTask) checkQueueLabels(priority string) {
	e.t.Helper()
	u := e.server()
	if u == nil {
		e.t.Fatalf("%s was not created", e.key())
	}
	if got := u.GetLabels()[testenv.KueueQueueLabel]; got != "queue" {
		e.t.Errorf("%s: label %s = %q, want queue", e.key(), testenv.KueueQueueLabel, got)
	}
	if got := u.GetLabels()[testenv.KueuePriorityClassLabel]; got != priority {
		e.t.Errorf("%s: label %s = %q, want %q", e.key(), testenv.KueuePriorityClassLabel, got, priority)
	}
	switch built := e.rec.last().(type) {
	case *rayv1.RayJob:
		if !built.Spec.Suspend {
			e.t.Errorf("%s: the plugin did not build the RayJob suspended", e.key())
		}
	case *kubeflowv1.PyTorchJob:
		if built.Spec.RunPolicy.Suspend == nil || !*built.Spec.RunPolicy.Suspend {
			e.t.Errorf("%s: the plugin did not build the PyTorchJob suspended", e.key())
		}
	case *sparkv1beta2.SparkApplication:
		if built.Spec.Suspend == nil || !*built.Spec.Suspend {
			e.t.Errorf("%s: the plugin did not build the SparkApplication suspended", e.key())
		}
	default:
		e.t.Errorf("%s: the plugin built a %T", e.key(), built)
	}
}

// asKubeRay plays KubeRay (none runs here): it writes rj's status with
// set, and waits until the manager's informer has seen it.
func (e *queuedTask) asKubeRay(rj *rayv1.RayJob, set func()) {
	e.t.Helper()
	e.writeStatus(rj, set)
}

// until runs rounds (every 100 ms, 90 s at most) until cond holds for the
// phase, and returns that round. Every round goes into the history, and
// the phase-version rule is checked on the way: while the phase (other
// than Running, whose version carries a fingerprint) stays the same, a
// changed reason comes with a higher version and an unchanged one keeps it.
func (e *queuedTask) until(what string, cond func(pluginsCore.PhaseInfo) bool) pluginsCore.Transition {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		tr := e.handle()
		info := tr.Info()
		if n := len(e.history); n > 0 {
			prev := e.history[n-1]
			if prev.Phase() == info.Phase() && info.Phase() != pluginsCore.PhaseRunning {
				switch {
				case reasonOf(prev) != reasonOf(info) && info.Version() <= prev.Version():
					e.t.Errorf("%s: %v reason changed from %q (v%d) to %q at version %d: the version did not grow",
						e.key().Namespace, info.Phase(), reasonOf(prev), prev.Version(), reasonOf(info), info.Version())
				case reasonOf(prev) == reasonOf(info) && info.Version() != prev.Version():
					e.t.Errorf("%s: %v reason %q unchanged but version went from %d to %d",
						e.key().Namespace, info.Phase(), reasonOf(info), prev.Version(), info.Version())
				}
			}
			if prev.Phase() != info.Phase() || reasonOf(prev) != reasonOf(info) || prev.Version() != info.Version() {
				e.history = append(e.history, info)
			}
		} else {
			e.history = append(e.history, info)
		}
		if cond(info) {
			return tr
		}
		if info.Phase().IsTerminal() || time.Now().After(deadline) {
			u := e.server()
			var status, spec any
			if u != nil {
				status = u.Object["status"]
				spec, _, _ = unstructured.NestedFieldNoCopy(u.Object, "spec", "suspend")
			}
			e.t.Fatalf("%s: waiting for %s: %v v%d (reason %q); job suspend=%v status %v\n--- history ---\n%s\n--- Kueue's log ---\n%s",
				e.key().Namespace, what, info.Phase(), info.Version(), reasonOf(info), spec, status, e.describeHistory(), e.q.kueue.Logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *queuedTask) describeHistory() string {
	lines := make([]string, 0, len(e.history))
	for _, p := range e.history {
		lines = append(lines, fmt.Sprintf("  %v v%d %q", p.Phase(), p.Version(), reasonOf(p)))
	}
	return strings.Join(lines, "\n")
}

func (e *queuedTask) logHistory() {
	e.t.Helper()
	e.t.Logf("%s: the phases it went through:\n%s", e.key().Namespace, e.describeHistory())
}

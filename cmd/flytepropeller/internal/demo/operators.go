package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	daskv1 "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// operatorKind is a custom resource an operator reconciles.
type operatorKind struct {
	// Label is the demo task that creates it.
	Label string
	Kind  string
	GVR   schema.GroupVersionResource
	// Operator names the operator the stand-in plays (or, with real set,
	// the operator that reconciles the kind).
	Operator string
	// real says the real operator reconciles the kind on the local control
	// plane too (startTrainingOperator): no stand-in writes its status, the
	// demo only acts as the kubelet for its pods (kubeletStandIn).
	real bool
	// newObject returns an empty typed object of the kind.
	newObject func() client.Object
	// steps are the status updates the operator makes, in order.
	steps []operatorStep
}

// operatorStep is one status update: after a pause, set the status the
// operator would set at that point.
type operatorStep struct {
	after time.Duration
	// state is the operator-side state the step enters, for the output.
	state string
	apply func(obj client.Object, now metav1.Time)
}

// operatorKinds are the four k8s resources. For the first three, the status
// each operator writes for a run that succeeds (field by field what
// spark-operator v2.5, KubeRay v1.5 and the Dask operator write, minus what
// needs real pods), which the stand-ins write; the PyTorchJob's status is
// the real Kubeflow Training Operator's.
var operatorKinds = []operatorKind{
	{
		Label: labelSpark, Kind: "SparkApplication", Operator: "spark-operator",
		GVR:       schema.GroupVersionResource{Group: "sparkoperator.k8s.io", Version: "v1beta2", Resource: "sparkapplications"},
		newObject: func() client.Object { return &sparkv1beta2.SparkApplication{} },
		steps: []operatorStep{
			{after: 1500 * time.Millisecond, state: "SUBMITTED", apply: func(o client.Object, now metav1.Time) {
				app := o.(*sparkv1beta2.SparkApplication)
				app.Status.AppState.State = sparkv1beta2.ApplicationStateSubmitted
				app.Status.SubmissionID = pseudoUUID(app.Name)
				app.Status.SparkApplicationID = "spark-" + strings.ReplaceAll(pseudoUUID(app.Name+"/app"), "-", "")
				app.Status.LastSubmissionAttemptTime = now
				app.Status.SubmissionAttempts = 1
				app.Status.DriverInfo.PodName = app.Name + "-driver"
			}},
			{after: 2 * time.Second, state: "RUNNING", apply: func(o client.Object, _ metav1.Time) {
				app := o.(*sparkv1beta2.SparkApplication)
				app.Status.AppState.State = sparkv1beta2.ApplicationStateRunning
				app.Status.ExecutionAttempts = 1
				app.Status.DriverInfo.WebUIServiceName = app.Name + "-ui-svc"
				app.Status.DriverInfo.WebUIPort = 4040
				app.Status.DriverInfo.WebUIAddress = "10.0.0.42:4040"
				app.Status.ExecutorState = map[string]sparkv1beta2.ExecutorState{
					app.Name + "-exec-1": sparkv1beta2.ExecutorStateRunning,
					app.Name + "-exec-2": sparkv1beta2.ExecutorStateRunning,
				}
			}},
			{after: 3 * time.Second, state: "SUCCEEDING", apply: func(o client.Object, _ metav1.Time) {
				app := o.(*sparkv1beta2.SparkApplication)
				app.Status.AppState.State = sparkv1beta2.ApplicationStateSucceeding
				for k := range app.Status.ExecutorState {
					app.Status.ExecutorState[k] = sparkv1beta2.ExecutorStateCompleted
				}
			}},
			{after: time.Second, state: "COMPLETED", apply: func(o client.Object, now metav1.Time) {
				app := o.(*sparkv1beta2.SparkApplication)
				app.Status.AppState.State = sparkv1beta2.ApplicationStateCompleted
				app.Status.TerminationTime = now
			}},
		},
	},
	{
		Label: labelRay, Kind: "RayJob", Operator: "KubeRay",
		GVR:       schema.GroupVersionResource{Group: "ray.io", Version: "v1", Resource: "rayjobs"},
		newObject: func() client.Object { return &rayv1.RayJob{} },
		steps: []operatorStep{
			{after: 1500 * time.Millisecond, state: "Initializing", apply: func(o client.Object, now metav1.Time) {
				job := o.(*rayv1.RayJob)
				job.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusInitializing
				job.Status.RayClusterName = job.Name + "-raycluster-" + shortHash(job.Name)
				job.Status.JobId = job.Name + "-" + shortHash(job.Name+"/job")
				job.Status.StartTime = &now
			}},
			{after: 2 * time.Second, state: "Running (job PENDING)", apply: func(o client.Object, _ metav1.Time) {
				job := o.(*rayv1.RayJob)
				cluster := job.Status.RayClusterName
				job.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusRunning
				job.Status.JobStatus = rayv1.JobStatusPending
				job.Status.DashboardURL = cluster + "-head-svc." + job.Namespace + ".svc.cluster.local:8265"
				job.Status.RayClusterStatus.State = rayv1.Ready //nolint:staticcheck // KubeRay still writes it
				job.Status.RayClusterStatus.Head = rayv1.HeadInfo{
					PodName: cluster + "-head-" + shortHash(cluster), PodIP: "10.0.0.51",
					ServiceName: cluster + "-head-svc", ServiceIP: "10.0.0.52",
				}
			}},
			{after: 1500 * time.Millisecond, state: "Running (job RUNNING)", apply: func(o client.Object, _ metav1.Time) {
				o.(*rayv1.RayJob).Status.JobStatus = rayv1.JobStatusRunning
			}},
			{after: 3 * time.Second, state: "Complete (job SUCCEEDED)", apply: func(o client.Object, now metav1.Time) {
				job := o.(*rayv1.RayJob)
				job.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusComplete
				job.Status.JobStatus = rayv1.JobStatusSucceeded
				job.Status.Message = "Job finished successfully."
				job.Status.EndTime = &now
				job.Status.Succeeded = ptr.To[int32](1)
				job.Status.Failed = ptr.To[int32](0)
			}},
		},
	},
	{
		Label: labelDask, Kind: "DaskJob", Operator: "dask-kubernetes operator",
		GVR:       schema.GroupVersionResource{Group: "kubernetes.dask.org", Version: "v1", Resource: "daskjobs"},
		newObject: func() client.Object { return &daskv1.DaskJob{} },
		steps: []operatorStep{
			{after: 1500 * time.Millisecond, state: "JobCreated", apply: func(o client.Object, _ metav1.Time) {
				o.(*daskv1.DaskJob).Status.JobStatus = daskv1.DaskJobCreated
			}},
			{after: 1500 * time.Millisecond, state: "ClusterCreated", apply: func(o client.Object, _ metav1.Time) {
				job := o.(*daskv1.DaskJob)
				job.Status.JobStatus = daskv1.DaskJobClusterCreated
				job.Status.ClusterName = job.Name
			}},
			{after: 1500 * time.Millisecond, state: "Running", apply: func(o client.Object, now metav1.Time) {
				job := o.(*daskv1.DaskJob)
				job.Status.JobStatus = daskv1.DaskJobRunning
				job.Status.JobRunnerPodName = job.Name + "-runner"
				job.Status.StartTime = now
			}},
			{after: 3 * time.Second, state: "Successful", apply: func(o client.Object, now metav1.Time) {
				job := o.(*daskv1.DaskJob)
				job.Status.JobStatus = daskv1.DaskJobSuccessful
				job.Status.EndTime = now
			}},
		},
	},
	{
		Label: labelPyTorch, Kind: kubeflowv1.PyTorchJobKind, Operator: "Kubeflow Training Operator", real: true,
		GVR:       kubeflowv1.SchemeGroupVersion.WithResource(kubeflowv1.PyTorchJobPlural),
		newObject: func() client.Object { return &kubeflowv1.PyTorchJob{} },
	},
}

// observedResource is what the demo saw of one resource.
type observedResource struct {
	Kind string
	// Created is the object as it was created (its first ADDED event).
	Created *unstructured.Unstructured
	// States are the operator-side states the demo saw, in order.
	States []string
}

// resourceWatcher watches the operators' resources of one execution in a
// namespace (all namespaces if empty), keeps each as created, and hands new
// ones to the stand-ins.
type resourceWatcher struct {
	c         *clients
	namespace string
	prefix    string // resource names start with the execution name
	out       io.Writer
	start     time.Time
	standIn   bool // play the operators

	mu   sync.Mutex
	seen map[string]*observedResource // by workflow node (task label if none)
}

func newResourceWatcher(c *clients, namespace, execName string, out io.Writer, start time.Time, standIn bool) *resourceWatcher {
	return &resourceWatcher{c: c, namespace: namespace, prefix: execName, out: out, start: start, standIn: standIn,
		seen: map[string]*observedResource{}}
}

// resource returns what was seen for a workflow node.
func (w *resourceWatcher) resource(nodeID string) *observedResource {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[nodeID]
}

// nodeLabel is the label propeller puts the workflow node's ID in on the
// resources its plugins create.
const nodeLabel = "node-id"

// seenKey is the node that created u (its kind's task label if unlabelled).
func seenKey(k operatorKind, u *unstructured.Unstructured) string {
	if n := u.GetLabels()[nodeLabel]; n != "" {
		return n
	}
	return k.Label
}

// run watches every kind until ctx ends. With standIn set, it plays each
// kind's operator for every new resource, except for kinds the real
// operator reconciles.
func (w *resourceWatcher) run(ctx context.Context, wg *sync.WaitGroup) error {
	for _, k := range operatorKinds {
		wi, err := w.c.dynamic.Resource(k.GVR).Namespace(w.namespace).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("watching %s: %w", k.GVR.Resource, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer wi.Stop()
			for ev := range wi.ResultChan() {
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok || !strings.HasPrefix(u.GetName(), w.prefix) {
					continue
				}
				switch ev.Type {
				case watch.Added:
					if w.added(k, u) && w.standIn && !k.real {
						wg.Add(1)
						go func() {
							defer wg.Done()
							w.playOperator(ctx, k, u.GetNamespace(), u.GetName())
						}()
					}
				case watch.Modified:
					w.modified(k, u)
				}
			}
		}()
	}
	return nil
}

func (w *resourceWatcher) added(k operatorKind, u *unstructured.Unstructured) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := seenKey(k, u)
	if _, ok := w.seen[key]; ok {
		return false
	}
	w.seen[key] = &observedResource{Kind: k.Kind, Created: u.DeepCopy()}
	w.logf("%-10s %s %s/%s created by propeller", k.Label, k.Kind, u.GetNamespace(), u.GetName())
	return true
}

func (w *resourceWatcher) modified(k operatorKind, u *unstructured.Unstructured) {
	state := operatorState(k, u)
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.seen[seenKey(k, u)]
	if r == nil || state == "" || (len(r.States) > 0 && r.States[len(r.States)-1] == state) {
		return
	}
	r.States = append(r.States, state)
	who := k.Operator
	if w.standIn && !k.real {
		who = "stand-in for " + k.Operator
	}
	w.logf("%-10s %s %s: %s (%s)", k.Label, k.Kind, u.GetName(), state, who)
}

// operatorState is the state string the operator wrote.
func operatorState(k operatorKind, u *unstructured.Unstructured) string {
	var path []string
	switch k.Label {
	case labelSpark:
		path = []string{"status", "applicationState", "state"}
	case labelRay:
		d, _, _ := unstructured.NestedString(u.Object, "status", "jobDeploymentStatus")
		j, _, _ := unstructured.NestedString(u.Object, "status", "jobStatus")
		if j != "" {
			return d + " (job " + j + ")"
		}
		return d
	case labelDask:
		path = []string{"status", "jobStatus"}
	case labelPyTorch:
		return kubeflowState(u)
	}
	s, _, _ := unstructured.NestedString(u.Object, path...)
	return s
}

// kubeflowState is a Kubeflow job's state: the type of its latest condition
// that is true (Created, Running, Restarting, Succeeded, Failed, ...).
func kubeflowState(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	state := ""
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["status"] == "True" {
			state, _ = m["type"].(string)
		}
	}
	return state
}

// playOperator stands in for k's operator on one resource: it writes each
// step's status through the status subresource, as the operator does.
func (w *resourceWatcher) playOperator(ctx context.Context, k operatorKind, namespace, name string) {
	for _, s := range k.steps {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.after):
		}
		err := retryOnConflict(ctx, func() error {
			obj := k.newObject()
			if err := w.c.typed.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj); err != nil {
				return err
			}
			s.apply(obj, metav1.NewTime(time.Now().Truncate(time.Second)))
			return w.c.typed.Status().Update(ctx, obj)
		})
		if err != nil {
			if ctx.Err() == nil && !apierrors.IsNotFound(err) {
				w.logf("%-10s stand-in for %s could not write status %s: %v", k.Label, k.Operator, s.state, err)
			}
			return
		}
	}
}

func (w *resourceWatcher) logf(format string, args ...any) {
	fmt.Fprintf(w.out, "  %6.1fs  %s\n", time.Since(w.start).Seconds(), fmt.Sprintf(format, args...))
}

func retryOnConflict(ctx context.Context, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if err == nil || !apierrors.IsConflict(err) || i == 5 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// shortHash is a stable 5-character suffix, like the ones operators append.
func shortHash(s string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	out := make([]byte, 5)
	for i := range out {
		out[i] = alphabet[h%uint32(len(alphabet))]
		h /= uint32(len(alphabet))
	}
	return string(out)
}

// pseudoUUID is a stable UUID-shaped ID derived from s.
func pseudoUUID(s string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	g := h * 0x9E3779B97F4A7C15
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, uint16(g>>48)&0xfff, g&0xffffffffffff)
}

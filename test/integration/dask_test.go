package integration_test

import (
	"testing"
	"time"

	daskv1 "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/internal/taskctx"
)

// daskTask is a Dask task for job with the resources propeller resolved.
func daskTask(t *testing.T, job *plugins.DaskJob) taskctx.Task {
	q := resource.MustParse
	return taskctx.Task{
		Template:       template("dask", customStruct(t, job), "ghcr.io/flyteorg/dask-task:2024.12"),
		ServiceAccount: "dask-sa",
		MaxAttempts:    3,
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("2Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("2Gi")},
		},
	}
}

// daskClusterMetadata is what the DaskJob CRD prunes of what our plugin
// (like upstream's) builds: spec.cluster.metadata, which the published CRD
// (dask-kubernetes 2023.x, Helm chart copy) does not declare. The
// operator, when it creates the cluster, starts from the DaskJob's own
// labels and annotations, so nothing is lost as long as the cluster's are
// among the job's; checkClusterMetadata proves they are.
const daskClusterMetadata = "spec.cluster.metadata"

// checkClusterMetadata checks that every label and annotation the plugin
// put on the (pruned) cluster metadata is also on the stored DaskJob.
func checkClusterMetadata(t *testing.T, e *execution) {
	t.Helper()
	built, ok := e.rec.last().(*daskv1.DaskJob)
	if !ok {
		t.Fatalf("built %T, want a DaskJob", e.rec.last())
	}
	stored := e.server()
	for k, v := range built.Spec.Cluster.Labels {
		if got := stored.GetLabels()[k]; got != v {
			t.Errorf("cluster label %s=%q is pruned with spec.cluster.metadata and not on the DaskJob (%q)", k, v, got)
		}
	}
	for k, v := range built.Spec.Cluster.Annotations {
		if got := stored.GetAnnotations()[k]; got != v {
			t.Errorf("cluster annotation %s=%q is pruned with spec.cluster.metadata and not on the DaskJob (%q)", k, v, got)
		}
	}
}

// TestDaskJobThroughPropeller runs a default Dask task through propeller's
// manager from launch to success, this test standing in for the Dask
// operator (it merge-patches the DaskJob's status through the status
// subresource as the operator's kopf handlers do; no operator or kubelet
// runs), then finalizes it.
func TestDaskJobThroughPropeller(t *testing.T) {
	h := newHarness(t)
	e := h.newExecution(t, "dask", daskTask(t, &plugins.DaskJob{Workers: &plugins.DaskWorkerGroup{NumberOfWorkers: 2}}))
	ns, name := e.key().Namespace, e.key().Name
	runnerLog := "https://k8s.example.com/log/" + ns + "/" + name + "-runner"
	dashboard := "https://dask.example.com/" + ns + "/" + name + "-scheduler"

	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	e.checkPropellerMetadata(e.checkStored(daskClusterMetadata))
	checkClusterMetadata(t, e)

	dj := &daskv1.DaskJob{}
	e.typed(dj)
	if got := dj.Spec.Cluster.Spec.Worker.Replicas; got != 2 {
		t.Errorf("stored %d workers, want 2", got)
	}

	check(t, "no status", e.handle(), round{phase: pluginsCore.PhaseInitializing, reason: "unknown"})

	// The operator's kopf handlers patch the status as the job proceeds.
	e.patchStatus(dj, map[string]any{"jobStatus": daskv1.DaskJobCreated})
	check(t, "job created", e.handle(), round{phase: pluginsCore.PhaseInitializing, version: 1, reason: "job created"})

	e.patchStatus(dj, map[string]any{"jobStatus": daskv1.DaskJobClusterCreated, "clusterName": name})
	check(t, "cluster created", e.handle(), round{
		phase: pluginsCore.PhaseInitializing, version: 2, reason: "cluster created", links: []string{dashboard},
	})

	start := time.Now().UTC().Truncate(time.Second)
	e.patchStatus(dj, map[string]any{
		"jobStatus": daskv1.DaskJobRunning, "jobRunnerPodName": name + "-runner", "startTime": start.Format(time.RFC3339),
	})
	check(t, "running", e.handle(), round{phase: pluginsCore.PhaseRunning, links: []string{runnerLog, dashboard}})

	e.patchStatus(dj, map[string]any{"jobStatus": daskv1.DaskJobSuccessful, "endTime": start.Add(5 * time.Minute).Format(time.RFC3339)})
	check(t, "successful", e.handle(), round{
		phase: pluginsCore.PhaseSuccess, links: []string{runnerLog},
		noLinks: []string{dashboard}, // the operator deletes the cluster when the job ends
	})

	e.finalize()
	e.checkFinalizedKept()
}

// TestDaskCustomImageAndResourcesThroughPropeller creates an
// interruptible Dask task with its own scheduler and worker images and
// resources (GPU workers), proves the API server stored all of it, then,
// this test standing in for the Dask operator, fails the job and aborts it.
func TestDaskCustomImageAndResourcesThroughPropeller(t *testing.T) {
	res := func(cpu, mem, gpu string) *core.Resources {
		list := []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: mem}}
		if gpu != "" {
			list = append(list, &core.Resources_ResourceEntry{Name: core.Resources_GPU, Value: gpu})
		}
		return &core.Resources{Requests: list, Limits: list}
	}
	job := &plugins.DaskJob{
		Scheduler: &plugins.DaskScheduler{Image: "ghcr.io/dask/dask:2024.12.1", Resources: res("2", "4Gi", "")},
		Workers: &plugins.DaskWorkerGroup{
			NumberOfWorkers: 4, Image: "ghcr.io/dask/dask-gpu:2024.12.1", Resources: res("4", "16Gi", "1"),
		},
	}
	task := daskTask(t, job)
	task.Interruptible = true

	h := newHarness(t)
	e := h.newExecution(t, "dask", task)
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	e.checkPropellerMetadata(e.checkStored(daskClusterMetadata))
	checkClusterMetadata(t, e)

	dj := &daskv1.DaskJob{}
	e.typed(dj)
	sched, work := dj.Spec.Cluster.Spec.Scheduler.Spec, dj.Spec.Cluster.Spec.Worker.Spec
	if len(sched.Containers) == 0 || sched.Containers[0].Image != "ghcr.io/dask/dask:2024.12.1" {
		t.Errorf("scheduler containers %v, want the custom image first", names(sched.Containers))
	}
	var worker *v1.Container
	for i := range work.Containers {
		if work.Containers[i].Name == "dask-worker" {
			worker = &work.Containers[i]
		}
	}
	if worker == nil {
		t.Fatalf("no dask-worker container in %v", names(work.Containers))
	}
	if worker.Image != "ghcr.io/dask/dask-gpu:2024.12.1" || worker.Resources.Limits.Name("nvidia.com/gpu", resource.DecimalSI).Value() != 1 {
		t.Errorf("worker image %s, limits %v: want the custom image with one GPU", worker.Image, worker.Resources.Limits)
	}
	if !hasToleration(work.Tolerations, "spot") || hasToleration(sched.Tolerations, "spot") || hasToleration(dj.Spec.Job.Spec.Tolerations, "spot") {
		t.Errorf("spot toleration on workers only: workers %v, scheduler %v, runner %v",
			work.Tolerations, sched.Tolerations, dj.Spec.Job.Spec.Tolerations)
	}

	e.patchStatus(dj, map[string]any{"jobStatus": daskv1.DaskJobRunning, "clusterName": e.key().Name, "jobRunnerPodName": e.key().Name + "-runner"})
	check(t, "running", e.handle(), round{phase: pluginsCore.PhaseRunning})

	e.patchStatus(dj, map[string]any{"jobStatus": daskv1.DaskJobFailed, "endTime": time.Now().UTC().Format(time.RFC3339)})
	check(t, "failed", e.handle(), round{phase: pluginsCore.PhaseRetryableFailure, code: "DownstreamSystemError", reason: e.key().Name + "-runner"})

	e.abortAndFinalize()
}

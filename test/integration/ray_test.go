package integration_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/internal/taskctx"
)

// rayTask is a Ray task for job with the resources propeller resolved.
func rayTask(t *testing.T, job *plugins.RayJob) taskctx.Task {
	q := resource.MustParse
	return taskctx.Task{
		Template:       template("ray", customStruct(t, job), "ghcr.io/flyteorg/ray-task:2.40.0"),
		ServiceAccount: "ray-sa",
		MaxAttempts:    3,
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("4Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("4Gi")},
		},
	}
}

// twoWorkerRayJob is a head and one group of two workers, with a runtime
// environment and shutdown after the job.
func twoWorkerRayJob() *plugins.RayJob {
	return &plugins.RayJob{
		RayCluster: &plugins.RayCluster{
			HeadGroupSpec: &plugins.HeadGroupSpec{RayStartParams: map[string]string{"num-cpus": "1"}},
			WorkerGroupSpec: []*plugins.WorkerGroupSpec{{
				GroupName: "workers", Replicas: 2, MinReplicas: 1, MaxReplicas: 3,
				RayStartParams: map[string]string{"num-cpus": "2"},
			}},
		},
		RuntimeEnvYaml:           "pip:\n- numpy==2.1.0\nenv_vars:\n  OMP_NUM_THREADS: \"1\"\n",
		ShutdownAfterJobFinishes: true,
		TtlSecondsAfterFinished:  120,
	}
}

// TestRayJobThroughPropeller runs a basic Ray task (a head and one worker
// group) through propeller's manager from launch to success, this test
// standing in for KubeRay (it writes the RayJob's status through the
// status subresource as KubeRay does; no operator or kubelet runs), then
// finalizes it with delete-resource-on-finalize, which deletes it.
func TestRayJobThroughPropeller(t *testing.T) {
	withK8sConfig(t, func(c *config.K8sPluginConfig) { c.DeleteResourceOnFinalize = true })
	task := rayTask(t, twoWorkerRayJob())
	task.Template.Metadata.Timeout = durationpb.New(2 * time.Hour)

	h := newHarness(t)
	e := h.newExecution(t, "ray", task)
	ns, name := e.key().Namespace, e.key().Name
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	e.checkPropellerMetadata(e.checkStored())

	rj := &rayv1.RayJob{}
	e.typed(rj)
	if rj.Spec.RayClusterSpec == nil || len(rj.Spec.RayClusterSpec.WorkerGroupSpecs) != 1 || rj.Spec.Entrypoint == "" {
		t.Fatalf("stored RayJob lacks its cluster or entrypoint: %+v", rj.Spec)
	}
	if rj.Spec.ActiveDeadlineSeconds == nil || *rj.Spec.ActiveDeadlineSeconds != 7200 {
		t.Errorf("activeDeadlineSeconds = %v, want the task timeout 7200", rj.Spec.ActiveDeadlineSeconds)
	}

	check(t, "no status", e.handle(), round{phase: pluginsCore.PhaseQueued, version: 1, reason: "Scheduling"})

	cluster := name + "-raycluster-x7k2p"
	start := metav1.NewTime(time.Now().Truncate(time.Second))
	e.writeStatus(rj, func() {
		rj.Status = rayv1.RayJobStatus{
			JobDeploymentStatus: rayv1.JobDeploymentStatusInitializing,
			RayClusterName:      cluster,
			JobId:               name + "-9xk2m",
			StartTime:           &start,
		}
	})
	check(t, "initializing", e.handle(), round{phase: pluginsCore.PhaseInitializing, reason: "cluster is creating"})

	e.writeStatus(rj, func() {
		rj.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusRunning
		rj.Status.JobStatus = rayv1.JobStatusRunning
		rj.Status.DashboardURL = cluster + "-head-svc." + ns + ".svc.cluster.local:8265"
		rj.Status.RayClusterStatus = rayv1.RayClusterStatus{
			Conditions: []metav1.Condition{
				{Type: string(rayv1.HeadPodReady), Status: metav1.ConditionTrue, Reason: rayv1.HeadPodRunningAndReady, LastTransitionTime: start},
				{Type: string(rayv1.RayClusterProvisioned), Status: metav1.ConditionTrue, Reason: rayv1.AllPodRunningAndReadyFirstTime, LastTransitionTime: start},
			},
			ReadyWorkerReplicas:     2,
			AvailableWorkerReplicas: 2,
			DesiredWorkerReplicas:   2,
			Head:                    rayv1.HeadInfo{PodName: cluster + "-head-8s9dk", PodIP: "10.244.0.12", ServiceName: cluster + "-head-svc"},
		}
	})
	check(t, "running", e.handle(), round{
		phase: pluginsCore.PhaseRunning,
		links: []string{
			"https://k8s.example.com/log/" + ns + "/" + cluster + "-head-8s9dk",
			"https://ray.example.com/" + ns + "/" + cluster,
		},
	})

	end := metav1.NewTime(start.Add(10 * time.Minute))
	e.writeStatus(rj, func() {
		rj.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusComplete
		rj.Status.JobStatus = rayv1.JobStatusSucceeded
		rj.Status.EndTime = &end
		rj.Status.Succeeded = ptr(int32(1))
		rj.Status.Message = "Job finished successfully."
	})
	check(t, "complete", e.handle(), round{
		phase:   pluginsCore.PhaseSuccess,
		links:   []string{"https://k8s.example.com/log/" + ns + "/" + cluster + "-head-8s9dk"},
		noLinks: []string{"https://ray.example.com/"}, // the dashboard is gone with the cluster
	})

	e.finalize()
	if u := e.server(); u != nil {
		t.Errorf("%s still exists after Finalize with delete-resource-on-finalize: deletion %v, finalizers %v",
			e.key(), u.GetDeletionTimestamp(), u.GetFinalizers())
	}
}

// TestRayAutoscalingJobThroughPropeller creates an autoscaling Ray task
// with two worker groups (one of them GPU, with its own pod template),
// proves the API server stored all of it, then, this test standing in for
// KubeRay, fails the job as KubeRay does when the user's code fails. The
// task's error file says the error is not recoverable: the manager reports
// a permanent failure that asks for cleanup, and propeller aborts and
// finalizes the RayJob.
func TestRayAutoscalingJobThroughPropeller(t *testing.T) {
	q := resource.MustParse
	gpuPod := &v1.PodSpec{
		Tolerations:  []v1.Toleration{{Key: "gpu-pool", Operator: v1.TolerationOpEqual, Value: "a100", Effect: v1.TaintEffectNoSchedule}},
		NodeSelector: map[string]string{"accelerator": "a100"},
		Containers: []v1.Container{{
			Name: "ray-worker",
			Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: q("8"), v1.ResourceMemory: q("32Gi"), v1.ResourceEphemeralStorage: q("100Gi")},
				Limits:   v1.ResourceList{v1.ResourceMemory: q("32Gi"), v1.ResourceEphemeralStorage: q("100Gi"), "nvidia.com/gpu": q("1")},
			},
			VolumeMounts: []v1.VolumeMount{{Name: "dshm", MountPath: "/dev/shm"}},
		}},
		Volumes: []v1.Volume{{Name: "dshm", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{Medium: v1.StorageMediumMemory}}}},
	}
	job := &plugins.RayJob{
		RayCluster: &plugins.RayCluster{
			HeadGroupSpec: &plugins.HeadGroupSpec{RayStartParams: map[string]string{"num-cpus": "0", "dashboard-host": "0.0.0.0"}},
			WorkerGroupSpec: []*plugins.WorkerGroupSpec{
				{GroupName: "cpu", Replicas: 1, MinReplicas: 0, MaxReplicas: 10, RayStartParams: map[string]string{"num-cpus": "4"}},
				{
					GroupName: "gpu", Replicas: 0, MinReplicas: 0, MaxReplicas: 4, RayStartParams: map[string]string{"num-gpus": "1"},
					K8SPod: &core.K8SPod{
						PrimaryContainerName: "ray-worker",
						Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"group": "gpu"}, Annotations: map[string]string{"example.com/cost-center": "ml"}},
						PodSpec:              objStruct(t, gpuPod),
					},
				},
			},
			EnableAutoscaling: true,
			AutoscalerOptions: &plugins.AutoscalerOptions{
				UpscalingMode:      plugins.AutoscalerOptions_UPSCALING_MODE_AGGRESSIVE,
				IdleTimeoutSeconds: 120,
				Image:              "rayproject/ray:2.40.0",
				Env:                []*core.KeyValuePair{{Key: "AUTOSCALER_LOG_LEVEL", Value: "debug"}},
				Resources: &core.Resources{
					Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "500m"}, {Name: core.Resources_MEMORY, Value: "512Mi"}},
					Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "1"}, {Name: core.Resources_MEMORY, Value: "1Gi"}},
				},
			},
		},
		RuntimeEnvYaml:           "working_dir: s3://bucket/code.zip\n",
		ShutdownAfterJobFinishes: true,
	}

	h := newHarness(t)
	e := h.newExecution(t, "ray", rayTask(t, job))
	name := e.key().Name
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	e.checkPropellerMetadata(e.checkStored())

	rj := &rayv1.RayJob{}
	e.typed(rj)
	spec := rj.Spec.RayClusterSpec
	if spec == nil || spec.EnableInTreeAutoscaling == nil || !*spec.EnableInTreeAutoscaling || spec.AutoscalerOptions == nil {
		t.Fatalf("stored cluster spec lacks autoscaling: %+v", spec)
	}
	if got := len(spec.WorkerGroupSpecs); got != 2 {
		t.Fatalf("stored %d worker groups, want 2", got)
	}
	gpu := spec.WorkerGroupSpecs[1]
	if gpu.GroupName != "gpu" || gpu.Template.Labels["group"] != "gpu" || !hasToleration(gpu.Template.Spec.Tolerations, "gpu-pool") {
		t.Errorf("gpu group's pod template did not reach the stored RayJob: %+v", gpu.Template)
	}

	// A worker group's pod template is its own: the other group has none of it.
	if cpu := spec.WorkerGroupSpecs[0]; cpu.Template.Labels["group"] != "" || hasToleration(cpu.Template.Spec.Tolerations, "gpu-pool") {
		t.Errorf("cpu group got the gpu group's pod template: %+v", cpu.Template)
	}

	cluster := name + "-raycluster-p2x9q"
	start := metav1.NewTime(time.Now().Truncate(time.Second))
	e.writeStatus(rj, func() {
		rj.Status = rayv1.RayJobStatus{
			JobDeploymentStatus: rayv1.JobDeploymentStatusRunning,
			JobStatus:           rayv1.JobStatusRunning,
			RayClusterName:      cluster,
			JobId:               name + "-abcde",
			StartTime:           &start,
		}
	})
	check(t, "running", e.handle(), round{phase: pluginsCore.PhaseRunning})

	// The task wrote a non-recoverable error before it failed (flytekit
	// does this for a user exception).
	writeErrorDocument(t, e, &core.ErrorDocument{Error: &core.ContainerError{
		Code: "USER:ValueError", Message: "bad hyper-parameters", Kind: core.ContainerError_NON_RECOVERABLE,
		Origin: core.ExecutionError_USER,
	}})
	end := metav1.Now()
	e.writeStatus(rj, func() {
		rj.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusFailed
		rj.Status.JobStatus = rayv1.JobStatusFailed
		rj.Status.Reason = rayv1.AppFailed
		rj.Status.Message = "Job entrypoint command failed with exit code 1"
		rj.Status.EndTime = &end
		rj.Status.Failed = ptr(int32(1))
	})
	tr := e.handle()
	check(t, "failed", tr, round{phase: pluginsCore.PhasePermanentFailure, code: "TaskFailedWithError", reason: "bad hyper-parameters"})
	if !tr.Info().CleanupOnFailure() {
		t.Error("a failed RayJob should ask propeller to clean it up (CleanupOnFailure)")
	}

	// Propeller aborts a failure that asks for cleanup, then finalizes.
	e.abortAndFinalize()
}

// writeErrorDocument stores doc where the task writes its error file.
func writeErrorDocument(t *testing.T, e *execution, doc *core.ErrorDocument) {
	t.Helper()
	path := e.tCtx().OutputWriter().GetErrorPath()
	if err := taskctx.SharedStore().WriteProtobuf(context.Background(), path, storage.Options{}, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(path), "mem://") {
		t.Fatalf("error path %s is not in the in-memory store", path)
	}
}

// TestRayJobDeletedExternallyThroughPropeller deletes a running RayJob
// behind propeller's back (kubectl delete): propeller's finalizer keeps it,
// marked for deletion, and the manager reports a system-retryable
// UnexpectedObjectDeletion failure rather than trusting a status no one
// will update; Finalize then lets it go.
func TestRayJobDeletedExternallyThroughPropeller(t *testing.T) {
	h := newHarness(t)
	e := h.newExecution(t, "ray", rayTask(t, &plugins.RayJob{RayCluster: &plugins.RayCluster{
		HeadGroupSpec:   &plugins.HeadGroupSpec{},
		WorkerGroupSpec: []*plugins.WorkerGroupSpec{{GroupName: "workers", Replicas: 1, MinReplicas: 1, MaxReplicas: 1}},
	}}))
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	rj := &rayv1.RayJob{}
	e.writeStatus(rj, func() {
		rj.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusRunning
		rj.Status.JobStatus = rayv1.JobStatusRunning
	})
	check(t, "running", e.handle(), round{phase: pluginsCore.PhaseRunning})

	before := h.enq.count(e.owner())
	if err := h.env.Client.Delete(context.Background(), rj); err != nil {
		t.Fatal(err)
	}
	u := e.server()
	if u == nil || u.GetDeletionTimestamp() == nil {
		t.Fatalf("after an external delete the finalizer should keep %s, marked for deletion; got %v", e.key(), u)
	}
	e.waitSeen(u.GetResourceVersion(), before)
	tr := e.handle()
	check(t, "deleted externally", tr, round{phase: pluginsCore.PhaseRetryableFailure, code: "UnexpectedObjectDeletion"})
	if err := tr.Info().Err(); err != nil && err.GetKind() != core.ExecutionError_SYSTEM {
		t.Errorf("error kind %v, want SYSTEM", err.GetKind())
	}

	e.finalize()
	if u := e.server(); u != nil {
		t.Errorf("%s still exists after Finalize: finalizers %v", e.key(), u.GetFinalizers())
	}
}

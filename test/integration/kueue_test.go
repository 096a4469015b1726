package integration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/internal/testenv"
)

// kueueJobCPU is what one kueueRayJob requests in all (head 200m, one
// worker 200m, submitter 100m): the ClusterQueues below fit exactly one.
const kueueJobCPU = "500m"

// kueueRayJob is a small RayJob as our ray plugin submits it to Kueue:
// suspended, labelled with the LocalQueue (and a priority class when
// priority is set), shutdownAfterJobFinishes, and a submitter pod template
// (Kueue counts the submitter Job's pod in the quota: without a template,
// KubeRay's default submitter, 500m cpu and 200Mi).
func kueueRayJob(ns, name, queue, priority string) *rayv1.RayJob {
	pod := func(container string, cpu string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: container, Image: "rayproject/ray:2.46.0",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
		}}}}
	}
	one := int32(1)
	labels := map[string]string{testenv.KueueQueueLabel: queue}
	if priority != "" {
		labels[testenv.KueuePriorityClassLabel] = priority
	}
	submitter := pod("ray-job-submitter", "100m")
	submitter.Spec.RestartPolicy = corev1.RestartPolicyNever
	return &rayv1.RayJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: rayv1.RayJobSpec{
			Entrypoint:               "python -c 'print(1)'",
			Suspend:                  true,
			ShutdownAfterJobFinishes: true,
			SubmitterPodTemplate:     &submitter,
			RayClusterSpec: &rayv1.RayClusterSpec{
				HeadGroupSpec: rayv1.HeadGroupSpec{RayStartParams: map[string]string{}, Template: pod("ray-head", "200m")},
				WorkerGroupSpecs: []rayv1.WorkerGroupSpec{{
					GroupName: "workers", Replicas: &one, MinReplicas: &one, MaxReplicas: &one,
					RayStartParams: map[string]string{}, Template: pod("ray-worker", "200m"),
				}},
			},
		},
	}
}

// kueueCheck is one subtest's view of the control plane and Kueue.
type kueueCheck struct {
	env   *testenv.Env
	kueue *testenv.Kueue
}

// create stores job and returns when it is created (its UID set).
func (k kueueCheck) create(t *testing.T, job *rayv1.RayJob) {
	t.Helper()
	if err := k.env.Client.Create(context.Background(), job); err != nil {
		t.Fatalf("creating RayJob %s: %v", job.Name, err)
	}
}

// workload waits until the job's Workload satisfies cond and returns it.
func (k kueueCheck) workload(t *testing.T, job *rayv1.RayJob, what string, cond func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
	t.Helper()
	return k.kueue.WaitWorkload(t, k.env.Client, job.Namespace, string(job.UID), job.Name+": "+what, cond)
}

// suspended waits until the job's spec.suspend is want (Kueue flips it).
func (k kueueCheck) suspended(t *testing.T, job *rayv1.RayJob, want bool) {
	t.Helper()
	k.kueue.Wait(t, fmt.Sprintf("%s: spec.suspend=%v", job.Name, want), func() (bool, error) {
		got := &rayv1.RayJob{}
		if err := k.env.Client.Get(context.Background(), client.ObjectKeyFromObject(job), got); err != nil {
			return false, err
		}
		return got.Spec.Suspend == want, nil
	})
}

// setStatus plays KubeRay (none runs here): it writes the job's
// deployment status (and job status) through the status subresource.
func (k kueueCheck) setStatus(t *testing.T, job *rayv1.RayJob, deployment rayv1.JobDeploymentStatus, status rayv1.JobStatus) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &rayv1.RayJob{}
		if err := k.env.Client.Get(context.Background(), client.ObjectKeyFromObject(job), got); err != nil {
			return err
		}
		got.Status.JobDeploymentStatus, got.Status.JobStatus = deployment, status
		return k.env.Client.Status().Update(context.Background(), got)
	})
	if err != nil {
		t.Fatalf("status of RayJob %s (as KubeRay): %v", job.Name, err)
	}
}

func admitted(wl *unstructured.Unstructured) bool {
	return testenv.ConditionIs(wl, testenv.WorkloadQuotaReserved, metav1.ConditionTrue) &&
		testenv.ConditionIs(wl, testenv.WorkloadAdmitted, metav1.ConditionTrue)
}

// pendingWithMessage: QuotaReserved False with Kueue's message.
func pendingWithMessage(wl *unstructured.Unstructured) bool {
	c := testenv.FindCondition(wl, testenv.WorkloadQuotaReserved)
	return c != nil && c.Status == metav1.ConditionFalse && c.Message != ""
}

// logCondition logs one condition of wl (type, status, reason, message).
func logCondition(t *testing.T, who string, wl *unstructured.Unstructured, condType string) *metav1.Condition {
	t.Helper()
	c := testenv.FindCondition(wl, condType)
	if c == nil {
		t.Logf("%s: Workload %s has no %s condition", who, wl.GetName(), condType)
		return nil
	}
	t.Logf("%s: Workload %s %s=%s reason=%q message=%q", who, wl.GetName(), c.Type, c.Status, c.Reason, c.Message)
	return c
}

// TestKueueSmoke runs the real Kueue controller (see internal/testenv's
// kueue.go for how) and checks, on RayJobs written by hand as our ray
// plugin writes them (suspended, labelled), what the queueing support of
// our plugins relies on: Kueue creates a Workload per job (found by the
// job-uid label), admits what fits the ClusterQueue's quota and unsuspends
// that job, keeps the rest pending with a message naming the resource,
// admits the next once the first finishes, and preempts a lower-priority
// job for a higher one, suspending it again. No KubeRay runs: the test
// writes the RayJob statuses Kueue reads, as KubeRay would; no garbage
// collector runs either: the test deletes a deleted job's Workload.
func TestKueueSmoke(t *testing.T) {
	env, kq := testenv.StartKueueEnv(t)
	k := kueueCheck{env: env, kueue: kq}

	t.Run("QuotaFitsOne", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		q := testenv.KueueQueues(t, env.Client, ns, kueueJobCPU, false)

		begin := time.Now()
		first := kueueRayJob(ns, "first", q.LocalQueue, "")
		k.create(t, first)
		wl1 := k.workload(t, first, "admitted", admitted)
		k.suspended(t, first, false)
		t.Logf("first: created, admitted and unsuspended by Kueue in %s", time.Since(begin).Round(time.Millisecond))
		logCondition(t, "first", wl1, testenv.WorkloadQuotaReserved)
		logCondition(t, "first", wl1, testenv.WorkloadAdmitted)
		if got := wl1.GetLabels()[testenv.KueueJobUIDLabel]; got != string(first.UID) {
			t.Errorf("first's Workload label %s = %q, want the job's UID %s", testenv.KueueJobUIDLabel, got, first.UID)
		}
		if got, _, _ := unstructured.NestedString(wl1.Object, "spec", "queueName"); got != q.LocalQueue {
			t.Errorf("first's Workload spec.queueName = %q, want %q", got, q.LocalQueue)
		}

		begin = time.Now()
		second := kueueRayJob(ns, "second", q.LocalQueue, "")
		k.create(t, second)
		wl2 := k.workload(t, second, "pending with Kueue's message", pendingWithMessage)
		t.Logf("second: pending after %s", time.Since(begin).Round(time.Millisecond))
		c := logCondition(t, "second", wl2, testenv.WorkloadQuotaReserved)
		if !strings.Contains(c.Message, "cpu") {
			t.Errorf("second's pending message %q does not name the resource (cpu)", c.Message)
		}
		if testenv.ConditionIs(wl2, testenv.WorkloadAdmitted, metav1.ConditionTrue) {
			t.Errorf("second is admitted while the first holds the quota:\n%s", testenv.DescribeConditions(wl2))
		}
		got := &rayv1.RayJob{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(second), got); err != nil {
			t.Fatal(err)
		} else if !got.Spec.Suspend {
			t.Errorf("second was unsuspended while pending")
		}

		// The first finishes (KubeRay would report it so); Kueue marks
		// its Workload finished, releases the quota and admits the second.
		begin = time.Now()
		k.setStatus(t, first, rayv1.JobDeploymentStatusComplete, rayv1.JobStatusSucceeded)
		wl1 = k.workload(t, first, "finished", func(wl *unstructured.Unstructured) bool {
			return testenv.ConditionIs(wl, testenv.WorkloadFinished, metav1.ConditionTrue)
		})
		logCondition(t, "first", wl1, testenv.WorkloadFinished)
		wl2 = k.workload(t, second, "admitted after the first finished", admitted)
		k.suspended(t, second, false)
		t.Logf("second: admitted and unsuspended %s after the first finished", time.Since(begin).Round(time.Millisecond))
		logCondition(t, "second", wl2, testenv.WorkloadAdmitted)
	})

	t.Run("DeletedJob", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		q := testenv.KueueQueues(t, env.Client, ns, kueueJobCPU, false)
		first := kueueRayJob(ns, "first", q.LocalQueue, "")
		k.create(t, first)
		k.workload(t, first, "admitted", admitted)
		second := kueueRayJob(ns, "second", q.LocalQueue, "")
		k.create(t, second)
		k.workload(t, second, "pending", pendingWithMessage)

		// Deleting the job (propeller's abort) makes Kueue drop its
		// finalizer from the Workload; the Workload itself, still holding
		// its quota, is the garbage collector's to delete.
		begin := time.Now()
		if err := env.Client.Delete(context.Background(), first); err != nil {
			t.Fatal(err)
		}
		wl1 := k.workload(t, first, "finalizer dropped", func(wl *unstructured.Unstructured) bool {
			return len(wl.GetFinalizers()) == 0
		})
		if !admitted(wl1) {
			t.Errorf("first's Workload is no longer admitted once its job is deleted (expected it to keep its quota until garbage-collected):\n%s",
				testenv.DescribeConditions(wl1))
		}
		if err := testenv.DeleteWorkload(context.Background(), env.Client, ns, string(first.UID)); err != nil {
			t.Fatalf("deleting first's Workload (as the garbage collector): %v", err)
		}
		k.workload(t, second, "admitted after the first was deleted", admitted)
		k.suspended(t, second, false)
		t.Logf("second: admitted and unsuspended %s after the first was deleted (and its Workload garbage-collected)",
			time.Since(begin).Round(time.Millisecond))
	})

	t.Run("Preemption", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		q := testenv.KueueQueues(t, env.Client, ns, kueueJobCPU, true)

		low := kueueRayJob(ns, "low", q.LocalQueue, q.Low)
		k.create(t, low)
		wlLow := k.workload(t, low, "admitted", admitted)
		k.suspended(t, low, false)
		if got, _, _ := unstructured.NestedInt64(wlLow.Object, "spec", "priority"); got != 100 {
			t.Errorf("low's Workload spec.priority = %d, want 100 (from %s)", got, q.Low)
		}
		k.setStatus(t, low, rayv1.JobDeploymentStatusRunning, rayv1.JobStatusRunning)

		begin := time.Now()
		high := kueueRayJob(ns, "high", q.LocalQueue, q.High)
		k.create(t, high)
		wlLow = k.workload(t, low, "evicted by preemption", func(wl *unstructured.Unstructured) bool {
			c := testenv.FindCondition(wl, testenv.WorkloadEvicted)
			return c != nil && c.Status == metav1.ConditionTrue
		})
		k.suspended(t, low, true)
		t.Logf("low: evicted and suspended by Kueue %s after the high-priority job was created", time.Since(begin).Round(time.Millisecond))
		if c := logCondition(t, "low", wlLow, testenv.WorkloadEvicted); c.Reason != "Preempted" {
			t.Errorf("low's Evicted reason = %q, want Preempted", c.Reason)
		}
		logCondition(t, "low", wlLow, testenv.WorkloadPreempted)
		wlHigh := k.workload(t, high, "pending while low still runs", func(wl *unstructured.Unstructured) bool {
			return testenv.FindCondition(wl, testenv.WorkloadQuotaReserved) != nil
		})
		logCondition(t, "high (low still running)", wlHigh, testenv.WorkloadQuotaReserved)

		// KubeRay stops the cluster and reports the job suspended; only
		// then does Kueue release low's quota and admit high.
		k.setStatus(t, low, rayv1.JobDeploymentStatusSuspended, rayv1.JobStatusNew)
		k.workload(t, high, "admitted after low was preempted", admitted)
		k.suspended(t, high, false)
		t.Logf("high: admitted and unsuspended %s after it was created", time.Since(begin).Round(time.Millisecond))
		wlLow = k.workload(t, low, "pending again", func(wl *unstructured.Unstructured) bool {
			return testenv.ConditionIs(wl, testenv.WorkloadQuotaReserved, metav1.ConditionFalse)
		})
		logCondition(t, "low (requeued)", wlLow, testenv.WorkloadQuotaReserved)
		logCondition(t, "low (requeued)", wlLow, testenv.WorkloadEvicted)
		logCondition(t, "low (requeued)", wlLow, testenv.WorkloadRequeued)
		wlLow = k.workload(t, low, "pending with Kueue's message", pendingWithMessage)
		logCondition(t, "low (waiting for quota)", wlLow, testenv.WorkloadQuotaReserved)
	})
}

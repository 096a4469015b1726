package queueing_test

// Placement and the Queued phase through every k8s plugin's public
// interface (BuildResource / GetTaskPhase of the registered plugin), with
// an in-memory stand-in for propeller's informer cache.

import (
	"context"
	"strings"
	"testing"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	stderrors "github.com/flyteorg/flyte/flytestdlib/errors"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
)

func registered(t testing.TB, id string) k8s.Plugin { t.Helper(); return kittest.Registered(t, id) }

func setQueueing(t testing.TB, cfg queueing.Config) {
	t.Helper()
	prev := *queueing.GetConfig()
	if cfg.LiveView == (queueing.LiveViewConfig{}) {
		cfg.LiveView = prev.LiveView
	}
	if err := queueing.SetConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = queueing.SetConfig(&prev) })
}

func resources() *v1.ResourceRequirements {
	rl := v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")}
	return &v1.ResourceRequirements{Requests: rl, Limits: rl}
}

func task(t testing.TB, taskType string, custom *plugins.RayJob, other any) kittest.Task {
	t.Helper()
	var tmplCustom = kittest.ObjStruct(t, map[string]any{})
	switch c := other.(type) {
	case *plugins.SparkJob:
		tmplCustom = kittest.Struct(t, c)
	case *plugins.DaskJob:
		tmplCustom = kittest.Struct(t, c)
	case *kfplugins.DistributedPyTorchTrainingTask:
		tmplCustom = kittest.Struct(t, c)
	case *kfplugins.DistributedTensorflowTrainingTask:
		tmplCustom = kittest.Struct(t, c)
	case *kfplugins.DistributedMPITrainingTask:
		tmplCustom = kittest.Struct(t, c)
	}
	if custom != nil {
		tmplCustom = kittest.Struct(t, custom)
	}
	tmpl := kittest.ContainerTemplate(taskType, tmplCustom, "ghcr.io/flyteorg/task:1", "pyflyte-execute", "--inputs", "{{.input}}")
	if strings.HasPrefix(taskType, "pytorch") || taskType == "tensorflow" || taskType == "mpi" {
		tmpl.TaskTypeVersion = 1
	}
	return kittest.Task{Template: tmpl, Resources: resources(), Labels: map[string]string{"execution-id": "f8a1b2c3d4"}}
}

func rayJob(groups int) *plugins.RayJob {
	j := &plugins.RayJob{ShutdownAfterJobFinishes: true, RayCluster: &plugins.RayCluster{HeadGroupSpec: &plugins.HeadGroupSpec{}}}
	for i := 0; i < groups; i++ {
		j.RayCluster.WorkerGroupSpec = append(j.RayCluster.WorkerGroupSpec, &plugins.WorkerGroupSpec{GroupName: "g" + string(rune('a'+i)), Replicas: 1})
	}
	return j
}

// kueueTasks are the tasks of the kinds Kueue manages.
func kueueTasks(t testing.TB) map[string]kittest.Task {
	ts := tasks(t)
	delete(ts, "mpi")
	return ts
}

// unqueuedTasks are the tasks of the kinds Kueue cannot hold: DaskJob (no
// suspend) and the Training Operator's v1 MPIJob (no Kueue integration).
func unqueuedTasks(t testing.TB) map[string]kittest.Task {
	return map[string]kittest.Task{
		dask.PluginID: task(t, dask.TaskType, nil, &plugins.DaskJob{Workers: &plugins.DaskWorkerGroup{NumberOfWorkers: 1}}),
		"mpi":         tasks(t)["mpi"],
	}
}

// tasks are one task of every suspendable kind.
func tasks(t testing.TB) map[string]kittest.Task {
	return map[string]kittest.Task{
		"spark":      task(t, spark.TaskType, nil, &plugins.SparkJob{MainApplicationFile: "local:///app.py", SparkConf: map[string]string{"spark.executor.instances": "2"}}),
		"ray":        task(t, ray.TaskType, rayJob(1), nil),
		"pytorch":    task(t, "pytorch", nil, &kfplugins.DistributedPyTorchTrainingTask{WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}}}),
		"tensorflow": task(t, "tensorflow", nil, &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}}}),
		"mpi":        task(t, "mpi", nil, &kfplugins.DistributedMPITrainingTask{WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}}}),
	}
}

func build(t testing.TB, id string, tk kittest.Task) (client.Object, error) {
	t.Helper()
	return registered(t, id).BuildResource(context.Background(), kittest.New(tk))
}

// suspended reads spec.suspend of any queueable kind.
func suspended(t testing.TB, obj client.Object) bool {
	switch o := obj.(type) {
	case *sparkv1beta2.SparkApplication:
		return o.Spec.Suspend != nil && *o.Spec.Suspend
	case *rayv1.RayJob:
		return o.Spec.Suspend
	case *kubeflowv1.PyTorchJob:
		return o.Spec.RunPolicy.Suspend != nil && *o.Spec.RunPolicy.Suspend
	case *kubeflowv1.TFJob:
		return o.Spec.RunPolicy.Suspend != nil && *o.Spec.RunPolicy.Suspend
	case *kubeflowv1.MPIJob:
		return o.Spec.RunPolicy.Suspend != nil && *o.Spec.RunPolicy.Suspend
	case *daskAPI.DaskJob:
		return false
	}
	t.Fatalf("unexpected kind %T", obj)
	return false
}

func TestKueuePlacementOnEveryKind(t *testing.T) {
	setQueueing(t, queueing.Config{Provider: queueing.Kueue, Queue: "team", PriorityClass: "low",
		Overrides: []queueing.Override{{TaskType: "pytorch", Queue: "gpu", PriorityClass: "gpu-high"}}})
	want := map[string][2]string{
		"spark": {"team", "low"}, "ray": {"team", "low"}, "pytorch": {"gpu", "gpu-high"}, "tensorflow": {"team", "low"},
	}
	for id, tk := range kueueTasks(t) {
		t.Run(id, func(t *testing.T) {
			obj, err := build(t, id, tk)
			if err != nil {
				t.Fatal(err)
			}
			l := obj.GetLabels()
			if l[queueing.KueueQueueLabel] != want[id][0] || l[queueing.KueuePriorityClassLabel] != want[id][1] {
				t.Fatalf("labels %v, want queue %q priority %q", l, want[id][0], want[id][1])
			}
			if !suspended(t, obj) {
				t.Fatal("job not created suspended")
			}
		})
	}

	t.Run("spark memory sizes in units Kueue parses", func(t *testing.T) {
		obj, err := build(t, spark.PluginID, task(t, spark.TaskType, nil, &plugins.SparkJob{MainApplicationFile: "local:///app.py",
			SparkConf: map[string]string{"spark.driver.memory": "1000M", "spark.executor.memory": "2G"}}))
		if err != nil {
			t.Fatal(err)
		}
		app := obj.(*sparkv1beta2.SparkApplication)
		if *app.Spec.Driver.Memory != "1000m" || *app.Spec.Executor.Memory != "2g" {
			t.Fatalf("memory %q / %q, want lower-case units", *app.Spec.Driver.Memory, *app.Spec.Executor.Memory)
		}
	})

	t.Run("execution label wins", func(t *testing.T) {
		tk := tasks(t)["ray"]
		tk.Labels = map[string]string{queueing.KueueQueueLabel: "by-hand"}
		obj, err := build(t, "ray", tk)
		if err != nil {
			t.Fatal(err)
		}
		if got := obj.GetLabels()[queueing.KueueQueueLabel]; got != "by-hand" {
			t.Fatalf("queue %q, want the execution's", got)
		}
	})

	for id, tk := range unqueuedTasks(t) {
		t.Run(id+" runs unqueued", func(t *testing.T) {
			obj, err := build(t, id, tk)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := obj.GetLabels()[queueing.KueueQueueLabel]; ok || suspended(t, obj) {
				t.Fatalf("%T got Kueue's queue label or suspend, though Kueue does not manage it: %v", obj, obj.GetLabels())
			}
		})
	}

	t.Run("no provider: untouched", func(t *testing.T) {
		setQueueing(t, queueing.Config{Provider: queueing.None, Queue: "team"})
		for id, tk := range tasks(t) {
			obj, err := build(t, id, tk)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := obj.GetLabels()[queueing.KueueQueueLabel]; ok || suspended(t, obj) {
				t.Fatalf("%s: queued without a provider", id)
			}
		}
	})
}

func TestKueueRefusesWhatItCannotAdmit(t *testing.T) {
	setQueueing(t, queueing.Config{Provider: queueing.Kueue, Queue: "team"})
	autoscaling := rayJob(1)
	autoscaling.RayCluster.EnableAutoscaling = true
	noShutdown := rayJob(1)
	noShutdown.ShutdownAfterJobFinishes = false
	headGroup := rayJob(1)
	headGroup.RayCluster.WorkerGroupSpec[0].GroupName = "head"
	for _, tc := range []struct {
		name, id string
		task     kittest.Task
		field    string
	}{
		{"spark dynamic allocation", spark.PluginID, task(t, spark.TaskType, nil, &plugins.SparkJob{MainApplicationFile: "local:///app.py",
			SparkConf: map[string]string{"spark.dynamicAllocation.enabled": "True"}}), "spark.dynamicAllocation.enabled"},
		{"ray autoscaling", ray.PluginID, task(t, ray.TaskType, autoscaling, nil), "rayCluster.enableAutoscaling"},
		{"ray worker groups beyond the pod sets", ray.PluginID, task(t, ray.TaskType, rayJob(7), nil), "rayCluster.workerGroupSpec"},
		{"ray group named head", ray.PluginID, task(t, ray.TaskType, headGroup, nil), "groupName"},
		{"ray cluster outliving the job", ray.PluginID, task(t, ray.TaskType, noShutdown, nil), "shutdownAfterJobFinishes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.field == "shutdownAfterJobFinishes" {
				// Only the platform can turn it off; a task can only turn it on.
				prev := *ray.GetConfig()
				cfg := prev
				cfg.ShutdownAfterJobFinishes = false
				if err := ray.SetConfig(&cfg); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = ray.SetConfig(&prev) })
			}
			_, err := build(t, tc.id, tc.task)
			code, ok := stderrors.GetErrorCode(err)
			if !ok || code != errors.BadTaskSpecification || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error %v, want a BadTaskSpecification naming %s", err, tc.field)
			}
		})
	}
	t.Run("six worker groups fit", func(t *testing.T) {
		if _, err := build(t, ray.PluginID, task(t, ray.TaskType, rayJob(6), nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("autoscaling allowed by the platform", func(t *testing.T) {
		setQueueing(t, queueing.Config{Provider: queueing.Kueue, Queue: "team", Kueue: queueing.KueueConfig{AllowRayAutoscaling: true}})
		if _, err := build(t, ray.PluginID, task(t, ray.TaskType, autoscaling, nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("outside a queue nothing is refused", func(t *testing.T) {
		setQueueing(t, queueing.Config{Provider: queueing.None})
		if _, err := build(t, ray.PluginID, task(t, ray.TaskType, autoscaling, nil)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBatchSchedulerPlacement(t *testing.T) {
	for _, provider := range []queueing.Provider{queueing.Volcano, queueing.Yunikorn} {
		t.Run(provider, func(t *testing.T) {
			setQueueing(t, queueing.Config{Provider: provider, Queue: "research", PriorityClass: "batch"})
			ts := tasks(t)

			obj, err := build(t, spark.PluginID, ts["spark"])
			if err != nil {
				t.Fatal(err)
			}
			app := obj.(*sparkv1beta2.SparkApplication)
			if app.Spec.BatchScheduler == nil || *app.Spec.BatchScheduler != provider || app.Spec.BatchSchedulerOptions == nil ||
				*app.Spec.BatchSchedulerOptions.Queue != "research" || *app.Spec.BatchSchedulerOptions.PriorityClassName != "batch" {
				t.Fatalf("spark batch scheduler %v %+v", app.Spec.BatchScheduler, app.Spec.BatchSchedulerOptions)
			}
			if suspended(t, app) {
				t.Fatal("suspended without Kueue")
			}

			obj, err = build(t, ray.PluginID, ts["ray"])
			if err != nil {
				t.Fatal(err)
			}
			l := obj.GetLabels()
			queueKey := map[string]string{queueing.Volcano: queueing.VolcanoQueueLabel, queueing.Yunikorn: queueing.YunikornQueueLabel}[provider]
			if l["ray.io/scheduler-name"] != provider || l[queueKey] != "research" || l["ray.io/priority-class-name"] != "batch" {
				t.Fatalf("ray labels %v", l)
			}
			if provider == queueing.Yunikorn && l["yunikorn.apache.org/app-id"] == "" {
				t.Fatalf("ray labels %v lack YuniKorn's application ID", l)
			}

			obj, err = build(t, "pytorch", ts["pytorch"])
			if err != nil {
				t.Fatal(err)
			}
			sp := obj.(*kubeflowv1.PyTorchJob).Spec.RunPolicy.SchedulingPolicy
			if sp == nil || sp.Queue != "research" || sp.PriorityClass != "batch" || sp.MinAvailable == nil || *sp.MinAvailable != 3 {
				t.Fatalf("pytorch scheduling policy %+v (want queue, class and all 3 replicas as the gang)", sp)
			}
		})
	}
	t.Run("the task's own sparkConf scheduler wins", func(t *testing.T) {
		setQueueing(t, queueing.Config{Provider: queueing.Volcano, Queue: "research"})
		obj, err := build(t, spark.PluginID, task(t, spark.TaskType, nil, &plugins.SparkJob{MainApplicationFile: "local:///app.py",
			SparkConf: map[string]string{"spark.batchScheduler": "yunikorn", "spark.batchScheduler.queue": "root.mine"}}))
		if err != nil {
			t.Fatal(err)
		}
		app := obj.(*sparkv1beta2.SparkApplication)
		if *app.Spec.BatchScheduler != "yunikorn" || *app.Spec.BatchSchedulerOptions.Queue != "root.mine" {
			t.Fatalf("spark batch scheduler %v %+v", *app.Spec.BatchScheduler, app.Spec.BatchSchedulerOptions)
		}
	})
}

// TestQueuedWithKueuesReason: a held job is Queued with its Workload's
// reason, read from the (stand-in) cache only while it is held.
func TestQueuedWithKueuesReason(t *testing.T) {
	setQueueing(t, queueing.Config{Provider: queueing.Kueue, Queue: "team"})
	pendingMsg := "couldn't assign flavors to pod set head: insufficient unused quota for cpu in flavor default, 1 more needed"
	r := &listReader{}
	queueing.UseReader(r)
	t.Cleanup(func() { queueing.UseReader(nil) })

	for id, tk := range kueueTasks(t) {
		t.Run(id, func(t *testing.T) {
			p := registered(t, id)
			obj, err := build(t, id, tk)
			if err != nil {
				t.Fatal(err)
			}
			obj.SetNamespace("ns")
			obj.SetName("job-" + id)
			obj.SetUID(types.UID("uid-" + id))
			r.items = nil
			r.lists = 0
			phase := func() pluginsCore.PhaseInfo {
				t.Helper()
				info, err := p.GetTaskPhase(context.Background(), kittest.New(tk), obj)
				if err != nil {
					t.Fatal(err)
				}
				return info
			}

			if got := phase(); got.Phase() != pluginsCore.PhaseQueued || !strings.Contains(got.Reason(), "has not made a Workload") {
				t.Fatalf("before Kueue sees it: %v %q", got.Phase(), got.Reason())
			}
			w := workload("w-"+id, "uid-"+id, time.Now(), cond("QuotaReserved", "False", "Pending", pendingMsg))
			r.items = []*unstructured.Unstructured{w}
			if got := phase(); got.Phase() != pluginsCore.PhaseQueued || got.Reason() != `waiting in Kueue queue "team" (Pending): `+pendingMsg {
				t.Fatalf("pending: %v %q", got.Phase(), got.Reason())
			}
			if r.lists != 2 {
				t.Fatalf("%d cache lists for 2 rounds", r.lists)
			}

			// Admitted: Kueue unsuspends; no more Workload reads.
			setSuspend(obj, false)
			r.lists = 0
			for range 3 {
				if got := phase(); got.Phase() == pluginsCore.PhaseQueued && strings.Contains(got.Reason(), "Kueue") {
					t.Fatalf("admitted job still shows Kueue's queue: %q", got.Reason())
				}
			}
			if r.lists != 0 {
				t.Fatalf("%d Workload reads for an admitted job", r.lists)
			}

			// Evicted: Kueue suspends it again, whatever the operator's status.
			setSuspend(obj, true)
			setRunning(obj)
			w.Object["status"] = map[string]any{"conditions": []any{
				cond("Evicted", "True", "Preempted", "Preempted to accommodate a workload (UID: u) due to prioritization in the ClusterQueue"),
			}}
			if got := phase(); got.Phase() != pluginsCore.PhaseQueued || !strings.Contains(got.Reason(), "Kueue evicted the job (Preempted)") {
				t.Fatalf("evicted: %v %q", got.Phase(), got.Reason())
			}
		})
	}

	for id, tk := range unqueuedTasks(t) {
		t.Run(id+" says why it is not queued", func(t *testing.T) {
			obj, err := build(t, id, tk)
			if err != nil {
				t.Fatal(err)
			}
			info, err := registered(t, id).GetTaskPhase(context.Background(), kittest.New(tk), obj)
			if err != nil {
				t.Fatal(err)
			}
			if (info.Phase() != pluginsCore.PhaseQueued && info.Phase() != pluginsCore.PhaseInitializing) || !strings.Contains(info.Reason(), "not queued by Kueue") {
				t.Fatalf("%s: %v %q", id, info.Phase(), info.Reason())
			}
		})
	}
}

func setSuspend(obj client.Object, v bool) {
	switch o := obj.(type) {
	case *sparkv1beta2.SparkApplication:
		o.Spec.Suspend = &v
	case *rayv1.RayJob:
		o.Spec.Suspend = v
	case *kubeflowv1.PyTorchJob:
		o.Spec.RunPolicy.Suspend = &v
	case *kubeflowv1.TFJob:
		o.Spec.RunPolicy.Suspend = &v
	case *kubeflowv1.MPIJob:
		o.Spec.RunPolicy.Suspend = &v
	}
}

// setRunning writes the status a running job's operator writes.
func setRunning(obj client.Object) {
	running := kubeflowv1.JobStatus{Conditions: []kubeflowv1.JobCondition{{Type: kubeflowv1.JobRunning, Status: v1.ConditionTrue}}}
	switch o := obj.(type) {
	case *sparkv1beta2.SparkApplication:
		o.Status.AppState.State = sparkv1beta2.ApplicationStateRunning
	case *rayv1.RayJob:
		o.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusRunning
	case *kubeflowv1.PyTorchJob:
		o.Status = running
	case *kubeflowv1.TFJob:
		o.Status = running
	case *kubeflowv1.MPIJob:
		o.Status = running
	}
}

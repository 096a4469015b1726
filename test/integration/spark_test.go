package integration_test

import (
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	k8smgr "github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task/k8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/internal/taskctx"
)

// sparkJob is a PySpark task's custom config as flytekit sends it.
func sparkJob() *plugins.SparkJob {
	return &plugins.SparkJob{
		ApplicationType:     plugins.SparkApplication_PYTHON,
		MainApplicationFile: "local:///usr/local/lib/python3.11/site-packages/flytekit/bin/entrypoint.py",
		ExecutorPath:        "/usr/bin/python3",
		SparkConf: map[string]string{
			"spark.driver.memory":      "1000M",
			"spark.driver.cores":       "1",
			"spark.executor.memory":    "2000M",
			"spark.executor.cores":     "2",
			"spark.executor.instances": "3",
			"spark.flyte.s3.enabled":   "true",
		},
		HadoopConf: map[string]string{"fs.s3a.fast.upload": "true"},
	}
}

// sparkTask is a Spark task for job with the resources propeller resolved.
func sparkTask(t *testing.T, job *plugins.SparkJob) taskctx.Task {
	q := resource.MustParse
	return taskctx.Task{
		Template:       template("spark", customStruct(t, job), "ghcr.io/flyteorg/flytecookbook:k8s_spark-latest"),
		ServiceAccount: "spark-sa",
		MaxAttempts:    3,
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("2Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("2Gi")},
		},
	}
}

// TestSparkContainerTaskThroughPropeller runs a PySpark container task
// through propeller's manager from launch to success, this test standing
// in for spark-operator (it writes the application's status through the
// status subresource as the operator does; no operator or kubelet runs),
// then finalizes it.
func TestSparkContainerTaskThroughPropeller(t *testing.T) {
	h := newHarness(t)
	e := h.newExecution(t, "spark", sparkTask(t, sparkJob()))
	ns, name := e.key().Namespace, e.key().Name
	driverLog := "https://k8s.example.com/log/" + ns + "/" + name + "-driver"

	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	if s := e.managerState(); s.Phase != k8smgr.PluginPhaseStarted {
		t.Errorf("manager state after launch = %+v, want started", s)
	}
	stored := e.checkStored()
	e.checkPropellerMetadata(stored)

	app := &sparkv1beta2.SparkApplication{}
	e.typed(app)
	if got := app.Spec.SparkConf["spark.hadoop.fs.s3a.aws.credentials.provider"]; got == "" {
		t.Errorf("the s3 feature of the config did not reach the stored spark conf: %v", app.Spec.SparkConf)
	}

	// No status yet: the operator has not picked the application up.
	// Queued again with a new reason: propeller's rule bumps the version.
	check(t, "no status", e.handle(), round{phase: pluginsCore.PhaseQueued, version: 1, reason: "job queued"})

	now := metav1.NewTime(time.Now().Truncate(time.Second))
	e.writeStatus(app, func() {
		app.Status = sparkv1beta2.SparkApplicationStatus{
			SubmissionID:              "c1a5e4f0-5d7e-4c45-9b0e-2f3a4d5e6f70",
			LastSubmissionAttemptTime: now,
			SubmissionAttempts:        1,
			AppState:                  sparkv1beta2.ApplicationState{State: sparkv1beta2.ApplicationStateSubmitted},
			DriverInfo: sparkv1beta2.DriverInfo{
				PodName: name + "-driver", WebUIServiceName: name + "-ui-svc", WebUIPort: 4040, WebUIAddress: "10.96.0.12:4040",
			},
		}
	})
	check(t, "submitted", e.handle(), round{
		phase: pluginsCore.PhaseInitializing, reason: "job submitted",
		links: []string{driverLog, "https://grafana.example.com/explore?app=" + name},
	})

	e.writeStatus(app, func() {
		app.Status.AppState.State = sparkv1beta2.ApplicationStateRunning
		app.Status.SparkApplicationID = "spark-0f3c2b1a"
		app.Status.ExecutionAttempts = 1
		app.Status.DriverInfo.WebUIIngressAddress = "spark-ui.example.com/" + ns + "/" + name
		app.Status.ExecutorState = map[string]sparkv1beta2.ExecutorState{
			name + "-exec-1": sparkv1beta2.ExecutorStateRunning, name + "-exec-2": sparkv1beta2.ExecutorStatePending,
		}
	})
	running := e.handle()
	check(t, "running", running, round{
		phase: pluginsCore.PhaseRunning, reason: "3 pods: " + name + "-driver, " + name + "-exec-1, " + name + "-exec-2",
		links: []string{driverLog, "https://spark-ui.example.com/" + ns + "/" + name},
	})

	// The operator updates executor states while the app runs: still
	// Running with the same pod set, so the version holds.
	e.writeStatus(app, func() {
		app.Status.ExecutorState[name+"-exec-2"] = sparkv1beta2.ExecutorStateRunning
	})
	same := e.handle()
	check(t, "running, executor states changed", same, round{phase: pluginsCore.PhaseRunning})
	if same.Info().Version() != running.Info().Version() {
		t.Errorf("running, executor states changed: version %d, want %d (same pod set)", same.Info().Version(), running.Info().Version())
	}

	// An executor finishes: the pod set changes, and the version grows so
	// the console shows it.
	e.writeStatus(app, func() {
		app.Status.ExecutorState[name+"-exec-1"] = sparkv1beta2.ExecutorStateCompleted
	})
	fewer := e.handle()
	check(t, "running, an executor finished", fewer, round{phase: pluginsCore.PhaseRunning, reason: "2 pods: "})
	if fewer.Info().Version() <= same.Info().Version() {
		t.Errorf("running, an executor finished: version %d, want above %d", fewer.Info().Version(), same.Info().Version())
	}

	e.writeStatus(app, func() {
		app.Status.AppState.State = sparkv1beta2.ApplicationStateCompleted
		app.Status.TerminationTime = metav1.NewTime(now.Add(3 * time.Minute))
		app.Status.ExecutorState = map[string]sparkv1beta2.ExecutorState{
			name + "-exec-1": sparkv1beta2.ExecutorStateCompleted, name + "-exec-2": sparkv1beta2.ExecutorStateCompleted,
		}
	})
	check(t, "completed", e.handle(), round{
		phase: pluginsCore.PhaseSuccess,
		links: []string{driverLog, "https://spark-history.example.com/history/spark-0f3c2b1a"},
	})

	e.finalize()
	e.checkFinalizedKept()
}

// TestSparkPodTemplateTaskThroughPropeller creates a task whose driverPod
// and executorPod carry volumes, sidecars, init containers, resources
// (ephemeral storage, GPU), tolerations and labels, proves the API server
// stored all of it, walks it to Initializing (this test standing in for
// spark-operator), and aborts it.
func TestSparkPodTemplateTaskThroughPropeller(t *testing.T) {
	q := resource.MustParse
	driverPod := &v1.PodSpec{
		PriorityClassName: "driver-critical",
		ImagePullSecrets:  []v1.LocalObjectReference{{Name: "regcred"}},
		NodeSelector:      map[string]string{"disk": "ssd"},
		Tolerations:       []v1.Toleration{{Key: "driver-only", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}},
		InitContainers:    []v1.Container{{Name: "fetch-conf", Image: "busybox:1.36", Args: []string{"wget", "-O", "/conf/app.conf", "https://conf.example.com/app.conf"}}},
		Containers: []v1.Container{
			{
				Name: "primary",
				Env:  []v1.EnvVar{{Name: "DRIVER_ONLY", Value: "1"}},
				Resources: v1.ResourceRequirements{
					Requests: v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("3Gi"), v1.ResourceEphemeralStorage: q("20Gi")},
					Limits:   v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("3Gi"), v1.ResourceEphemeralStorage: q("20Gi")},
				},
				VolumeMounts: []v1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}, {Name: "conf", MountPath: "/conf"}},
			},
			{
				Name: "log-shipper", Image: "fluent/fluent-bit:3.2",
				Resources:    v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: q("100m"), v1.ResourceMemory: q("64Mi")}},
				VolumeMounts: []v1.VolumeMount{{Name: "scratch", MountPath: "/scratch", ReadOnly: true}},
			},
		},
		Volumes: []v1.Volume{
			{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{SizeLimit: ptr(q("20Gi"))}}},
			{Name: "conf", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "spark-conf"}}}},
		},
	}
	executorPod := &v1.PodSpec{
		PriorityClassName: "batch-low",
		Tolerations:       []v1.Toleration{{Key: "gpu-pool", Operator: v1.TolerationOpEqual, Value: "a100", Effect: v1.TaintEffectNoSchedule}},
		Containers: []v1.Container{{
			Name:  "primary",
			Image: "ghcr.io/org/spark-executor-gpu:v2",
			Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: q("3"), v1.ResourceMemory: q("8Gi"), v1.ResourceEphemeralStorage: q("50Gi")},
				Limits:   v1.ResourceList{v1.ResourceMemory: q("8Gi"), v1.ResourceEphemeralStorage: q("50Gi"), "nvidia.com/gpu": q("1")},
			},
			VolumeMounts: []v1.VolumeMount{{Name: "datasets", MountPath: "/data", ReadOnly: true}},
		}},
		Volumes: []v1.Volume{{Name: "datasets", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "datasets", ReadOnly: true}}}},
	}
	job := sparkJob()
	job.SparkConf = map[string]string{"spark.executor.instances": "2"}
	job.DriverPod = &core.K8SPod{
		PrimaryContainerName: "primary",
		Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"role": "driver"}, Annotations: map[string]string{"example.com/owner": "ml-team"}},
		PodSpec:              objStruct(t, driverPod),
	}
	job.ExecutorPod = &core.K8SPod{
		PrimaryContainerName: "primary",
		Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"role": "executor"}},
		PodSpec:              objStruct(t, executorPod),
	}

	h := newHarness(t)
	e := h.newExecution(t, "spark", sparkTask(t, job))
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	e.checkPropellerMetadata(e.checkStored())

	// The shape reached the server (checkStored proved it is stored as
	// built; these prove the plugin built it).
	app := &sparkv1beta2.SparkApplication{}
	e.typed(app)
	d, x := app.Spec.Driver, app.Spec.Executor
	if len(d.Sidecars) != 1 || d.Sidecars[0].Name != "log-shipper" || len(d.InitContainers) != 1 {
		t.Errorf("driver sidecars %v, init containers %v: want log-shipper and fetch-conf", names(d.Sidecars), names(d.InitContainers))
	}
	if x.GPU == nil || x.GPU.Name != "nvidia.com/gpu" || x.GPU.Quantity != 1 {
		t.Errorf("executor GPU = %+v, want nvidia.com/gpu x1", x.GPU)
	}
	if d.Template == nil || x.Template == nil {
		t.Fatalf("role pod templates missing: driver %v executor %v", d.Template, x.Template)
	}
	if got := x.Template.Spec.Containers[0].Resources.Limits[v1.ResourceEphemeralStorage]; got.Cmp(q("50Gi")) != 0 {
		t.Errorf("executor ephemeral-storage limit = %v, want 50Gi", got.String())
	}
	var vols []string
	for _, v := range app.Spec.Volumes {
		vols = append(vols, v.Name)
	}
	if len(vols) != 3 {
		t.Errorf("volumes = %v, want scratch, conf and datasets", vols)
	}
	if !hasToleration(d.Tolerations, "driver-only") || !hasToleration(x.Tolerations, "gpu-pool") {
		t.Errorf("tolerations: driver %v, executor %v", d.Tolerations, x.Tolerations)
	}
	if d.Labels["role"] != "driver" || x.Labels["role"] != "executor" {
		t.Errorf("role labels: driver %v, executor %v", d.Labels, x.Labels)
	}

	e.writeStatus(app, func() {
		app.Status.AppState.State = sparkv1beta2.ApplicationStateSubmitted
		app.Status.SubmissionAttempts = 1
		app.Status.DriverInfo.PodName = e.key().Name + "-driver"
	})
	check(t, "submitted", e.handle(), round{phase: pluginsCore.PhaseInitializing, reason: "job submitted"})

	e.abortAndFinalize()
}

// TestSparkInterruptibleTaskThroughPropeller runs an interruptible task:
// executors go to spot nodes, the driver never does. This test, standing
// in for spark-operator, fails the application; propeller's manager
// reports a retryable failure, and Finalize with
// delete-resource-on-finalize deletes the application.
func TestSparkInterruptibleTaskThroughPropeller(t *testing.T) {
	withK8sConfig(t, func(c *config.K8sPluginConfig) { c.DeleteResourceOnFinalize = true })
	task := sparkTask(t, sparkJob())
	task.Interruptible = true

	h := newHarness(t)
	e := h.newExecution(t, "spark", task)
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	e.checkPropellerMetadata(e.checkStored())

	app := &sparkv1beta2.SparkApplication{}
	e.typed(app)
	if !hasToleration(app.Spec.Executor.Tolerations, "spot") || hasToleration(app.Spec.Driver.Tolerations, "spot") {
		t.Errorf("spot toleration: executor %v, driver %v; want executors only", app.Spec.Executor.Tolerations, app.Spec.Driver.Tolerations)
	}
	if got := lifecycle(app.Spec.Executor.Affinity); got != "spot" {
		t.Errorf("executor node-lifecycle requirement = %q, want spot", got)
	}
	if got := lifecycle(app.Spec.Driver.Affinity); got != "on-demand" {
		t.Errorf("driver node-lifecycle requirement = %q, want on-demand", got)
	}

	e.writeStatus(app, func() {
		app.Status.AppState.State = sparkv1beta2.ApplicationStateRunning
		app.Status.DriverInfo.PodName = e.key().Name + "-driver"
		app.Status.SparkApplicationID = "spark-9a8b7c6d"
	})
	check(t, "running", e.handle(), round{phase: pluginsCore.PhaseRunning})

	e.writeStatus(app, func() {
		app.Status.AppState = sparkv1beta2.ApplicationState{
			State:        sparkv1beta2.ApplicationStateFailed,
			ErrorMessage: "driver container failed with ExitCode: 137, Reason: OOMKilled",
		}
		app.Status.TerminationTime = metav1.Now()
	})
	check(t, "failed", e.handle(), round{
		phase: pluginsCore.PhaseRetryableFailure, code: "DownstreamSystemError", reason: "OOMKilled",
		links: []string{"https://spark-history.example.com/history/spark-9a8b7c6d"},
	})

	e.finalize()
	if u := e.server(); u != nil {
		t.Errorf("%s still exists after Finalize with delete-resource-on-finalize: deletion %v, finalizers %v",
			e.key(), u.GetDeletionTimestamp(), u.GetFinalizers())
	}
}

func names(cs []v1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func hasToleration(ts []v1.Toleration, key string) bool {
	for _, t := range ts {
		if t.Key == key {
			return true
		}
	}
	return false
}

// lifecycle is the value of the node-lifecycle requirement in a's required
// node affinity.
func lifecycle(a *v1.Affinity) string {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range term.MatchExpressions {
			if r.Key == "node-lifecycle" && len(r.Values) == 1 {
				return r.Values[0]
			}
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

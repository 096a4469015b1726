package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	commonpb "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	// The Kubeflow plugins under test, registered as propeller registers them.
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"

	"github.com/flytedist/flyteplugins/internal/taskctx"
	"github.com/flytedist/flyteplugins/internal/testenv"
)

// kfLogTemplate is the plugins.logs Kubernetes link template these tests
// configure: it names the namespace, the pod and the container, so a link
// can be checked against the pod the operator really created.
const kfLogTemplate = "https://k8s.example.com/log/{{ .namespace }}/{{ .podName }}/{{ .containerName }}"

// Images of the Kubeflow tasks: the task's, and the one a replica spec
// sets for its own replicas.
const (
	kfTaskImage   = "ghcr.io/flyteorg/training-task:1.0"
	kfWorkerImage = "ghcr.io/flyteorg/training-task:1.0-gpu"
)

// TestKubeflowPluginsReconciledByTrainingOperator runs the real Kubeflow
// Training Operator (v1.8.1, with its validating webhooks; see
// training_operator_test.go) against one control plane, and our pytorch,
// tensorflow and mpi plugins through propeller's k8s plugin manager: the
// operator must accept the job each plugin builds from a v1 task, create
// its pods (and services, hostfile) from our replica templates, and report
// the conditions our plugins map to phases, with one link per replica pod
// at the pods' real names.
//
// No kubelet runs here, so this test acts as one: it moves the pods the
// operator created to Running, then to Succeeded or Failed
// (operatorCheck.kubelet); the operator derives the job's conditions from
// those pod phases.
func TestKubeflowPluginsReconciledByTrainingOperator(t *testing.T) {
	env, oplog := startTrainingOperatorEnv(t)
	o := &operatorCheck{env: env, logs: oplog}
	h := newHarnessOn(t, env)

	prevLogs := logs.GetLogConfig()
	if err := logs.SetLogConfig(&logs.LogConfig{IsKubernetesEnabled: true, KubernetesTemplateURI: kfLogTemplate}); err != nil {
		t.Fatal(err)
	}
	// Runs after every (parallel) subtest has finished.
	t.Cleanup(func() { _ = logs.SetLogConfig(prevLogs) })

	t.Run("PyTorch", func(t *testing.T) {
		t.Parallel()
		e := kfExecution(t, h, "pytorch", kfTask(t, "pytorch", &kfplugins.DistributedPyTorchTrainingTask{
			MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 1}},
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: kfWorkerSpec()},
		}), nil)
		ns, job := e.key().Namespace, e.key().Name
		check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
		kfCheckJob(t, e)

		names := []string{job + "-master-0", job + "-worker-0", job + "-worker-1"}
		pods := o.pods(t, ns, names...)
		o.services(t, ns, names...)
		for i, name := range names {
			kfCheckPod(t, e, pods[name], "pytorch", i > 0)
			checkEnv(t, name, containerEnv(pods[name], "pytorch"), map[string]string{
				"MASTER_ADDR": names[0], "PET_MASTER_ADDR": names[0], "MASTER_PORT": "23456",
				"WORLD_SIZE": "3", "RANK": strconv.Itoa(i), "PET_NNODES": "3",
			})
		}

		o.kubelet(t, ns, names, corev1.PodRunning)
		tr := kfUntil(t, e, oplog, pluginsCore.PhaseRunning, "")
		kfCheckLinks(t, tr, ns, "pytorch", map[string]string{
			"master-0": names[0], "worker-0": names[1], "worker-1": names[2],
		})
		o.kubelet(t, ns, names, corev1.PodSucceeded)
		tr = kfUntil(t, e, oplog, pluginsCore.PhaseSuccess, "")
		kfCheckLinks(t, tr, ns, "pytorch", map[string]string{
			"master-0": names[0], "worker-0": names[1], "worker-1": names[2],
		})
		kfFinalize(t, e)
		e.checkFinalizedKept()
	})

	t.Run("PyTorchElastic", func(t *testing.T) {
		t.Parallel()
		e := kfExecution(t, h, "pytorch", kfTask(t, "pytorch", &kfplugins.DistributedPyTorchTrainingTask{
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: kfWorkerSpec()},
			ElasticConfig: &kfplugins.ElasticConfig{
				RdzvBackend: "c10d", MinReplicas: 1, MaxReplicas: 2, NprocPerNode: 2, MaxRestarts: 3,
			},
		}), nil)
		ns, job := e.key().Namespace, e.key().Name
		check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
		kfCheckJob(t, e)

		names := []string{job + "-worker-0", job + "-worker-1"}
		pods := o.pods(t, ns, names...)
		o.services(t, ns, names...)
		for _, name := range names {
			kfCheckPod(t, e, pods[name], "pytorch", true)
			env := containerEnv(pods[name], "pytorch")
			checkEnv(t, name, env, map[string]string{
				"PET_RDZV_ENDPOINT": names[0] + ":23456", "PET_RDZV_BACKEND": "c10d",
				"PET_NNODES": "1:2", "PET_MAX_RESTARTS": "3", "PET_NPROC_PER_NODE": "2",
			})
			if v, ok := env["MASTER_ADDR"]; ok {
				t.Errorf("%s: MASTER_ADDR=%q for an elastic job (no master)", name, v)
			}
		}

		o.kubelet(t, ns, names, corev1.PodRunning)
		tr := kfUntil(t, e, oplog, pluginsCore.PhaseRunning, "")
		kfCheckLinks(t, tr, ns, "pytorch", map[string]string{"worker-0": names[0], "worker-1": names[1]})
		// Elastic: a worker finishing ends the job.
		o.kubelet(t, ns, names[:1], corev1.PodSucceeded)
		kfUntil(t, e, oplog, pluginsCore.PhaseSuccess, "")
		kfFinalize(t, e)
		e.checkFinalizedKept()
	})

	t.Run("TensorFlow", func(t *testing.T) {
		t.Parallel()
		one := &commonpb.CommonReplicaSpec{Replicas: 1}
		e := kfExecution(t, h, "tensorflow", kfTask(t, "tensorflow", &kfplugins.DistributedTensorflowTrainingTask{
			ChiefReplicas:     &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: one},
			PsReplicas:        &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 2}},
			WorkerReplicas:    &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: kfWorkerSpec()},
			EvaluatorReplicas: &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: one},
		}), nil)
		ns, job := e.key().Namespace, e.key().Name
		check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
		kfCheckJob(t, e)

		pod := func(label string) string { return job + "-" + label }
		labels := []string{"chief-0", "ps-0", "ps-1", "worker-0", "worker-1", "evaluator-0"}
		var names []string
		for _, l := range labels {
			names = append(names, pod(l))
		}
		pods := o.pods(t, ns, names...)
		o.services(t, ns, names...)
		svc := func(l string) string { return pod(l) + "." + ns + ".svc:2222" }
		wantCluster := map[string][]string{
			"chief": {svc("chief-0")}, "ps": {svc("ps-0"), svc("ps-1")},
			"worker": {svc("worker-0"), svc("worker-1")}, "evaluator": {svc("evaluator-0")},
		}
		for i, l := range labels {
			name := names[i]
			rtype, idx, _ := strings.Cut(l, "-")
			kfCheckPod(t, e, pods[name], "tensorflow", rtype == "worker")
			raw := containerEnv(pods[name], "tensorflow")["TF_CONFIG"]
			var cfg struct {
				Cluster map[string][]string `json:"cluster"`
				Task    struct {
					Type  string `json:"type"`
					Index int    `json:"index"`
				} `json:"task"`
			}
			if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Errorf("%s: TF_CONFIG %q: %v", name, raw, err)
				continue
			}
			if cfg.Task.Type != rtype || strconv.Itoa(cfg.Task.Index) != idx || !mapsEqual(cfg.Cluster, wantCluster) {
				t.Errorf("%s: TF_CONFIG %s; want task %s/%s and cluster %v", name, raw, rtype, idx, wantCluster)
			}
		}

		o.kubelet(t, ns, names, corev1.PodRunning)
		tr := kfUntil(t, e, oplog, pluginsCore.PhaseRunning, "")
		want := map[string]string{}
		for i, l := range labels {
			want[l] = names[i]
		}
		kfCheckLinks(t, tr, ns, "tensorflow", want)
		// With a chief, the chief finishing ends the job.
		o.kubelet(t, ns, names[:1], corev1.PodSucceeded)
		kfUntil(t, e, oplog, pluginsCore.PhaseSuccess, "")
		kfFinalize(t, e)
		e.checkFinalizedKept()
	})

	t.Run("MPI", func(t *testing.T) {
		t.Parallel()
		launcherCmd := []string{"mpirun", "--allow-run-as-root", "-np", "4", "python", "/opt/train.py"}
		workerCmd := []string{"/usr/sbin/sshd", "-De"}
		e := kfExecution(t, h, "mpi", kfTask(t, "mpi", &kfplugins.DistributedMPITrainingTask{
			LauncherReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 1}, Command: launcherCmd},
			WorkerReplicas:   &kfplugins.DistributedMPITrainingReplicaSpec{Common: kfWorkerSpec(), Command: workerCmd},
			Slots:            2,
		}), nil)
		ns, job := e.key().Namespace, e.key().Name
		check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
		kfCheckJob(t, e)

		names := []string{job + "-launcher", job + "-worker-0", job + "-worker-1"}
		pods := o.pods(t, ns, names...)
		for i, name := range names {
			kfCheckPod(t, e, pods[name], "mpi", i > 0)
		}
		// The launcher's command goes into its args, as upstream, and
		// reaches its pod. The workers' goes into their command: v1.8's MPI
		// controller gives a worker whose container has no command
		// `sleep 365d`, so a worker command sent as args (upstream's way)
		// never runs; sent as the command, the operator keeps it.
		if c := kfContainer(pods[names[0]], "mpi"); c != nil && !slices.Equal(c.Args, launcherCmd) {
			t.Errorf("%s: args %q, want the launcher's command %q", names[0], c.Args, launcherCmd)
		}
		for _, w := range names[1:] {
			if c := kfContainer(pods[w], "mpi"); c == nil || !slices.Equal(c.Command, workerCmd) || len(c.Args) != 0 {
				t.Errorf("%s: runs %+v, want the worker command %q and no args", w, c, workerCmd)
			}
			if pods[w].Spec.Containers[0].Name != "mpi" {
				t.Errorf("%s: first container %q, want mpi (the operator takes containers[0])", w, pods[w].Spec.Containers[0].Name)
			}
		}
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: job + "-config"}, cm); err != nil {
			t.Fatalf("the operator's hostfile ConfigMap: %v", err)
		}
		if want := fmt.Sprintf("%s slots=2\n%s slots=2\n", names[1], names[2]); cm.Data["hostfile"] != want {
			t.Errorf("hostfile %q, want %q (the task's slots)", cm.Data["hostfile"], want)
		}

		o.kubelet(t, ns, names, corev1.PodRunning)
		tr := kfUntil(t, e, oplog, pluginsCore.PhaseRunning, "")
		kfCheckLinks(t, tr, ns, "mpi", map[string]string{"launcher": names[0], "worker-0": names[1], "worker-1": names[2]})
		// The launcher (mpirun) finishing ends the job.
		o.kubelet(t, ns, names[:1], corev1.PodSucceeded)
		kfUntil(t, e, oplog, pluginsCore.PhaseSuccess, "")
		kfFinalize(t, e)
		e.checkFinalizedKept()
	})

	t.Run("PyTorchWorkerFailed", func(t *testing.T) {
		t.Parallel()
		// The proto's default restart policy is Never: a failed pod fails
		// the job.
		e := kfExecution(t, h, "pytorch", kfTask(t, "pytorch", &kfplugins.DistributedPyTorchTrainingTask{
			MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 1}},
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 2}},
		}), nil)
		ns, job := e.key().Namespace, e.key().Name
		check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
		names := []string{job + "-master-0", job + "-worker-0", job + "-worker-1"}
		pods := o.pods(t, ns, names...)
		for _, name := range names {
			if p := pods[name].Spec.RestartPolicy; p != corev1.RestartPolicyNever {
				t.Errorf("%s: restart policy %q, want Never (the proto default)", name, p)
			}
		}
		o.kubelet(t, ns, names, corev1.PodRunning)
		kfUntil(t, e, oplog, pluginsCore.PhaseRunning, "")

		// No error file: the pod died without the task reporting anything.
		o.kubelet(t, ns, names[2:], corev1.PodFailed)
		tr := kfUntil(t, e, oplog, pluginsCore.PhaseRetryableFailure, "")
		info := tr.Info()
		if err := info.Err(); err == nil || err.GetKind() != core.ExecutionError_SYSTEM ||
			!strings.Contains(err.GetMessage(), "PyTorchJob failed") || !strings.Contains(err.GetMessage(), "1 Worker replica(s) failed") {
			t.Errorf("failure %+v; want a system-retryable one with the operator's message (\"1 Worker replica(s) failed\")", err)
		} else {
			t.Logf("failure: kind %s, code %s, message %q", err.GetKind(), err.GetCode(), err.GetMessage())
		}
		kfCheckLinks(t, tr, ns, "pytorch", map[string]string{
			"master-0": names[0], "worker-0": names[1], "worker-1": names[2],
		})

		// Abort and finalize: the manager deletes the job; propeller's
		// finalizer holds it until Finalize, and nothing of the operator's
		// keeps it.
		kfAbortAndFinalize(t, e, oplog)
	})

	t.Run("PyTorchSuspended", func(t *testing.T) {
		t.Parallel()
		// Our v1 task protos have no suspend field; in a cluster Kueue's
		// mutating webhook suspends a job on create. The wrapper stands in
		// for that webhook: it sets runPolicy.suspend on the job our plugin
		// built, before the manager creates it.
		e := kfExecution(t, h, "pytorch", kfTask(t, "pytorch", &kfplugins.DistributedPyTorchTrainingTask{
			MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 1}},
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &commonpb.CommonReplicaSpec{Replicas: 1}},
		}), func(p k8s.Plugin) k8s.Plugin { return suspending{p} })
		ns := e.key().Namespace
		check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
		// The operator reports the job suspended (no start time, no pods);
		// our phase stays Queued, reason Suspended.
		pj := &kubeflowv1.PyTorchJob{}
		pj.Namespace, pj.Name = ns, e.key().Name
		o.condition(t, pj, kubeflowv1.JobSuspended, "PyTorchJobSuspended")
		if pj.Status.StartTime != nil {
			t.Errorf("suspended, but startTime %v", pj.Status.StartTime)
		}
		tr := kfUntil(t, e, oplog, pluginsCore.PhaseQueued, "Suspended")
		if pods := o.podNames(t, ns); len(pods) != 0 {
			t.Errorf("a suspended job has pods %v", pods)
		}
		t.Logf("suspended: phase %v, reason %q, conditions %s", tr.Info().Phase(), reasonOf(tr.Info()), conditionsString(&pj.Status))

		// Admitted (Kueue resumes the job): the operator creates the pods,
		// and the task runs once they do.
		if err := env.Client.Patch(context.Background(), pj, client.RawPatch(types.MergePatchType,
			[]byte(`{"spec":{"runPolicy":{"suspend":false}}}`))); err != nil {
			t.Fatal(err)
		}
		names := []string{e.key().Name + "-master-0", e.key().Name + "-worker-0"}
		o.pods(t, ns, names...)
		o.kubelet(t, ns, names, corev1.PodRunning)
		tr = kfUntil(t, e, oplog, pluginsCore.PhaseRunning, "")
		kfCheckLinks(t, tr, ns, "pytorch", map[string]string{"master-0": names[0], "worker-0": names[1]})

		// Aborted while running: the manager deletes the job; propeller's
		// finalizer holds it until Finalize.
		kfAbortAndFinalize(t, e, oplog)
	})
}

// kfSetup serialises building propeller's plugin managers: the parallel
// subtests share one harness, and propeller's NewPluginManager and
// NewResourceMonitorIndex touch package state without a lock (the race
// detector flags it); propeller builds its managers one at a time too.
var kfSetup sync.Mutex

// kfExecution is h.newExecutionWith (wrap may be nil), one at a time.
func kfExecution(t *testing.T, h *harness, id string, task taskctx.Task, wrap func(k8s.Plugin) k8s.Plugin) *execution {
	t.Helper()
	kfSetup.Lock()
	defer kfSetup.Unlock()
	return h.newExecutionWith(t, id, task, wrap)
}

// suspending is the registered plugin with runPolicy.suspend set on the
// PyTorchJob it builds (what Kueue's webhook does to a queued job).
type suspending struct{ k8s.Plugin }

func (s suspending) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	o, err := s.Plugin.BuildResource(ctx, tCtx)
	if j, ok := o.(*kubeflowv1.PyTorchJob); ok && err == nil {
		j.Spec.RunPolicy.Suspend = ptr(true)
	}
	return o, err
}

// kfTask is a v1 Kubeflow task (task_type_version 1, custom proto from
// flyteidl.plugins.kubeflow) of taskType, with the resources propeller
// resolved for it.
func kfTask(t *testing.T, taskType string, custom proto.Message) taskctx.Task {
	q := resource.MustParse
	tmpl := template(taskType, customStruct(t, custom), kfTaskImage)
	tmpl.TaskTypeVersion = 1
	return taskctx.Task{
		Template:       tmpl,
		ServiceAccount: "training-sa",
		MaxAttempts:    3,
		Resources: &corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("2Gi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("2Gi")},
		},
	}
}

// kfWorkerSpec is a group of two workers with an image and resources of
// its own.
func kfWorkerSpec() *commonpb.CommonReplicaSpec {
	return &commonpb.CommonReplicaSpec{
		Replicas: 2,
		Image:    kfWorkerImage,
		Resources: &core.Resources{
			Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "3"}, {Name: core.Resources_MEMORY, Value: "6Gi"}},
			Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "3"}, {Name: core.Resources_MEMORY, Value: "6Gi"}},
		},
	}
}

// kfCheckJob checks the job the manager created: stored as built, with the
// execution's labels and annotations and propeller's owner and finalizer;
// the labels are the plugin's own too (the manager adds them anyway), so
// that what reads the job before propeller's metadata (Kueue) sees them.
func kfCheckJob(t *testing.T, e *execution) {
	t.Helper()
	e.checkPropellerMetadata(e.checkStored())
	built := e.rec.last().GetLabels()
	for k, v := range e.task.Labels {
		if built[k] != v {
			t.Errorf("the job our plugin built has label %s=%q, want %q (from the execution)", k, built[k], v)
		}
	}
}

// kfContainer is pod's container name, or nil.
func kfContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// kfCheckPod checks a pod the operator created from our replica template:
// the primary container by the operator's name, the worker image and
// resources on workers (the task's elsewhere), the execution's labels, the
// platform's default env.
func kfCheckPod(t *testing.T, e *execution, pod *corev1.Pod, container string, worker bool) {
	t.Helper()
	c := kfContainer(pod, container)
	if c == nil {
		t.Errorf("%s: no container %q in %v", pod.Name, container, containerNames(pod.Spec.Containers))
		return
	}
	image, cpu, mem := kfTaskImage, "1", "2Gi"
	if worker {
		image, cpu, mem = kfWorkerImage, "3", "6Gi"
	}
	if c.Image != image {
		t.Errorf("%s: image %q, want %q", pod.Name, c.Image, image)
	}
	for _, rl := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		if rl.Cpu().String() != cpu || rl.Memory().String() != mem {
			t.Errorf("%s: resources %v, want cpu %s and memory %s", pod.Name, c.Resources, cpu, mem)
			break
		}
	}
	for k, v := range e.task.Labels {
		if pod.Labels[k] != v {
			t.Errorf("%s: label %s=%q, want %q (from the execution)", pod.Name, k, pod.Labels[k], v)
		}
	}
	if container != "mpi" && (len(c.Args) == 0 || c.Args[0] != "pyflyte-execute") {
		t.Errorf("%s: args %q, want the task's pyflyte-execute", pod.Name, c.Args)
	}
	if containerEnv(pod, container)["AWS_REGION"] != "us-east-1" {
		t.Errorf("%s: no platform default env AWS_REGION", pod.Name)
	}
	if pod.Spec.ServiceAccountName != "training-sa" && !strings.HasSuffix(pod.Name, "-launcher") {
		t.Errorf("%s: service account %q, want the task's training-sa", pod.Name, pod.Spec.ServiceAccountName)
	}
}

// kfCheckLinks checks that the transition has exactly one Kubernetes log
// link per replica pod, named after the replica ("Kubernetes Logs
// (worker-1)" ends in "(worker-1)"), at the pod the operator created
// (want: replica label → pod name).
func kfCheckLinks(t *testing.T, tr pluginsCore.Transition, ns, container string, want map[string]string) {
	t.Helper()
	var got []string
	byName := map[string]string{}
	if tr.Info().Info() != nil {
		for _, l := range tr.Info().Info().Logs {
			got = append(got, l.GetName()+" "+l.GetUri())
			byName[l.GetName()] = l.GetUri()
		}
	}
	if len(got) != len(want) {
		t.Errorf("links %q, want one per replica pod %v", got, want)
	}
	for label, pod := range want {
		found := false
		for name, uri := range byName {
			if strings.HasSuffix(name, "("+label+")") {
				found = true
				if w := "https://k8s.example.com/log/" + ns + "/" + pod + "/" + container; uri != w {
					t.Errorf("link %q: %s, want %s (the operator's pod)", name, uri, w)
				}
			}
		}
		if !found {
			t.Errorf("no link named (%s) in %q", label, got)
		}
	}
}

// kfUntil runs manager rounds until the task reaches phase with a reason
// containing reason (a minute at most), and returns that round.
func kfUntil(t *testing.T, e *execution, oplog *testenv.TailBuffer, phase pluginsCore.Phase, reason string) pluginsCore.Transition {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		tr := e.handle()
		info := tr.Info()
		if info.Phase() == phase && strings.Contains(reasonOf(info), reason) {
			return tr
		}
		if (info.Phase().IsTerminal() && info.Phase() != phase) || time.Now().After(deadline) {
			u := e.server()
			var status any
			if u != nil {
				status = u.Object["status"]
			}
			t.Fatalf("phase %v (reason %q, err %v), want %v (reason %q); job status %v\n--- the Training Operator's log ---\n%s",
				info.Phase(), reasonOf(info), info.Err(), phase, reason, status, oplog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kfFinalize runs Finalize until it succeeds: the operator writes the job's
// status too, so the manager's update removing its finalizer can meet a
// stale copy and fail; propeller retries it the next round.
func kfFinalize(t *testing.T, e *execution) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := e.mgr.Finalize(ctx, e.tCtx())
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Finalize kept failing: %+v", err)
		}
		t.Logf("Finalize: %v (retrying, as propeller would)", err)
		time.Sleep(200 * time.Millisecond)
	}
}

// kfAbortAndFinalize aborts and finalizes as propeller does, and waits for
// the job to be gone.
func kfAbortAndFinalize(t *testing.T, e *execution, oplog *testenv.TailBuffer) {
	t.Helper()
	e.abort()
	if u := e.server(); u != nil && u.GetDeletionTimestamp() == nil {
		t.Errorf("%s is not marked for deletion after Abort", e.key())
	}
	kfFinalize(t, e)
	deadline := time.Now().Add(30 * time.Second)
	for u := e.server(); u != nil; u = e.server() {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there after Abort and Finalize (finalizers %v)\n--- the Training Operator's log ---\n%s",
				e.key(), u.GetFinalizers(), oplog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

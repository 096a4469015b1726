// Package bench_test measures upstream flyteplugins v1.16.8's Kubeflow
// plugins (pytorch, tensorflow, mpi) on the inputs of our plugins'
// benchmarks (go/tasks/plugins/k8s/kfoperators/*/bench_test.go), so the two
// can be compared. It lives in this module because the main module never
// imports upstream's plugin packages; only upstream's plugins are linked
// here (both register the `plugins.kf-operator` section, so the two cannot
// share a binary). Run:
//
//	go test -run '^$' -bench . -benchmem ./bench/
package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/internal/taskctx"
)

func init() {
	// Log at flytestdlib's default level, as our plugins' benchmarks do.
	_ = logger.SetConfig(logger.GetConfig())
}

// upstream is upstream's plugin registered under id.
func upstream(b *testing.B, id string) k8s.Plugin {
	b.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == id {
			return e.Plugin
		}
	}
	b.Fatalf("upstream plugin %q is not registered", id)
	return nil
}

// The inputs below are those of our plugins' benchmarks (helpers_test.go
// and bench_test.go of each plugin package), copied.

func res(cpu, memory string) *core.Resources {
	return &core.Resources{
		Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
		Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
	}
}

func pytorchJob() *kfplugins.DistributedPyTorchTrainingTask {
	return &kfplugins.DistributedPyTorchTrainingTask{
		MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
			Image: "ghcr.io/flyteorg/pytorch-master:v1", Resources: res("2", "4Gi"),
			RestartPolicy: plugins.RestartPolicy_RESTART_POLICY_ON_FAILURE,
		}},
		WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
			Replicas: 4, Image: "ghcr.io/flyteorg/pytorch-worker:v1", Resources: res("4", "16Gi"),
		}},
		RunPolicy: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL, BackoffLimit: 3, TtlSecondsAfterFinished: 3600},
	}
}

func elasticJob() *kfplugins.DistributedPyTorchTrainingTask {
	j := pytorchJob()
	j.ElasticConfig = &kfplugins.ElasticConfig{RdzvBackend: "c10d", MinReplicas: 2, MaxReplicas: 4, NprocPerNode: 8, MaxRestarts: 3}
	return j
}

func tensorflowJob() *kfplugins.DistributedTensorflowTrainingTask {
	spec := func(n int32, image string, r *core.Resources) *kfplugins.DistributedTensorflowTrainingReplicaSpec {
		return &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: n, Image: image, Resources: r}}
	}
	return &kfplugins.DistributedTensorflowTrainingTask{
		ChiefReplicas:     spec(1, "ghcr.io/flyteorg/tf-chief:v1", res("2", "4Gi")),
		PsReplicas:        spec(2, "ghcr.io/flyteorg/tf-ps:v1", res("1", "8Gi")),
		WorkerReplicas:    spec(4, "ghcr.io/flyteorg/tf-worker:v1", res("4", "16Gi")),
		EvaluatorReplicas: spec(1, "ghcr.io/flyteorg/tf-eval:v1", res("1", "2Gi")),
		RunPolicy:         &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_RUNNING, BackoffLimit: 2},
	}
}

func mpiJob() *kfplugins.DistributedMPITrainingTask {
	return &kfplugins.DistributedMPITrainingTask{
		LauncherReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
			Common:  &plugins.CommonReplicaSpec{Image: "ghcr.io/flyteorg/mpi-launcher:v1", Resources: res("1", "1Gi")},
			Command: []string{"mpirun", "-np", "8", "python", "train.py"},
		},
		WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
			Common:  &plugins.CommonReplicaSpec{Replicas: 4, Image: "ghcr.io/flyteorg/mpi-worker:v1", Resources: res("8", "32Gi")},
			Command: []string{"/usr/sbin/sshd", "-De"},
		},
		Slots:     2,
		RunPolicy: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL},
	}
}

var (
	pytorchArgs = []string{
		"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
		"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
		"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
		"--", "task-module", "mnist", "task-name", "train",
	}
	tensorflowArgs = []string{
		"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
		"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
		"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
		"--", "task-module", "cifar", "task-name", "train",
	}
	mpiArgs = []string{
		"mpirun", "--allow-run-as-root", "-bind-to", "none", "-map-by", "slot", "-x", "LD_LIBRARY_PATH", "-x", "PATH",
		"-np", "4", "python", "-m", "flytekit.bin.entrypoint", "pyflyte-execute",
		"--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
		"--resolver", "flytekit.core.python_auto_container.default_task_resolver",
		"--", "task-module", "horovod_mnist", "task-name", "train",
	}
)

// task is kittest.ContainerTemplate's template and our helpers' task.
func task(b *testing.B, taskType, image string, args []string, custom proto.Message) taskctx.Task {
	b.Helper()
	s, err := taskctx.CustomStruct(custom)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &core.TaskTemplate{
		Id:   &core.Identifier{ResourceType: core.ResourceType_TASK, Project: "flyteproject", Domain: "development", Name: "wf.my_task", Version: "v1"},
		Type: taskType,
		Metadata: &core.TaskMetadata{
			Runtime: &core.RuntimeMetadata{Type: core.RuntimeMetadata_FLYTE_SDK, Version: "1.16.0", Flavor: "python"},
		},
		Interface:       &core.TypedInterface{Inputs: &core.VariableMap{}, Outputs: &core.VariableMap{}},
		Custom:          s,
		TaskTypeVersion: 1,
		Target: &core.TaskTemplate_Container{Container: &core.Container{
			Image: image,
			Args:  args,
			Env:   []*core.KeyValuePair{{Key: "TASK_ENV", Value: "1"}},
		}},
	}
	return taskctx.Task{
		Template:       tmpl,
		ServiceAccount: "task-sa",
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("2Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("2Gi")},
		},
		Labels:      map[string]string{"execution-id": "f8a1b2c3d4"},
		Annotations: map[string]string{"flyte/owner": "team-a"},
	}
}

func pytorchTask(b *testing.B, custom proto.Message) taskctx.Task {
	return task(b, "pytorch", "ghcr.io/flyteorg/pytorch-task:v1", pytorchArgs, custom)
}

func tensorflowTask(b *testing.B) taskctx.Task {
	return task(b, "tensorflow", "ghcr.io/flyteorg/tensorflow-task:v1", tensorflowArgs, tensorflowJob())
}

func mpiTask(b *testing.B) taskctx.Task {
	return task(b, "mpi", "ghcr.io/flyteorg/horovod-task:v1", mpiArgs, mpiJob())
}

// richPlatform is our helpers' plugins.k8s section.
func richPlatform(b *testing.B) {
	prev := config.GetK8sPluginConfig()
	cfg := *prev
	cfg.DefaultTolerations = []v1.Toleration{{Key: "flyte", Operator: v1.TolerationOpExists}}
	cfg.InterruptibleTolerations = []v1.Toleration{{Key: "spot", Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}}
	cfg.InterruptibleNodeSelector = map[string]string{"node-lifecycle": "spot"}
	cfg.InterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"spot"}}
	cfg.NonInterruptibleNodeSelectorRequirement = &v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpNotIn, Values: []string{"spot"}}
	cfg.DefaultNodeSelector = map[string]string{"pool": "training"}
	cfg.DefaultLabels = map[string]string{"platform": "flyte"}
	cfg.DefaultAnnotations = map[string]string{"platform/annotated": "yes"}
	cfg.DefaultEnvVars = map[string]string{"PLATFORM_ENV": "1"}
	cfg.SchedulerName = "volcano"
	cfg.AddTolerationsForExtendedResources = []string{"nvidia.com/gpu"}
	if err := config.SetK8sPluginConfig(&cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = config.SetK8sPluginConfig(prev) })
}

// benchLogs is our benchmarks' plugins.logs section.
func benchLogs(b *testing.B) {
	prev := *logs.GetLogConfig()
	if err := logs.SetLogConfig(&logs.LogConfig{
		IsKubernetesEnabled:   true,
		KubernetesTemplateURI: "https://k8s/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}",
		Templates: []tasklog.TemplateLogPlugin{{
			DisplayName:  "Grafana",
			TemplateURIs: []tasklog.TemplateURI{"https://grafana/explore?pod={{ .podName }}&container={{ .containerName }}&from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}"},
		}},
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = logs.SetLogConfig(&prev) })
}

func benchBuild(b *testing.B, id string, tk taskctx.Task) {
	richPlatform(b)
	p := upstream(b, id)
	tCtx := taskctx.New(tk)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.BuildResource(ctx, tCtx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpstreamPyTorchBuildResource is our pytorch
// BenchmarkBuildResource on upstream's plugin.
func BenchmarkUpstreamPyTorchBuildResource(b *testing.B) {
	b.Run("master+4workers", func(b *testing.B) { benchBuild(b, "pytorch", pytorchTask(b, pytorchJob())) })
	b.Run("elastic", func(b *testing.B) { benchBuild(b, "pytorch", pytorchTask(b, elasticJob())) })
}

// BenchmarkUpstreamTensorFlowBuildResource is our tensorflow
// BenchmarkBuildResource on upstream's plugin.
func BenchmarkUpstreamTensorFlowBuildResource(b *testing.B) {
	benchBuild(b, "tensorflow", tensorflowTask(b))
}

// BenchmarkUpstreamMPIBuildResource is our mpi BenchmarkBuildResource on
// upstream's plugin.
func BenchmarkUpstreamMPIBuildResource(b *testing.B) {
	benchBuild(b, "mpi", mpiTask(b))
}

// status is our benchmarks' running status.
func status(kind string) (metav1.Time, kubeflowv1.JobStatus) {
	created := metav1.Unix(1767323045, 0)
	start := metav1.NewTime(created.Add(5 * time.Second))
	running := metav1.NewTime(created.Add(40 * time.Second))
	return created, kubeflowv1.JobStatus{
		Conditions: []kubeflowv1.JobCondition{
			{Type: kubeflowv1.JobCreated, Status: v1.ConditionTrue, Reason: kind + "Created", LastTransitionTime: start},
			{Type: kubeflowv1.JobRunning, Status: v1.ConditionTrue, Reason: kind + "Running", LastTransitionTime: running},
		},
		StartTime: &start,
	}
}

func meta(created metav1.Time) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: "f8a1b2c3d4-n0-0", Namespace: "flyteproject-development", CreationTimestamp: created}
}

func benchPhase(b *testing.B, id string, tk taskctx.Task, job client.Object) {
	benchLogs(b)
	p := upstream(b, id)
	pCtx := taskctx.New(tk)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		phase, err := p.GetTaskPhase(ctx, pCtx, job)
		if err != nil || len(phase.Info().Logs) == 0 {
			b.Fatal(err, phase.Info())
		}
	}
}

// BenchmarkUpstreamPyTorchGetTaskPhase is our pytorch
// BenchmarkGetTaskPhase on upstream's plugin.
func BenchmarkUpstreamPyTorchGetTaskPhase(b *testing.B) {
	created, st := status(kubeflowv1.PyTorchJobKind)
	benchPhase(b, "pytorch", pytorchTask(b, pytorchJob()), &kubeflowv1.PyTorchJob{
		ObjectMeta: meta(created),
		Spec: kubeflowv1.PyTorchJobSpec{PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
			kubeflowv1.PyTorchJobReplicaTypeMaster: {Replicas: new(int32(1))},
			kubeflowv1.PyTorchJobReplicaTypeWorker: {Replicas: new(int32(4))},
		}},
		Status: st,
	})
}

// BenchmarkUpstreamTensorFlowGetTaskPhase is our tensorflow
// BenchmarkGetTaskPhase on upstream's plugin.
func BenchmarkUpstreamTensorFlowGetTaskPhase(b *testing.B) {
	created, st := status(kubeflowv1.TFJobKind)
	benchPhase(b, "tensorflow", tensorflowTask(b), &kubeflowv1.TFJob{
		ObjectMeta: meta(created),
		Spec: kubeflowv1.TFJobSpec{TFReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
			kubeflowv1.TFJobReplicaTypeChief:  {Replicas: new(int32(1))},
			kubeflowv1.TFJobReplicaTypePS:     {Replicas: new(int32(2))},
			kubeflowv1.TFJobReplicaTypeWorker: {Replicas: new(int32(4))},
			kubeflowv1.TFJobReplicaTypeEval:   {Replicas: new(int32(1))},
		}},
		Status: st,
	})
}

// BenchmarkUpstreamMPIGetTaskPhase is our mpi BenchmarkGetTaskPhase on
// upstream's plugin.
func BenchmarkUpstreamMPIGetTaskPhase(b *testing.B) {
	created, st := status(kubeflowv1.MPIJobKind)
	benchPhase(b, "mpi", mpiTask(b), &kubeflowv1.MPIJob{
		ObjectMeta: meta(created),
		Spec: kubeflowv1.MPIJobSpec{MPIReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
			kubeflowv1.MPIJobReplicaTypeLauncher: {Replicas: new(int32(1))},
			kubeflowv1.MPIJobReplicaTypeWorker:   {Replicas: new(int32(4))},
		}},
		Status: st,
	})
}

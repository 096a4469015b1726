package dask_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

var (
	spotToleration  = v1.Toleration{Key: "spot", Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}
	flyteToleration = v1.Toleration{Key: "flyte", Operator: v1.TolerationOpExists}
	gpuToleration   = v1.Toleration{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}
)

func hasToleration(list []v1.Toleration, t v1.Toleration) bool {
	for _, x := range list {
		if apiequality.Semantic.DeepEqual(x, t) {
			return true
		}
	}
	return false
}

// TestBuildResource walks the spec's "Building the DaskJob" section for a
// basic task over a richly configured platform.
func TestBuildResource(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	job := build(t, daskTask(t, basicJob()))

	assert.Equal(t, "DaskJob", job.Kind)
	assert.Equal(t, "kubernetes.dask.org/v1", job.APIVersion)

	wantLabels := map[string]string{"execution-id": "f8a1b2c3d4", "platform": "flyte"}
	wantAnnotations := map[string]string{"flyte/owner": "team-a", "platform/annotated": "yes"}
	assert.Equal(t, wantLabels, job.Labels)
	assert.Equal(t, wantAnnotations, job.Annotations)
	assert.Equal(t, wantLabels, job.Spec.Cluster.Labels)
	assert.Equal(t, wantAnnotations, job.Spec.Cluster.Annotations)

	t.Run("job runner", func(t *testing.T) {
		spec := job.Spec.Job.Spec
		assert.Equal(t, []string{"job-runner"}, names(spec.Containers))
		c := container(t, spec, "job-runner")
		assert.Equal(t, taskImage, c.Image)
		assert.Equal(t, []string{"pyflyte-execute", "--inputs", "mem://inputs/inputs.pb", "--output-prefix", "mem://outputs/f8a1b2c3d4-n0-0"}, c.Args)
		v, ok := env(c, "TASK_ENV")
		assert.True(t, ok && v == "1", "the task's env")
		_, ok = env(c, "PLATFORM_ENV")
		assert.True(t, ok, "the platform's default env")
		assert.Equal(t, q("1"), c.Resources.Limits[v1.ResourceCPU])
		assert.Equal(t, q("500m"), c.Resources.Requests[v1.ResourceCPU])
		assert.Equal(t, v1.RestartPolicyNever, spec.RestartPolicy)
		assert.True(t, hasToleration(spec.Tolerations, flyteToleration))
		assert.False(t, hasToleration(spec.Tolerations, spotToleration), "the runner is never interruptible")
		assert.Equal(t, "flyte-scheduler", spec.SchedulerName)
	})

	t.Run("scheduler", func(t *testing.T) {
		s := job.Spec.Cluster.Spec.Scheduler
		assert.Equal(t, []string{"scheduler"}, names(s.Spec.Containers))
		c := container(t, s.Spec, "scheduler")
		assert.Equal(t, schedulerImage, c.Image)
		assert.Nil(t, c.Command, "the image's entrypoint runs")
		assert.Equal(t, []string{"dask", "scheduler"}, c.Args)
		assert.Equal(t, []v1.ContainerPort{
			{Name: "tcp-comm", ContainerPort: 8786, Protocol: v1.ProtocolTCP},
			{Name: "dashboard", ContainerPort: 8787, Protocol: v1.ProtocolTCP},
		}, c.Ports)
		assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("4Gi")}, c.Resources.Limits)
		assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("4Gi")}, c.Resources.Requests, "requests default to limits")
		assert.Equal(t, v1.RestartPolicyAlways, s.Spec.RestartPolicy)
		assert.False(t, hasToleration(s.Spec.Tolerations, spotToleration), "the scheduler is never interruptible")
		assert.True(t, hasToleration(s.Spec.Tolerations, flyteToleration))

		assert.Equal(t, v1.ServiceSpec{
			Type:     v1.ServiceTypeNodePort,
			Selector: map[string]string{"dask.org/cluster-name": jobName, "dask.org/component": "scheduler"},
			Ports: []v1.ServicePort{
				{Name: "tcp-comm", Protocol: v1.ProtocolTCP, Port: 8786, TargetPort: intstr.FromString("tcp-comm")},
				{Name: "dashboard", Protocol: v1.ProtocolTCP, Port: 8787, TargetPort: intstr.FromString("dashboard")},
			},
		}, s.Service)
	})

	t.Run("workers", func(t *testing.T) {
		w := job.Spec.Cluster.Spec.Worker
		assert.Equal(t, 3, w.Replicas)
		assert.Equal(t, []string{"dask-worker"}, names(w.Spec.Containers))
		c := container(t, w.Spec, "dask-worker")
		assert.Equal(t, workerImage, c.Image)
		assert.Nil(t, c.Command)
		assert.Equal(t, []string{"dask", "worker", "--name", "$(DASK_WORKER_NAME)", "--nthreads", "2", "--memory-limit", "2147483648"}, c.Args)
		assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("1500m"), v1.ResourceMemory: q("2Gi")}, c.Resources.Limits)
		assert.Equal(t, v1.RestartPolicyAlways, w.Spec.RestartPolicy)
		assert.False(t, hasToleration(w.Spec.Tolerations, spotToleration), "a non-interruptible task's workers stay off spot")
	})
}

func TestInterruptibleTaskPutsOnlyWorkersOnInterruptibleNodes(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	task := daskTask(t, basicJob())
	task.Interruptible = true
	job := build(t, task)

	onSpot := func(spec v1.PodSpec) bool {
		return hasToleration(spec.Tolerations, spotToleration) && spec.NodeSelector["node-lifecycle"] == "spot"
	}
	assert.True(t, onSpot(job.Spec.Cluster.Spec.Worker.Spec), "workers follow the task")
	assert.False(t, onSpot(job.Spec.Cluster.Spec.Scheduler.Spec), "scheduler")
	assert.False(t, onSpot(job.Spec.Job.Spec), "job runner")

	affinity := func(spec v1.PodSpec) v1.NodeSelectorOperator {
		return spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Operator
	}
	assert.Equal(t, v1.NodeSelectorOpIn, affinity(job.Spec.Cluster.Spec.Worker.Spec))
	assert.Equal(t, v1.NodeSelectorOpNotIn, affinity(job.Spec.Cluster.Spec.Scheduler.Spec))
	assert.Equal(t, v1.NodeSelectorOpNotIn, affinity(job.Spec.Job.Spec))
}

// TestRoleResources covers the resource rows: the custom proto's when set
// (requests and limits default to each other, cpu and memory from the
// platform defaults, clamped by the platform limits), else the task's; and
// the worker args that follow from the limits.
func TestRoleResources(t *testing.T) {
	platform := &v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: q("250m"), v1.ResourceMemory: q("768Mi")},
		Limits:   v1.ResourceList{v1.ResourceCPU: q("4"), v1.ResourceMemory: q("8Gi")},
	}
	rl := func(cpu, mem string) v1.ResourceList {
		return v1.ResourceList{v1.ResourceCPU: q(cpu), v1.ResourceMemory: q(mem)}
	}
	tests := []struct {
		name         string
		resources    *core.Resources // workers' and scheduler's
		wantRequests v1.ResourceList
		wantLimits   v1.ResourceList
		wantArgs     []string // worker args after --name
	}{
		{
			name:         "unset: the task's",
			resources:    nil,
			wantRequests: rl("500m", "1Gi"),
			wantLimits:   rl("1", "1Gi"),
			wantArgs:     []string{"--nthreads", "1", "--memory-limit", "1073741824"},
		},
		{
			name:         "only zero quantities: the task's",
			resources:    &core.Resources{Limits: res("cpu=0", "memory=0")},
			wantRequests: rl("500m", "1Gi"),
			wantLimits:   rl("1", "1Gi"),
			wantArgs:     []string{"--nthreads", "1", "--memory-limit", "1073741824"},
		},
		{
			name:         "limits only: requests default to limits",
			resources:    &core.Resources{Limits: res("cpu=3", "memory=6Gi")},
			wantRequests: rl("3", "6Gi"),
			wantLimits:   rl("3", "6Gi"),
			wantArgs:     []string{"--nthreads", "3", "--memory-limit", "6442450944"},
		},
		{
			name:         "requests only: limits default to requests",
			resources:    &core.Resources{Requests: res("cpu=2", "memory=3Gi")},
			wantRequests: rl("2", "3Gi"),
			wantLimits:   rl("2", "3Gi"),
			wantArgs:     []string{"--nthreads", "2", "--memory-limit", "3221225472"},
		},
		{
			name:         "cpu only: memory from the platform default",
			resources:    &core.Resources{Limits: res("cpu=2")},
			wantRequests: rl("2", "768Mi"),
			wantLimits:   rl("2", "768Mi"),
			wantArgs:     []string{"--nthreads", "2", "--memory-limit", "805306368"},
		},
		{
			name:         "memory only: cpu from the platform default",
			resources:    &core.Resources{Requests: res("memory=2Gi")},
			wantRequests: rl("250m", "2Gi"),
			wantLimits:   rl("250m", "2Gi"),
			wantArgs:     []string{"--nthreads", "1", "--memory-limit", "2147483648"},
		},
		{
			name:         "clamped by the platform limits",
			resources:    &core.Resources{Requests: res("cpu=2", "memory=1Gi"), Limits: res("cpu=16", "memory=64Gi")},
			wantRequests: rl("2", "1Gi"),
			wantLimits:   rl("4", "8Gi"),
			wantArgs:     []string{"--nthreads", "4", "--memory-limit", "8589934592"},
		},
		{
			name:         "fractional cpu rounds up",
			resources:    &core.Resources{Limits: res("cpu=2500m", "memory=1500M")},
			wantRequests: rl("2500m", "1500M"),
			wantLimits:   rl("2500m", "1500M"),
			wantArgs:     []string{"--nthreads", "3", "--memory-limit", "1500000000"},
		},
		{
			name:         "a quarter cpu is still one thread",
			resources:    &core.Resources{Limits: res("cpu=250m", "memory=512Mi")},
			wantRequests: rl("250m", "512Mi"),
			wantLimits:   rl("250m", "512Mi"),
			wantArgs:     []string{"--nthreads", "1", "--memory-limit", "536870912"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := basicJob()
			j.Scheduler.Resources = tt.resources
			j.Workers.Resources = tt.resources
			task := daskTask(t, j)
			task.PlatformResources = platform
			job := build(t, task)

			for role, spec := range map[string]v1.PodSpec{"scheduler": job.Spec.Cluster.Spec.Scheduler.Spec, "dask-worker": job.Spec.Cluster.Spec.Worker.Spec} {
				c := container(t, spec, role)
				assert.Equal(t, tt.wantRequests, c.Resources.Requests, "%s requests", role)
				assert.Equal(t, tt.wantLimits, c.Resources.Limits, "%s limits", role)
			}
			w := container(t, job.Spec.Cluster.Spec.Worker.Spec, "dask-worker")
			assert.Equal(t, append([]string{"dask", "worker", "--name", "$(DASK_WORKER_NAME)"}, tt.wantArgs...), w.Args)
		})
	}
}

func TestGPUWorkersGetTheirTolerations(t *testing.T) {
	platform := richPlatform()
	gpuNode := v1.Toleration{Key: "gpu-node", Operator: v1.TolerationOpExists}
	platform.ResourceTolerations = map[v1.ResourceName][]v1.Toleration{flytek8s.ResourceNvidiaGPU: {gpuNode}}
	kittest.SetPlatform(t, platform)
	j := basicJob()
	j.Workers.Resources = &core.Resources{Limits: res("cpu=4", "memory=16Gi", "gpu=1")}
	job := build(t, daskTask(t, j))

	w := job.Spec.Cluster.Spec.Worker.Spec
	c := container(t, w, "dask-worker")
	assert.Equal(t, q("1"), c.Resources.Limits[flytek8s.ResourceNvidiaGPU])
	assert.Equal(t, q("1"), c.Resources.Requests[flytek8s.ResourceNvidiaGPU])
	assert.True(t, hasToleration(w.Tolerations, gpuToleration), "workers asking for GPUs tolerate GPU nodes")
	assert.True(t, hasToleration(w.Tolerations, gpuNode), "plugins.k8s.resource-tolerations apply to the workers' GPUs")
	assert.False(t, hasToleration(job.Spec.Cluster.Spec.Scheduler.Spec.Tolerations, gpuNode))
	assert.False(t, hasToleration(job.Spec.Cluster.Spec.Scheduler.Spec.Tolerations, gpuToleration))
	assert.False(t, hasToleration(job.Spec.Job.Spec.Tolerations, gpuToleration))
}

func TestPlatformResourcesAreNeverModified(t *testing.T) {
	platform := &v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: q("100m")}}
	before := platform.DeepCopy()
	j := basicJob()
	j.Workers.Resources = &core.Resources{Limits: res("cpu=1")}
	task := daskTask(t, j)
	task.PlatformResources = platform
	build(t, task)
	assert.Equal(t, before, platform)
}

func TestImages(t *testing.T) {
	t.Run("the task's image where the proto sets none", func(t *testing.T) {
		j := basicJob()
		j.Scheduler.Image, j.Workers.Image = "", ""
		job := build(t, daskTask(t, j))
		assert.Equal(t, taskImage, container(t, job.Spec.Cluster.Spec.Scheduler.Spec, "scheduler").Image)
		assert.Equal(t, taskImage, container(t, job.Spec.Cluster.Spec.Worker.Spec, "dask-worker").Image)
	})
	t.Run("the execution's image override, unless the proto sets one", func(t *testing.T) {
		j := basicJob()
		j.Workers.Image = ""
		task := daskTask(t, j)
		task.ImageOverride = "registry/override:v2"
		job := build(t, task)
		assert.Equal(t, "registry/override:v2", container(t, job.Spec.Job.Spec, "job-runner").Image)
		assert.Equal(t, "registry/override:v2", container(t, job.Spec.Cluster.Spec.Worker.Spec, "dask-worker").Image)
		assert.Equal(t, schedulerImage, container(t, job.Spec.Cluster.Spec.Scheduler.Spec, "scheduler").Image)
	})
}

func TestTaskCommandStaysOnTheRunnerOnly(t *testing.T) {
	task := daskTask(t, basicJob())
	task.Template.GetContainer().Command = []string{"/entrypoint.sh"}
	job := build(t, task)
	assert.Equal(t, []string{"/entrypoint.sh"}, container(t, job.Spec.Job.Spec, "job-runner").Command)
	assert.Nil(t, container(t, job.Spec.Cluster.Spec.Scheduler.Spec, "scheduler").Command)
	assert.Nil(t, container(t, job.Spec.Cluster.Spec.Worker.Spec, "dask-worker").Command)
}

// TestPodTemplatesReachAllRoles: the task's named pod template and the
// execution's pod-template override apply to all three roles, and their
// labels and annotations reach the DaskJob and its cluster.
func TestPodTemplatesReachAllRoles(t *testing.T) {
	templateToleration := v1.Toleration{Key: "dedicated", Value: "dask", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}
	volume := v1.Volume{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}

	check := func(t *testing.T, job *daskAPI.DaskJob, label, annotation string) {
		t.Helper()
		for role, spec := range map[string]v1.PodSpec{
			"job runner": job.Spec.Job.Spec,
			"scheduler":  job.Spec.Cluster.Spec.Scheduler.Spec,
			"workers":    job.Spec.Cluster.Spec.Worker.Spec,
		} {
			assert.True(t, hasToleration(spec.Tolerations, templateToleration), "%s: template toleration", role)
			assert.Contains(t, spec.Volumes, volume, "%s: template volume", role)
		}
		for what, meta := range map[string]metav1.ObjectMeta{"job": job.ObjectMeta, "cluster": job.Spec.Cluster.ObjectMeta} {
			assert.Equal(t, "yes", meta.Labels[label], "%s label", what)
			assert.Equal(t, "yes", meta.Annotations[annotation], "%s annotation", what)
			assert.Equal(t, "f8a1b2c3d4", meta.Labels["execution-id"], "%s: execution label", what)
			assert.Equal(t, "team-a", meta.Annotations["flyte/owner"], "%s: execution annotation", what)
		}
	}

	t.Run("named pod template", func(t *testing.T) {
		tmpl := &v1.PodTemplate{
			ObjectMeta: metav1.ObjectMeta{Name: "dask-template", Namespace: "flyteproject-development"},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"from-template": "yes"}, Annotations: map[string]string{"template/annotated": "yes"}},
				Spec: v1.PodSpec{
					Tolerations: []v1.Toleration{templateToleration},
					Volumes:     []v1.Volume{volume},
					Containers:  []v1.Container{{Name: "default", Image: "ignored"}},
				},
			},
		}
		flytek8s.DefaultPodTemplateStore.Store(tmpl)
		t.Cleanup(func() { flytek8s.DefaultPodTemplateStore.Delete(tmpl) })
		task := daskTask(t, basicJob())
		task.Template.Metadata.PodTemplateName = "dask-template"
		check(t, build(t, task), "from-template", "template/annotated")
	})

	t.Run("execution pod-template override", func(t *testing.T) {
		spec := v1.PodSpec{
			Tolerations: []v1.Toleration{templateToleration},
			Volumes:     []v1.Volume{volume},
			Containers: []v1.Container{{
				Name: "main", Image: "registry/template:v1", Args: []string{"pyflyte-execute", "--from-template"},
				VolumeMounts: []v1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}},
			}},
		}
		task := daskTask(t, basicJob())
		task.PodTemplate = &core.K8SPod{
			PrimaryContainerName: "main",
			PodSpec:              kittest.ObjStruct(t, spec),
			Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"from-override": "yes"}, Annotations: map[string]string{"override/annotated": "yes"}},
		}
		job := build(t, task)
		check(t, job, "from-override", "override/annotated")
		runner := container(t, job.Spec.Job.Spec, "job-runner")
		assert.Equal(t, "registry/template:v1", runner.Image)
		assert.Equal(t, []string{"pyflyte-execute", "--from-template"}, runner.Args)
		assert.Equal(t, "/scratch", container(t, job.Spec.Cluster.Spec.Worker.Spec, "dask-worker").VolumeMounts[0].MountPath)
	})
}

func TestSchedulerServiceType(t *testing.T) {
	tests := []struct {
		configured string
		want       v1.ServiceType
	}{
		{"", v1.ServiceTypeNodePort},
		{"NodePort", v1.ServiceTypeNodePort},
		{"ClusterIP", v1.ServiceTypeClusterIP},
		{"loadbalancer", v1.ServiceTypeLoadBalancer},
	}
	for _, tt := range tests {
		t.Run(tt.configured, func(t *testing.T) {
			cfg := *dask.GetConfig()
			cfg.SchedulerServiceType = tt.configured
			setDask(t, &cfg)
			job := build(t, daskTask(t, basicJob()))
			assert.Equal(t, tt.want, job.Spec.Cluster.Spec.Scheduler.Service.Type)
		})
	}
	t.Run("not a service type", func(t *testing.T) {
		cfg := *dask.GetConfig()
		cfg.SchedulerServiceType = "ExternalName"
		setDask(t, &cfg)
		_, err := registered(t).BuildResource(context.Background(), kittest.New(daskTask(t, basicJob())))
		require.Error(t, err)
		code, _ := flyteerrors.GetErrorCode(err)
		assert.Equal(t, flyteerrors.ErrorCode("PluginInitializationFailed"), code)
		assert.Contains(t, err.Error(), "schedulerServiceType")
		assert.Contains(t, err.Error(), "ExternalName")
	})
}

// TestBuildResourceRejectsBadInput: each bad input is a BadTaskSpecification
// that names the field (and the value where there is one).
func TestBuildResourceRejectsBadInput(t *testing.T) {
	withJob := func(edit func(*plugins.DaskJob)) func(*core.TaskTemplate) {
		return func(tmpl *core.TaskTemplate) {
			j := basicJob()
			edit(j)
			tmpl.Custom = kittest.Struct(t, j)
		}
	}
	tests := []struct {
		name string
		edit func(*core.TaskTemplate)
		want []string // substrings of the error
	}{
		{"number_of_workers 0", withJob(func(j *plugins.DaskJob) { j.Workers.NumberOfWorkers = 0 }), []string{"custom.workers.number_of_workers", `"0"`}},
		{"no workers", withJob(func(j *plugins.DaskJob) { j.Workers = nil }), []string{"custom.workers.number_of_workers"}},
		{"too many workers", withJob(func(j *plugins.DaskJob) { j.Workers.NumberOfWorkers = 1 << 31 }), []string{"custom.workers.number_of_workers", "2147483648"}},
		{"unparseable scheduler cpu limit", withJob(func(j *plugins.DaskJob) { j.Scheduler.Resources.Limits = res("cpu=two") }), []string{"custom.scheduler.resources.limits.cpu", `"two"`}},
		{"unparseable worker memory request", withJob(func(j *plugins.DaskJob) { j.Workers.Resources.Requests = res("memory=1Qi") }), []string{"custom.workers.resources.requests.memory", `"1Qi"`}},
		{"unparseable worker gpu limit", withJob(func(j *plugins.DaskJob) { j.Workers.Resources.Limits = res("gpu=") }), []string{"custom.workers.resources.limits.gpu"}},
		{"negative worker cpu", withJob(func(j *plugins.DaskJob) { j.Workers.Resources.Limits = res("cpu=-1") }), []string{"custom.workers.resources.limits.cpu", `"-1"`}},
		{"missing custom", func(tmpl *core.TaskTemplate) { tmpl.Custom = nil }, []string{"custom"}},
		{"custom that is not a DaskJob", func(tmpl *core.TaskTemplate) {
			tmpl.Custom = &structpb.Struct{Fields: map[string]*structpb.Value{"workers": structpb.NewStringValue("three")}}
		}, []string{"custom"}},
		{"negative number_of_workers", func(tmpl *core.TaskTemplate) {
			tmpl.Custom = &structpb.Struct{Fields: map[string]*structpb.Value{"workers": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				"numberOfWorkers": structpb.NewNumberValue(-2),
			}})}}
		}, []string{"custom"}},
		{"no container", func(tmpl *core.TaskTemplate) { tmpl.Target = nil }, []string{"TaskSpecification"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := daskTask(t, basicJob())
			tt.edit(task.Template)
			obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
			require.Error(t, err)
			assert.Nil(t, obj)
			assert.True(t, flyteerrors.IsCausedBy(err, "BadTaskSpecification"), "want a BadTaskSpecification, got %v", err)
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// TestConcurrentBuildResource: the registered plugin is shared by all of
// propeller's workers; builds from many goroutines are identical (and the
// race detector is quiet).
func TestConcurrentBuildResource(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	p := registered(t)
	task := daskTask(t, basicJob())
	task.Interruptible = true
	task.PlatformResources = &v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: q("100m")}}
	tCtx := kittest.New(task)
	want := build(t, task)

	const goroutines, builds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, goroutines*builds)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < builds; i++ {
				obj, err := p.BuildResource(context.Background(), tCtx)
				if err != nil {
					errs <- err.Error()
					continue
				}
				if !apiequality.Semantic.DeepEqual(want, obj) {
					errs <- "goroutine " + strconv.Itoa(g) + " built a different DaskJob"
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	var all []string
	for e := range errs {
		all = append(all, e)
	}
	assert.Empty(t, strings.Join(all, "\n"))
}

func TestBuildIdentityResource(t *testing.T) {
	obj, err := registered(t).BuildIdentityResource(context.Background(), kittest.New(daskTask(t, basicJob())).TaskExecutionMetadata())
	require.NoError(t, err)
	job, ok := obj.(*daskAPI.DaskJob)
	require.True(t, ok)
	assert.Equal(t, metav1.TypeMeta{Kind: "DaskJob", APIVersion: "kubernetes.dask.org/v1"}, job.TypeMeta)
}

// Every Dask pod runs as the execution's run-as service account, over the
// task metadata's.
func TestRunAsServiceAccountReachesEveryPod(t *testing.T) {
	task := daskTask(t, basicJob())
	task.ServiceAccount = "metadata-sa"
	task.Template.SecurityContext = &core.SecurityContext{RunAs: &core.Identity{K8SServiceAccount: "run-as-sa"}}
	job := build(t, task)
	assert.Equal(t, "run-as-sa", job.Spec.Job.Spec.ServiceAccountName, "runner")
	assert.Equal(t, "run-as-sa", job.Spec.Cluster.Spec.Scheduler.Spec.ServiceAccountName, "scheduler")
	assert.Equal(t, "run-as-sa", job.Spec.Cluster.Spec.Worker.Spec.ServiceAccountName, "workers")
}

package kf_test

import (
	"math"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
)

func res(cpu, memory string) *core.Resources {
	return &core.Resources{
		Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
		Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: cpu}, {Name: core.Resources_MEMORY, Value: memory}},
	}
}

// The run policy, every plugin: the task's values (zero is unset), the
// clean-pod policy whenever the task has a run policy, and the task's
// timeout as the active deadline when the task sets none.
func TestRunPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int32
		rp      *kfplugins.RunPolicy
		timeout time.Duration
		want    kubeflowv1.RunPolicy
	}{
		{name: "none", version: 1, want: kubeflowv1.RunPolicy{}},
		{name: "v0 has none", version: 0, want: kubeflowv1.RunPolicy{}},
		{name: "empty: clean-pod policy NONE, the proto default", version: 1, rp: &kfplugins.RunPolicy{},
			want: kubeflowv1.RunPolicy{CleanPodPolicy: new(kubeflowv1.CleanPodPolicyNone)}},
		{name: "everything", version: 1, rp: &kfplugins.RunPolicy{
			CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL, TtlSecondsAfterFinished: 600, ActiveDeadlineSeconds: 3600, BackoffLimit: 3,
		}, want: kubeflowv1.RunPolicy{
			CleanPodPolicy: new(kubeflowv1.CleanPodPolicyAll), TTLSecondsAfterFinished: new(int32(600)),
			ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(3)),
		}},
		{name: "clean running pods", version: 1, rp: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_RUNNING},
			want: kubeflowv1.RunPolicy{CleanPodPolicy: new(kubeflowv1.CleanPodPolicyRunning)}},
		{name: "task timeout becomes the deadline", version: 1, timeout: 90 * time.Minute,
			want: kubeflowv1.RunPolicy{ActiveDeadlineSeconds: new(int64(5400))}},
		{name: "v0 task timeout becomes the deadline", version: 0, timeout: 10 * time.Second,
			want: kubeflowv1.RunPolicy{ActiveDeadlineSeconds: new(int64(10))}},
		{name: "a timeout with a fraction of a second rounds up", version: 1, timeout: 1500 * time.Millisecond,
			want: kubeflowv1.RunPolicy{ActiveDeadlineSeconds: new(int64(2))}},
		{name: "the task's own deadline wins over the timeout", version: 1, timeout: time.Hour,
			rp:   &kfplugins.RunPolicy{ActiveDeadlineSeconds: 120, BackoffLimit: 1},
			want: kubeflowv1.RunPolicy{CleanPodPolicy: new(kubeflowv1.CleanPodPolicyNone), ActiveDeadlineSeconds: new(int64(120)), BackoffLimit: new(int32(1))}},
		{name: "an unset deadline takes the timeout", version: 1, timeout: time.Hour,
			rp:   &kfplugins.RunPolicy{TtlSecondsAfterFinished: 60},
			want: kubeflowv1.RunPolicy{CleanPodPolicy: new(kubeflowv1.CleanPodPolicyNone), TTLSecondsAfterFinished: new(int32(60)), ActiveDeadlineSeconds: new(int64(3600))}},
		{name: "a huge timeout", version: 1, timeout: time.Duration(math.MaxInt64),
			want: kubeflowv1.RunPolicy{ActiveDeadlineSeconds: new(math.MaxInt64/int64(time.Second) + 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				custom := p.v0(2)
				if tc.version == 1 {
					custom = p.v1(&plugins.CommonReplicaSpec{Replicas: 2}, tc.rp)
				}
				task := p.task(t, tc.version, custom)
				if tc.timeout != 0 {
					task.Template.Metadata.Timeout = durationpb.New(tc.timeout)
				}
				assert.Equal(t, tc.want, *parts(p.mustBuild(t, task)).runPolicy)
			})
		})
	}
}

// A replica's restart policy is explicit on the replica and its pod; the
// proto's default is Never.
func TestRestartPolicy(t *testing.T) {
	for policy, want := range map[plugins.RestartPolicy]kubeflowv1.RestartPolicy{
		plugins.RestartPolicy_RESTART_POLICY_NEVER:      kubeflowv1.RestartPolicyNever,
		plugins.RestartPolicy_RESTART_POLICY_ON_FAILURE: kubeflowv1.RestartPolicyOnFailure,
		plugins.RestartPolicy_RESTART_POLICY_ALWAYS:     kubeflowv1.RestartPolicyAlways,
	} {
		t.Run(policy.String(), func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				obj := p.mustBuild(t, p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: 2, RestartPolicy: policy}, nil)))
				for rt, spec := range parts(obj).replicas {
					if rt != "Worker" {
						assert.Equal(t, kubeflowv1.RestartPolicyNever, spec.RestartPolicy, "%s: unset is Never", rt)
						assert.Equal(t, v1.RestartPolicyNever, spec.Template.Spec.RestartPolicy, rt)
						continue
					}
					assert.Equal(t, want, spec.RestartPolicy)
					assert.Equal(t, v1.RestartPolicy(want), spec.Template.Spec.RestartPolicy, "the pod says what the operator does")
				}
			})
		})
	}
	eachPlugin(t, func(t *testing.T, p plugin) {
		for rt, spec := range parts(p.mustBuild(t, p.task(t, 0, p.v0(1)))).replicas {
			assert.Equal(t, kubeflowv1.RestartPolicyNever, spec.RestartPolicy, "v0 %s", rt)
		}
	})
}

// A replica's image and resources replace the task's for that replica
// only; without them it runs the task's.
func TestReplicaImageAndResources(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: 2, Image: "ghcr.io/flyteorg/worker:v2", Resources: res("4", "16Gi")}, nil))
		for rt, spec := range parts(p.mustBuild(t, task)).replicas {
			c := primary(t, spec, p.container)
			if rt == "Worker" {
				assert.Equal(t, "ghcr.io/flyteorg/worker:v2", c.Image)
				assert.Equal(t, resource.MustParse("4"), c.Resources.Limits[v1.ResourceCPU])
				assert.Equal(t, resource.MustParse("16Gi"), c.Resources.Requests[v1.ResourceMemory])
				continue
			}
			assert.Equal(t, taskImage, c.Image, rt)
			assert.Equal(t, resource.MustParse("1"), c.Resources.Limits[v1.ResourceCPU], rt)
			assert.Equal(t, resource.MustParse("2Gi"), c.Resources.Requests[v1.ResourceMemory], rt)
		}
		// No resources of its own: the task's.
		task = p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: 1, Resources: &core.Resources{}}, nil))
		c := primary(t, parts(p.mustBuild(t, task)).replicas["Worker"], p.container)
		assert.Equal(t, resource.MustParse("1"), c.Resources.Limits[v1.ResourceCPU])
		assert.Equal(t, taskImage, c.Image)
	})
}

// The platform's limits clamp a replica's resources as they do the task's,
// and the platform's default fills what the replica leaves out.
func TestReplicaResourcesAgainstPlatform(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: 1, Resources: &core.Resources{
			Limits: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "64"}, {Name: core.Resources_GPU, Value: "1"}},
		}}, nil))
		task.PlatformResources = &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("1Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("8"), v1.ResourceMemory: resource.MustParse("32Gi")},
		}
		platform := *task.PlatformResources.DeepCopy()
		spec := parts(p.mustBuild(t, task)).replicas["Worker"]
		c := primary(t, spec, p.container)
		assert.Equal(t, resource.MustParse("8"), c.Resources.Limits[v1.ResourceCPU], "clamped to the platform limit")
		assert.Equal(t, resource.MustParse("1"), c.Resources.Limits[flytek8s.ResourceNvidiaGPU])
		assert.Contains(t, c.Resources.Requests, v1.ResourceMemory, "memory from the platform default")
		assert.Equal(t, platform, *task.PlatformResources, "the platform resources are not written")
	})
}

// `common` wins over the deprecated replica fields when it is set; without
// it the deprecated fields still work (older flytekit).
func TestCommonWinsOverDeprecatedFields(t *testing.T) {
	deprecatedTF := func(old *plugins.CommonReplicaSpec, common *plugins.CommonReplicaSpec) *kfplugins.DistributedTensorflowTrainingTask {
		return &kfplugins.DistributedTensorflowTrainingTask{WorkerReplicas: &kfplugins.DistributedTensorflowTrainingReplicaSpec{
			Replicas: old.GetReplicas(), Image: old.GetImage(), Resources: old.GetResources(), RestartPolicy: old.GetRestartPolicy(), Common: common,
		}}
	}
	deprecatedPT := func(old *plugins.CommonReplicaSpec, common *plugins.CommonReplicaSpec) *kfplugins.DistributedPyTorchTrainingTask {
		return &kfplugins.DistributedPyTorchTrainingTask{WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{
			Replicas: old.GetReplicas(), Image: old.GetImage(), Resources: old.GetResources(), RestartPolicy: old.GetRestartPolicy(), Common: common,
		}}
	}
	deprecatedMPI := func(old *plugins.CommonReplicaSpec, common *plugins.CommonReplicaSpec) *kfplugins.DistributedMPITrainingTask {
		return &kfplugins.DistributedMPITrainingTask{WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
			Replicas: old.GetReplicas(), Image: old.GetImage(), Resources: old.GetResources(), RestartPolicy: old.GetRestartPolicy(), Common: common,
		}}
	}
	old := &plugins.CommonReplicaSpec{Replicas: 5, Image: "old:1", Resources: res("3", "3Gi"), RestartPolicy: plugins.RestartPolicy_RESTART_POLICY_ALWAYS}
	common := &plugins.CommonReplicaSpec{Replicas: 2, Image: "new:1", Resources: res("2", "2Gi"), RestartPolicy: plugins.RestartPolicy_RESTART_POLICY_ON_FAILURE}
	for _, tc := range []struct {
		name   string
		common *plugins.CommonReplicaSpec
		want   *plugins.CommonReplicaSpec
		policy kubeflowv1.RestartPolicy
	}{
		{"common set", common, common, kubeflowv1.RestartPolicyOnFailure},
		{"deprecated fields only", nil, old, kubeflowv1.RestartPolicyAlways},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				var task kittest.Task
				switch p.kind {
				case kubeflowv1.PyTorchJobKind:
					task = p.task(t, 1, deprecatedPT(old, tc.common))
				case kubeflowv1.TFJobKind:
					task = p.task(t, 1, deprecatedTF(old, tc.common))
				default:
					task = p.task(t, 1, deprecatedMPI(old, tc.common))
				}
				spec := parts(p.mustBuild(t, task)).replicas["Worker"]
				require.NotNil(t, spec)
				assert.Equal(t, tc.want.GetReplicas(), *spec.Replicas)
				assert.Equal(t, tc.policy, spec.RestartPolicy)
				c := primary(t, spec, p.container)
				assert.Equal(t, tc.want.GetImage(), c.Image)
				assert.Equal(t, resource.MustParse(tc.want.GetResources().GetLimits()[0].GetValue()), c.Resources.Limits[v1.ResourceCPU])
			})
		})
	}
}

// The job object carries the labels and annotations every replica pod
// gets: platform defaults, the pod template's metadata, the execution's
// (Kueue reads its queue label from the job).
func TestJobLabelsAndAnnotations(t *testing.T) {
	platform := *config.GetK8sPluginConfig()
	platform.DefaultLabels = map[string]string{"platform": "flyte", "overridden": "platform"}
	platform.DefaultAnnotations = map[string]string{"platform/annotated": "yes"}
	kittest.SetPlatform(t, &platform)
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.workers(t, 2)
		task.Labels = map[string]string{"execution-id": "f8a1b2c3d4", "overridden": "execution"}
		task.PodTemplate = &core.K8SPod{
			PrimaryContainerName: "main",
			Metadata: &core.K8SObjectMetadata{
				Labels:      map[string]string{"kueue.x-k8s.io/queue-name": "team-a-queue"},
				Annotations: map[string]string{"template/annotated": "yes"},
			},
			PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{{Name: "main", Image: taskImage, Args: []string{"train"}}}}),
		}
		obj := p.mustBuild(t, task)
		meta := parts(obj).meta
		wantLabels := map[string]string{
			"platform": "flyte", "execution-id": "f8a1b2c3d4", "overridden": "execution",
			"kueue.x-k8s.io/queue-name": "team-a-queue",
		}
		for k, v := range wantLabels {
			assert.Equal(t, v, meta.Labels[k], "job label %s", k)
		}
		for k, v := range map[string]string{"platform/annotated": "yes", "template/annotated": "yes", "flyte/owner": "team-a"} {
			assert.Equal(t, v, meta.Annotations[k], "job annotation %s", k)
		}
		for rt, spec := range parts(obj).replicas {
			for k, v := range wantLabels {
				assert.Equal(t, v, spec.Template.Labels[k], "%s pod label %s", rt, k)
			}
			assert.Equal(t, "yes", spec.Template.Annotations["template/annotated"], rt)
		}
		assert.Empty(t, meta.Name, "propeller names the job")
		assert.Equal(t, "kubeflow.org/v1", obj.GetObjectKind().GroupVersionKind().GroupVersion().String())
		assert.Equal(t, p.kind, obj.GetObjectKind().GroupVersionKind().Kind)
	})
}

// The execution's run-as service account is every replica pod's.
func TestRunAsServiceAccountReachesEveryReplica(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.workers(t, 2)
		assert.NotEmpty(t, parts(p.mustBuild(t, task)).replicas)
		for rt, spec := range parts(p.mustBuild(t, task)).replicas {
			assert.Equal(t, "task-sa", spec.Template.Spec.ServiceAccountName, "%s: the metadata's", rt)
		}
		task.Template.SecurityContext = &core.SecurityContext{RunAs: &core.Identity{K8SServiceAccount: "run-as-sa"}}
		for rt, spec := range parts(p.mustBuild(t, task)).replicas {
			assert.Equal(t, "run-as-sa", spec.Template.Spec.ServiceAccountName, rt)
		}
		v0 := p.task(t, 0, p.v0(2))
		v0.Template.SecurityContext = task.Template.SecurityContext
		for rt, spec := range parts(p.mustBuild(t, v0)).replicas {
			assert.Equal(t, "run-as-sa", spec.Template.Spec.ServiceAccountName, "v0 %s", rt)
		}
	})
}

// richPlatform is a plugins.k8s section such as a platform sets, that the
// build code was not written against.
func richPlatform() *config.K8sPluginConfig {
	cfg := *config.GetK8sPluginConfig()
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
	cfg.DefaultPodDNSConfig = &v1.PodDNSConfig{Nameservers: []string{"10.0.0.10"}}
	cfg.DefaultPodSecurityContext = &v1.PodSecurityContext{RunAsNonRoot: new(true)}
	cfg.AddTolerationsForExtendedResources = []string{"nvidia.com/gpu"}
	cfg.ResourceTolerations = map[v1.ResourceName][]v1.Toleration{
		"nvidia.com/gpu": {{Key: "gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}},
	}
	return &cfg
}

func hasToleration(list []v1.Toleration, key string) bool {
	for _, t := range list {
		if t.Key == key {
			return true
		}
	}
	return false
}

func envValue(c v1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// The platform's config reaches every replica pod: tolerations, node
// selector, scheduler, DNS, security context, default env, its default pod
// template; GPU replicas get the GPU tolerations.
func TestPlatformConfigReachesEveryReplica(t *testing.T) {
	platform := richPlatform()
	platform.DefaultPodTemplateName = "training-defaults"
	kittest.SetPlatform(t, platform)
	podTemplate := &v1.PodTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "training-defaults", Namespace: namespace},
		Template: v1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"from-template": "yes"}},
			Spec: v1.PodSpec{
				Volumes:    []v1.Volume{{Name: "dshm", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{Medium: v1.StorageMediumMemory}}}},
				Containers: []v1.Container{{Name: "default", VolumeMounts: []v1.VolumeMount{{Name: "dshm", MountPath: "/dev/shm"}}}},
			},
		},
	}
	flytek8s.DefaultPodTemplateStore.Store(podTemplate)
	t.Cleanup(func() { flytek8s.DefaultPodTemplateStore.Delete(podTemplate) })

	eachPlugin(t, func(t *testing.T, p plugin) {
		gpu := &core.Resources{Limits: []*core.Resources_ResourceEntry{{Name: core.Resources_GPU, Value: "2"}}}
		obj := p.mustBuild(t, p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: 2, Resources: gpu}, nil)))
		assert.Equal(t, "yes", parts(obj).meta.Labels["from-template"], "the job has the template's labels")
		for rt, spec := range parts(obj).replicas {
			pod := spec.Template.Spec
			assert.True(t, hasToleration(pod.Tolerations, "flyte"), "%s: default toleration", rt)
			assert.False(t, hasToleration(pod.Tolerations, "spot"), "%s: not interruptible", rt)
			assert.Equal(t, "training", pod.NodeSelector["pool"], rt)
			assert.Equal(t, "volcano", pod.SchedulerName, rt)
			assert.Equal(t, platform.DefaultPodDNSConfig, pod.DNSConfig, rt)
			assert.Equal(t, platform.DefaultPodSecurityContext, pod.SecurityContext, rt)
			assert.Equal(t, "yes", spec.Template.Labels["from-template"], rt)
			assert.Contains(t, pod.Volumes, podTemplate.Template.Spec.Volumes[0], rt)
			c := primary(t, spec, p.container)
			v, ok := envValue(c, "PLATFORM_ENV")
			assert.True(t, ok && v == "1", "%s: platform env", rt)
			assert.Contains(t, c.VolumeMounts, v1.VolumeMount{Name: "dshm", MountPath: "/dev/shm"}, rt)
			if rt == "Worker" {
				assert.Equal(t, resource.MustParse("2"), c.Resources.Limits[flytek8s.ResourceNvidiaGPU])
				assert.True(t, hasToleration(pod.Tolerations, "nvidia.com/gpu"), "%s: extended-resource toleration", rt)
				assert.True(t, hasToleration(pod.Tolerations, "gpu"), "%s: resource toleration", rt)
			} else {
				assert.False(t, hasToleration(pod.Tolerations, "gpu"), "%s has no GPU", rt)
			}
		}
	})
}

// Interruptible tasks: every replica goes on interruptible nodes, except
// MPI's launcher, which holds mpirun.
func TestInterruptible(t *testing.T) {
	platform := richPlatform()
	kittest.SetPlatform(t, platform)
	onSpot := func(pod v1.PodSpec) bool {
		return hasToleration(pod.Tolerations, "spot") && pod.NodeSelector["node-lifecycle"] == "spot"
	}
	required := func(pod v1.PodSpec) []v1.NodeSelectorRequirement {
		if pod.Affinity == nil || pod.Affinity.NodeAffinity == nil || pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			return nil
		}
		var out []v1.NodeSelectorRequirement
		for _, term := range pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			out = append(out, term.MatchExpressions...)
		}
		return out
	}
	for _, interruptible := range []bool{false, true} {
		for _, version := range []int32{0, 1} {
			eachPlugin(t, func(t *testing.T, p plugin) {
				custom := p.v0(2)
				if version == 1 {
					custom = p.v1(&plugins.CommonReplicaSpec{Replicas: 2}, nil)
				}
				task := p.task(t, version, custom)
				task.Interruptible = interruptible
				replicas := parts(p.mustBuild(t, task)).replicas
				assert.NotEmpty(t, replicas)
				for rt, spec := range replicas {
					pod := spec.Template.Spec
					want := interruptible && (p.id != mpi.PluginID || rt != kubeflowv1.MPIJobReplicaTypeLauncher)
					assert.Equal(t, want, onSpot(pod), "v%d %s interruptible=%v", version, rt, interruptible)
					if want {
						assert.Equal(t, []v1.NodeSelectorRequirement{*platform.InterruptibleNodeSelectorRequirement}, required(pod), rt)
					} else {
						assert.Equal(t, []v1.NodeSelectorRequirement{*platform.NonInterruptibleNodeSelectorRequirement}, required(pod), rt)
					}
				}
			})
		}
	}
	assert.Equal(t, richPlatform(), platform, "the platform config is not written")
}

// A pod template that lists a sidecar first: the primary container, found
// by name, is the one renamed for the operator and given the replica's
// image; the sidecar is kept as it is. MPI's operator takes each pod's
// first container as its main one, so there the primary moves first.
func TestPodTemplateSidecarFirst(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.task(t, 1, p.v1(&plugins.CommonReplicaSpec{Replicas: 2, Image: "worker:2"}, nil))
		task.Template.Target = &core.TaskTemplate_K8SPod{K8SPod: &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{
			{Name: "proxy", Image: "envoy:1", Args: []string{"--config", "/etc/envoy.yaml"}},
			{Name: "primary", Image: taskImage, Args: []string{"pyflyte-execute", "--inputs", "{{.input}}"}},
		}})}}
		task.Template.Config = map[string]string{flytek8s.PrimaryContainerKey: "primary"}
		for rt, spec := range parts(p.mustBuild(t, task)).replicas {
			cs := spec.Template.Spec.Containers
			require.Len(t, cs, 2, rt)
			sidecar := primary(t, spec, "proxy")
			assert.Equal(t, "envoy:1", sidecar.Image, "%s: the sidecar keeps its image", rt)
			assert.Equal(t, []string{"--config", "/etc/envoy.yaml"}, sidecar.Args, rt)
			c := primary(t, spec, p.container)
			assert.Equal(t, []string{"pyflyte-execute", "--inputs", "mem://inputs/inputs.pb"}, c.Args, rt)
			if rt == "Worker" {
				assert.Equal(t, "worker:2", c.Image)
			} else {
				assert.Equal(t, taskImage, c.Image, rt)
			}
			if p.id == mpi.PluginID {
				assert.Equal(t, p.container, cs[0].Name, "%s: the operator takes the first container", rt)
			}
		}
	})
}

// The task's command line reaches every replica (rendered), and its env.
func TestTaskContainer(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		for _, version := range []int32{0, 1} {
			custom := p.v0(1)
			if version == 1 {
				custom = p.v1(&plugins.CommonReplicaSpec{Replicas: 1}, nil)
			}
			for rt, spec := range parts(p.mustBuild(t, p.task(t, version, custom))).replicas {
				require.Len(t, spec.Template.Spec.Containers, 1)
				c := primary(t, spec, p.container)
				if p.id != mpi.PluginID || version != 0 || rt != "Worker" {
					assert.Equal(t, "mem://inputs/inputs.pb", c.Args[2], "v%d %s", version, rt)
					assert.Equal(t, "mem://outputs/f8a1b2c3d4-n0-0", c.Args[4], "v%d %s", version, rt)
				}
				v, _ := envValue(c, "TASK_ENV")
				assert.Equal(t, "1", v, "v%d %s", version, rt)
				v, _ = envValue(c, "FLYTE_INTERNAL_EXECUTION_ID")
				assert.Equal(t, "f8a1b2c3d4", v, "v%d %s", version, rt)
			}
		}
	})
}

// BuildIdentityResource is an empty job of the plugin's kind.
func TestBuildIdentityResource(t *testing.T) {
	eachPlugin(t, func(t *testing.T, p plugin) {
		obj, err := p.registered(t).BuildIdentityResource(t.Context(), nil)
		require.NoError(t, err)
		assert.Equal(t, p.kind, obj.GetObjectKind().GroupVersionKind().Kind)
		assert.Equal(t, "kubeflow.org/v1", obj.GetObjectKind().GroupVersionKind().GroupVersion().String())
		assert.Empty(t, parts(obj).replicas)
	})
}

// Bad input shared by the three plugins: each is a BadTaskSpecification
// whose message names the field (and the value), never a panic.
func TestBadInputEveryPlugin(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, p plugin, tmpl *core.TaskTemplate)
		want []string
	}{
		{"task_type_version 2", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) { tmpl.TaskTypeVersion = 2 },
			[]string{"task_type_version", `"2"`}},
		{"task_type_version -1", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) { tmpl.TaskTypeVersion = -1 },
			[]string{"task_type_version", `"-1"`}},
		{"negative worker replicas", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: -3}, nil))
		}, []string{"workerReplicas", `"-3"`}},
		{"negative v0 workers", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.TaskTypeVersion = 0
			tmpl.Custom = kittest.Struct(t, p.v0(-1))
		}, []string{"orkers", `"-1"`}},
		{"negative backoff limit", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1}, &kfplugins.RunPolicy{BackoffLimit: -1}))
		}, []string{"runPolicy.backoffLimit", `"-1"`}},
		{"negative TTL", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1}, &kfplugins.RunPolicy{TtlSecondsAfterFinished: -60}))
		}, []string{"runPolicy.ttlSecondsAfterFinished", `"-60"`}},
		{"negative active deadline", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1}, &kfplugins.RunPolicy{ActiveDeadlineSeconds: -5}))
		}, []string{"runPolicy.activeDeadlineSeconds", `"-5"`}},
		{"clean-pod policy 42", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1}, &kfplugins.RunPolicy{CleanPodPolicy: 42}))
		}, []string{"runPolicy.cleanPodPolicy", "42"}},
		{"restart policy 42", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1, RestartPolicy: 42}, nil))
		}, []string{"workerReplicas.restartPolicy", "42"}},
		{"bad cpu quantity", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1, Resources: res("two", "1Gi")}, nil))
		}, []string{"workerReplicas.resources.requests.cpu", `"two"`}},
		{"bad memory limit", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1, Resources: &core.Resources{
				Limits: []*core.Resources_ResourceEntry{{Name: core.Resources_MEMORY, Value: "1Qi"}},
			}}, nil))
		}, []string{"workerReplicas.resources.limits.memory", `"1Qi"`}},
		{"negative gpu", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = kittest.Struct(t, p.v1(&plugins.CommonReplicaSpec{Replicas: 1, Resources: &core.Resources{
				Limits: []*core.Resources_ResourceEntry{{Name: core.Resources_GPU, Value: "-1"}},
			}}, nil))
		}, []string{"workerReplicas.resources.limits.gpu", `"-1"`}},
		{"v1 workers as a string", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = &structpb.Struct{Fields: map[string]*structpb.Value{"workerReplicas": structpb.NewStringValue("four")}}
		}, []string{"custom", "four"}},
		{"v0 workers as a string", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.TaskTypeVersion = 0
			tmpl.Custom = &structpb.Struct{Fields: map[string]*structpb.Value{"workers": structpb.NewStringValue("four"), "numWorkers": structpb.NewStringValue("four")}}
		}, []string{"custom", "four"}},
		{"replicas as a fraction", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) {
			tmpl.Custom = &structpb.Struct{Fields: map[string]*structpb.Value{"workerReplicas": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				"common": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"replicas": structpb.NewNumberValue(1.5)}}),
			}})}}
		}, []string{"custom", "1.5"}},
		{"no custom", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) { tmpl.Custom = nil }, []string{"custom"}},
		{"no container", func(t *testing.T, p plugin, tmpl *core.TaskTemplate) { tmpl.Target = nil }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 2)
				tc.edit(t, p, task.Template)
				obj, err := p.build(t, task)
				require.Error(t, err)
				assert.Nil(t, obj)
				assert.True(t, flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification), "want a BadTaskSpecification, got %v", err)
				for _, s := range tc.want {
					assert.Contains(t, err.Error(), s)
				}
			})
		})
	}
}

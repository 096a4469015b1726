package kit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestMergePodSpec(t *testing.T) {
	q := resource.MustParse
	base := func() *v1.PodSpec {
		return &v1.PodSpec{
			ServiceAccountName: "task-sa",
			SchedulerName:      "platform-scheduler",
			NodeSelector:       map[string]string{"pool": "default", "zone": "a"},
			Tolerations:        []v1.Toleration{{Key: "platform", Operator: v1.TolerationOpExists}},
			// The platform's non-interruptible requirement, as Flyte's pod building adds it.
			Affinity: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{
					{Key: "node-lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"on-demand"}},
				}}},
			}}},
			Volumes: []v1.Volume{{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
			Containers: []v1.Container{{
				Name:    "primary",
				Image:   "task:1",
				Args:    []string{"pyflyte-execute", "--inputs", "s3://in"},
				Command: []string{"/bin/entry"},
				Env:     []v1.EnvVar{{Name: "FLYTE_A", Value: "1"}, {Name: "SHARED", Value: "base"}},
				Ports:   []v1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Resources: v1.ResourceRequirements{
					Requests: v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("1Gi")},
					Limits:   v1.ResourceList{v1.ResourceCPU: q("2")},
				},
				VolumeMounts: []v1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}},
			}},
		}
	}

	onDemand := v1.NodeSelectorRequirement{Key: "node-lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"on-demand"}}
	zoneA := v1.NodeSelectorRequirement{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}
	zoneB := v1.NodeSelectorRequirement{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"b"}}
	tests := []struct {
		name    string
		overlay *v1.PodSpec
		check   func(t *testing.T, got *v1.PodSpec)
	}{
		{
			name:    "empty overlay changes nothing",
			overlay: &v1.PodSpec{},
			check:   func(t *testing.T, got *v1.PodSpec) { assert.Equal(t, base(), got) },
		},
		{
			name: "container env merges by name, overlay wins, no duplicates",
			overlay: &v1.PodSpec{Containers: []v1.Container{{
				Name: "primary",
				Env:  []v1.EnvVar{{Name: "SHARED", Value: "overlay"}, {Name: "NEW", Value: "x"}},
			}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				require.Len(t, got.Containers, 1)
				assert.Equal(t, []v1.EnvVar{{Name: "FLYTE_A", Value: "1"}, {Name: "SHARED", Value: "overlay"}, {Name: "NEW", Value: "x"}}, got.Containers[0].Env)
				assert.Equal(t, "task:1", got.Containers[0].Image, "unset overlay image keeps base")
			},
		},
		{
			name:    "args and command are replaced, never appended",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", Args: []string{"run"}, Command: []string{"/other"}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, []string{"run"}, got.Containers[0].Args)
				assert.Equal(t, []string{"/other"}, got.Containers[0].Command)
			},
		},
		{
			name: "resources merge key by key",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceMemory: q("4Gi"), v1.ResourceEphemeralStorage: q("10Gi")},
				Limits:   v1.ResourceList{"nvidia.com/gpu": q("1")},
			}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				r := got.Containers[0].Resources
				assert.True(t, r.Requests.Cpu().Equal(q("1")))
				assert.True(t, r.Requests.Memory().Equal(q("4Gi")))
				assert.True(t, r.Requests.StorageEphemeral().Equal(q("10Gi")))
				assert.True(t, r.Limits.Cpu().Equal(q("2")))
				gpu := r.Limits["nvidia.com/gpu"]
				assert.True(t, gpu.Equal(q("1")))
			},
		},
		{
			name: "sidecars, init containers, volumes and mounts are added",
			overlay: &v1.PodSpec{
				InitContainers: []v1.Container{{Name: "init", Image: "busybox"}},
				Containers: []v1.Container{
					{Name: "primary", VolumeMounts: []v1.VolumeMount{{Name: "data", MountPath: "/data"}}},
					{Name: "sidecar", Image: "envoy"},
				},
				Volumes: []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "pvc"}}}},
			},
			check: func(t *testing.T, got *v1.PodSpec) {
				require.Len(t, got.Containers, 2)
				assert.Equal(t, "sidecar", got.Containers[1].Name)
				assert.Equal(t, []v1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}, {Name: "data", MountPath: "/data"}}, got.Containers[0].VolumeMounts)
				assert.Len(t, got.Volumes, 2)
				assert.Len(t, got.InitContainers, 1)
			},
		},
		{
			name:    "a volume of the same name is replaced, not duplicated",
			overlay: &v1.PodSpec{Volumes: []v1.Volume{{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{Medium: v1.StorageMediumMemory}}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				require.Len(t, got.Volumes, 1)
				assert.Equal(t, v1.StorageMediumMemory, got.Volumes[0].EmptyDir.Medium)
			},
		},
		{
			name: "tolerations append without exact duplicates",
			overlay: &v1.PodSpec{Tolerations: []v1.Toleration{
				{Key: "platform", Operator: v1.TolerationOpExists},
				{Key: "gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
			}},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, []v1.Toleration{
					{Key: "platform", Operator: v1.TolerationOpExists},
					{Key: "gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
				}, got.Tolerations)
			},
		},
		{
			name:    "maps merge key by key, overlay wins",
			overlay: &v1.PodSpec{NodeSelector: map[string]string{"zone": "b", "gpu": "a100"}},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, map[string]string{"pool": "default", "zone": "b", "gpu": "a100"}, got.NodeSelector)
			},
		},
		{
			name: "scalars the overlay sets win",
			overlay: &v1.PodSpec{
				ServiceAccountName: "custom-sa", PriorityClassName: "high",
				ImagePullSecrets: []v1.LocalObjectReference{{Name: "regcred"}},
				Affinity:         &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{}},
			},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, "custom-sa", got.ServiceAccountName)
				assert.Equal(t, "high", got.PriorityClassName)
				assert.Equal(t, "platform-scheduler", got.SchedulerName)
				assert.Equal(t, []v1.LocalObjectReference{{Name: "regcred"}}, got.ImagePullSecrets)
				assert.NotNil(t, got.Affinity.PodAntiAffinity)
			},
		},
		{
			name: "unnamed ports merge by number and protocol",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", Ports: []v1.ContainerPort{
				{Name: "http", ContainerPort: 9090}, {ContainerPort: 7077}, {ContainerPort: 7077},
			}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, []v1.ContainerPort{{Name: "http", ContainerPort: 9090}, {ContainerPort: 7077}}, got.Containers[0].Ports)
			},
		},
		{
			name: "an overlay request above the base limit raises the limit with it",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: q("3"), v1.ResourceMemory: q("8Gi")},
			}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				r := got.Containers[0].Resources
				assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("3"), v1.ResourceMemory: q("8Gi")}, r.Requests)
				assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("3")}, r.Limits, "cpu limit follows; memory had none")
			},
		},
		{
			name: "an overlay limit below the base request lowers the request",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", Resources: v1.ResourceRequirements{
				Limits: v1.ResourceList{v1.ResourceMemory: q("512Mi"), v1.ResourceCPU: q("4")},
			}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				r := got.Containers[0].Resources
				assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("1"), v1.ResourceMemory: q("512Mi")}, r.Requests)
				assert.Equal(t, v1.ResourceList{v1.ResourceCPU: q("4"), v1.ResourceMemory: q("512Mi")}, r.Limits)
			},
		},
		{
			name: "an overlay setting both keeps exactly what it says",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: q("500m")}, Limits: v1.ResourceList{v1.ResourceCPU: q("750m")},
			}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				r := got.Containers[0].Resources
				assert.Equal(t, q("500m"), r.Requests[v1.ResourceCPU])
				assert.Equal(t, q("750m"), r.Limits[v1.ResourceCPU])
				assert.Equal(t, q("1Gi"), r.Requests[v1.ResourceMemory], "untouched resources stay")
			},
		},
		{
			name: "required node-selector terms are AND-ed with the base's, not OR-ed",
			overlay: &v1.PodSpec{Affinity: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{
					{MatchExpressions: []v1.NodeSelectorRequirement{zoneA}},
					{MatchExpressions: []v1.NodeSelectorRequirement{zoneB, onDemand}},
				}},
			}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, []v1.NodeSelectorTerm{
					{MatchExpressions: []v1.NodeSelectorRequirement{onDemand, zoneA}},
					{MatchExpressions: []v1.NodeSelectorRequirement{onDemand, zoneB}},
				}, got.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms)
			},
		},
		{
			name: "the same volume mounted at two paths keeps both mounts",
			overlay: &v1.PodSpec{Containers: []v1.Container{{Name: "primary", VolumeMounts: []v1.VolumeMount{
				{Name: "scratch", MountPath: "/a"}, {Name: "scratch", MountPath: "/b"},
			}}}},
			check: func(t *testing.T, got *v1.PodSpec) {
				assert.Equal(t, []v1.VolumeMount{{Name: "scratch", MountPath: "/a"}, {Name: "scratch", MountPath: "/b"}}, got.Containers[0].VolumeMounts)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base()
			MergePodSpec(got, tt.overlay)
			tt.check(t, got)
		})
	}
}

func TestMergePodSpecSharesNoMemoryWithOverlay(t *testing.T) {
	base := &v1.PodSpec{Containers: []v1.Container{{Name: "primary"}}}
	overlay := &v1.PodSpec{
		Containers:  []v1.Container{{Name: "side", Args: []string{"a"}}, {Name: "primary", Args: []string{"x"}}},
		Tolerations: []v1.Toleration{{Key: "k"}},
		Affinity:    &v1.Affinity{NodeAffinity: &v1.NodeAffinity{}},
	}
	MergePodSpec(base, overlay)
	overlay.Containers[0].Args[0] = "mutated"
	overlay.Containers[1].Args[0] = "mutated"
	overlay.Tolerations[0].Key = "mutated"
	overlay.Affinity.NodeAffinity = nil
	assert.Equal(t, "a", base.Containers[1].Args[0])
	assert.Equal(t, "x", base.Containers[0].Args[0])
	assert.Equal(t, "k", base.Tolerations[0].Key)
	assert.NotNil(t, base.Affinity.NodeAffinity)
}

func TestMergeNilIsNoop(t *testing.T) {
	MergePodSpec(nil, &v1.PodSpec{})
	MergeContainer(&v1.Container{}, nil)
	assert.Nil(t, MergeMaps(nil, map[string]string{}))
	in := map[string]string{"a": "1"}
	out := MergeMaps(in, map[string]string{"a": "2"})
	assert.Equal(t, "1", in["a"], "inputs are never mutated")
	assert.Equal(t, "2", out["a"])
}

package kit_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

var (
	interruptibleReq    = &v1.NodeSelectorRequirement{Key: "spot", Operator: v1.NodeSelectorOpIn, Values: []string{"true"}}
	nonInterruptibleReq = &v1.NodeSelectorRequirement{Key: "spot", Operator: v1.NodeSelectorOpIn, Values: []string{"false"}}
)

// platforms are platform configs the interruptible derivation must agree
// with Flyte's own pod building on.
func platforms() map[string]*config.K8sPluginConfig {
	return map[string]*config.K8sPluginConfig{
		"bare": {},
		"tolerations and selectors": {
			DefaultTolerations:       []v1.Toleration{{Key: "default", Operator: v1.TolerationOpExists}},
			InterruptibleTolerations: []v1.Toleration{{Key: "spot", Value: "true", Effect: v1.TaintEffectNoSchedule}},
			DefaultNodeSelector:      map[string]string{"pool": "batch"},
			InterruptibleNodeSelector: map[string]string{
				"lifecycle": "spot",
			},
		},
		"both requirements": {
			InterruptibleNodeSelectorRequirement:    interruptibleReq,
			NonInterruptibleNodeSelectorRequirement: nonInterruptibleReq,
		},
		"only interruptible requirement": {InterruptibleNodeSelectorRequirement: interruptibleReq},
		"only non-interruptible requirement": {
			NonInterruptibleNodeSelectorRequirement: nonInterruptibleReq,
		},
		"default affinity with terms": {
			DefaultAffinity: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{
					{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}}},
					{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"b"}}}},
				},
			}}},
			InterruptibleNodeSelectorRequirement:    interruptibleReq,
			NonInterruptibleNodeSelectorRequirement: nonInterruptibleReq,
			InterruptibleTolerations:                []v1.Toleration{{Key: "spot", Operator: v1.TolerationOpExists}},
		},
	}
}

func containerTask() kittest.Task {
	return kittest.Task{
		Template: kittest.ContainerTemplate("spark", nil, "ghcr.io/org/task:1", "pyflyte-execute", "--inputs", "{{.input}}"),
		Resources: &v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")},
		},
		Interruptible: true,
	}
}

// The role pod of an interruptible role must be exactly the pod Flyte builds
// for an interruptible task, though the kit builds the pod only once.
func TestInterruptibleRoleMatchesFlytePodBuilding(t *testing.T) {
	for name, platform := range platforms() {
		t.Run(name, func(t *testing.T) {
			kittest.SetPlatform(t, platform)
			tCtx := kittest.New(containerTask())
			want, _, _, err := flytek8s.ToK8sPodSpec(context.Background(), tCtx)
			require.NoError(t, err)

			taskPod, err := kit.BuildTaskPod(context.Background(), tCtx)
			require.NoError(t, err)
			role, err := taskPod.Role(kit.RoleOptions{Interruptible: true})
			require.NoError(t, err)

			assert.ElementsMatch(t, want.Tolerations, role.Spec.Tolerations)
			want.Tolerations, role.Spec.Tolerations = nil, nil
			if want.Affinity != nil && want.Affinity.NodeAffinity == nil && want.Affinity.PodAffinity == nil && want.Affinity.PodAntiAffinity == nil {
				want.Affinity = nil // Flyte leaves an empty Affinity{} where it had nothing to add
			}
			if role.Spec.Affinity != nil && role.Spec.Affinity.NodeAffinity == nil && role.Spec.Affinity.PodAffinity == nil && role.Spec.Affinity.PodAntiAffinity == nil {
				role.Spec.Affinity = nil
			}
			assert.Equal(t, want, role.Spec)
		})
	}
}

func TestNonInterruptibleRoleMatchesFlytePodBuilding(t *testing.T) {
	for name, platform := range platforms() {
		t.Run(name, func(t *testing.T) {
			kittest.SetPlatform(t, platform)
			task := containerTask()
			task.Interruptible = false
			tCtx := kittest.New(task)
			want, _, _, err := flytek8s.ToK8sPodSpec(context.Background(), tCtx)
			require.NoError(t, err)

			taskPod, err := kit.BuildTaskPod(context.Background(), kittest.New(containerTask()))
			require.NoError(t, err)
			role, err := taskPod.Role(kit.RoleOptions{Interruptible: false})
			require.NoError(t, err)
			assert.Equal(t, want, role.Spec)
		})
	}
}

func TestRoleDoesNotTouchTaskPodOrPlatform(t *testing.T) {
	platform := platforms()["default affinity with terms"]
	kittest.SetPlatform(t, platform)
	before := platform.DefaultAffinity.DeepCopy()
	taskPod, err := kit.BuildTaskPod(context.Background(), kittest.New(containerTask()))
	require.NoError(t, err)
	snapshot := taskPod.Spec.DeepCopy()
	for i := 0; i < 3; i++ {
		_, err := taskPod.Role(kit.RoleOptions{Interruptible: i%2 == 0, PrimaryName: "renamed"})
		require.NoError(t, err)
	}
	assert.Equal(t, snapshot, taskPod.Spec)
	assert.Equal(t, before, platform.DefaultAffinity)
	assert.Equal(t, []string{"true"}, interruptibleReq.Values)
}

func TestRoleRenamesAndMergesOverlay(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{
		DefaultLabels:      map[string]string{"team": "platform", "tier": "default"},
		DefaultAnnotations: map[string]string{"cost-center": "ml"},
	})
	task := containerTask()
	task.Labels = map[string]string{"execution-id": "f8a1b2c3d4", "tier": "execution"}
	taskPod, err := kit.BuildTaskPod(context.Background(), kittest.New(task))
	require.NoError(t, err)

	overlay := &core.K8SPod{
		Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"tier": "overlay"}, Annotations: map[string]string{"note": "x"}},
		PrimaryContainerName: "main",
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{
			{Name: "main", Env: []v1.EnvVar{{Name: "FROM_OVERLAY", Value: "1"}}},
			{Name: "sidecar", Image: "envoy:1"},
		}}),
	}
	role, err := taskPod.Role(kit.RoleOptions{PrimaryName: "ray-head", Overlay: overlay, OverlayField: "custom.headPod"})
	require.NoError(t, err)
	require.Len(t, role.Spec.Containers, 2)
	primary := role.Primary()
	require.NotNil(t, primary)
	assert.Equal(t, "ray-head", primary.Name)
	assert.Equal(t, "ghcr.io/org/task:1", primary.Image)
	assert.Contains(t, primary.Env, v1.EnvVar{Name: "FROM_OVERLAY", Value: "1"})
	assert.Equal(t, []v1.Container{role.Spec.Containers[1]}, role.Sidecars())
	assert.Equal(t, "overlay", role.Labels["tier"])
	assert.Equal(t, "platform", role.Labels["team"])
	assert.Equal(t, "f8a1b2c3d4", role.Labels["execution-id"])
	assert.Equal(t, map[string]string{"cost-center": "ml", "note": "x"}, role.Annotations)
}

func TestRoleRejectsBadOverlay(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	taskPod, err := kit.BuildTaskPod(context.Background(), kittest.New(containerTask()))
	require.NoError(t, err)
	overlay := &core.K8SPod{PodSpec: kittest.ObjStruct(t, map[string]any{
		"containers": []any{map[string]any{"name": "x", "resources": map[string]any{"limits": map[string]any{"cpu": "lots"}}}},
	})}
	_, err = taskPod.Role(kit.RoleOptions{Overlay: overlay, OverlayField: "custom.executorPod"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "BadTaskSpecification")
	assert.Contains(t, err.Error(), "custom.executorPod.podSpec")
}

// A GPU requested only in a role's pod template gets the platform's
// resource tolerations, as one requested by the task does.
func TestOverlayResourcesGetResourceTolerations(t *testing.T) {
	gpuTol := v1.Toleration{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}
	kittest.SetPlatform(t, &config.K8sPluginConfig{ResourceTolerations: map[v1.ResourceName][]v1.Toleration{"nvidia.com/gpu": {gpuTol}}})
	taskPod, err := kit.BuildTaskPod(context.Background(), kittest.New(containerTask()))
	require.NoError(t, err)
	assert.NotContains(t, taskPod.Spec.Tolerations, gpuTol)

	overlay := &core.K8SPod{PrimaryContainerName: "main", PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{{
		Name:      "main",
		Resources: v1.ResourceRequirements{Limits: v1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}},
	}}})}
	role, err := taskPod.Role(kit.RoleOptions{Overlay: overlay, OverlayField: "custom.executorPod"})
	require.NoError(t, err)
	assert.Equal(t, 1, countToleration(role.Spec.Tolerations, gpuTol))

	plain, err := taskPod.Role(kit.RoleOptions{})
	require.NoError(t, err)
	assert.NotContains(t, plain.Spec.Tolerations, gpuTol, "roles without the GPU don't tolerate GPU taints")
}

func countToleration(list []v1.Toleration, t v1.Toleration) int {
	n := 0
	for _, x := range list {
		if x == t {
			n++
		}
	}
	return n
}

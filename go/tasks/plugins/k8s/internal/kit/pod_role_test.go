package kit_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

func roleTaskPod(t *testing.T) *kit.TaskPod {
	t.Helper()
	tCtx := kittest.New(kittest.Task{
		Template: kittest.ContainerTemplate("test", nil, "img:1", "run"),
		Labels:   map[string]string{"exec": "l"},
		Annotations: map[string]string{
			"exec": "a",
		},
	})
	tp, err := kit.BuildTaskPod(context.Background(), tCtx)
	require.NoError(t, err)
	return tp
}

// Customize runs after the rename and before the overlay, so the overlay
// wins over what it sets and sees the role's container name.
func TestRoleCustomizeBeforeOverlay(t *testing.T) {
	tp := roleTaskPod(t)
	overlay := &core.K8SPod{
		PrimaryContainerName: "main",
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			ServiceAccountName: "from-overlay",
			Containers: []v1.Container{{
				Name: "main",
				Env:  []v1.EnvVar{{Name: "ROLE", Value: "overlay"}},
			}},
		}),
	}
	var seen string
	role, err := tp.Role(kit.RoleOptions{
		PrimaryName: "worker",
		Overlay:     overlay,
		Customize: func(p *kit.RolePod) {
			seen = p.Primary().Name
			p.Spec.ServiceAccountName = "from-role"
			p.Spec.PriorityClassName = "role-priority"
			kit.SetEnv(p.Primary(), v1.EnvVar{Name: "ROLE", Value: "role"}, v1.EnvVar{Name: "KEEP", Value: "1"})
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "worker", seen)
	assert.Equal(t, "from-overlay", role.Spec.ServiceAccountName)
	assert.Equal(t, "role-priority", role.Spec.PriorityClassName)
	env := map[string]string{}
	count := map[string]int{}
	for _, e := range role.Primary().Env {
		env[e.Name] = e.Value
		count[e.Name]++
	}
	assert.Equal(t, "overlay", env["ROLE"])
	assert.Equal(t, "1", env["KEEP"])
	assert.Equal(t, 1, count["ROLE"])
	// The task pod is untouched.
	assert.Empty(t, tp.Spec.PriorityClassName)
}

// An overlay that asks for an extended resource gets the platform's
// toleration for it, as the task pod would.
func TestRoleOverlayExtendedResourceTolerations(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{AddTolerationsForExtendedResources: []string{"nvidia.com/gpu"}})
	tp := roleTaskPod(t)
	overlay := &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{{
		Name: tp.PrimaryName,
		Resources: v1.ResourceRequirements{
			Requests: v1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
			Limits:   v1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
		},
	}}})}
	role, err := tp.Role(kit.RoleOptions{Overlay: overlay})
	require.NoError(t, err)
	assert.Contains(t, role.Spec.Tolerations, v1.Toleration{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})

	plain, err := tp.Role(kit.RoleOptions{})
	require.NoError(t, err)
	assert.Empty(t, plain.Spec.Tolerations)
}

func TestTaskPodLabelsAnnotations(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{
		DefaultLabels:      map[string]string{"platform": "l", "exec": "platform"},
		DefaultAnnotations: map[string]string{"platform": "a"},
	})
	tp := roleTaskPod(t)
	labels := tp.Labels()
	assert.Equal(t, "l", labels["platform"])
	assert.Equal(t, "l", labels["exec"], "the execution's labels win over the platform's")
	assert.Equal(t, map[string]string{"platform": "a", "exec": "a"}, tp.Annotations())

	role, err := tp.Role(kit.RoleOptions{})
	require.NoError(t, err)
	assert.Equal(t, role.Labels, labels)
	labels["mutated"] = "x"
	assert.NotContains(t, tp.Labels(), "mutated")
}

package kit_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// One service-account rule for every plugin: config override > the
// execution's run-as account > the task metadata's.
func TestTaskPodServiceAccountRule(t *testing.T) {
	tests := []struct {
		name, metadata, runAs, override, want string
	}{
		{"metadata only", "meta-sa", "", "", "meta-sa"},
		{"run-as wins over metadata", "meta-sa", "run-as-sa", "", "run-as-sa"},
		{"config override wins over run-as", "meta-sa", "run-as-sa", "cfg-sa", "cfg-sa"},
		{"override alone", "", "", "cfg-sa", "cfg-sa"},
		{"none", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := kittest.ContainerTemplate("test", nil, "img:1", "run")
			if tt.runAs != "" {
				tmpl.SecurityContext = &core.SecurityContext{RunAs: &core.Identity{K8SServiceAccount: tt.runAs}}
			}
			tp, err := kit.BuildTaskPod(context.Background(), kittest.New(kittest.Task{Template: tmpl, ServiceAccount: tt.metadata}))
			require.NoError(t, err)
			assert.Equal(t, tt.want, tp.ServiceAccount(tt.override))
			role, err := tp.Role(kit.RoleOptions{PrimaryName: "worker"})
			require.NoError(t, err)
			want := tt.want
			if tt.override != "" {
				want = tp.ServiceAccount("")
			}
			assert.Equal(t, want, role.Spec.ServiceAccountName, "a role pod without override runs as the task pod")
		})
	}
}

// A role overlay written for the task (its container named like the task's
// primary container, no primary_container_name) merges into the role's
// primary container instead of adding an image-less extra container.
func TestRoleOverlayMapsTaskPrimaryName(t *testing.T) {
	tp := roleTaskPod(t)
	overlay := &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
		Containers: []v1.Container{{Name: tp.PrimaryName, Env: []v1.EnvVar{{Name: "FROM_OVERLAY", Value: "1"}}}},
	})}
	role, err := tp.Role(kit.RoleOptions{PrimaryName: "ray-head", Overlay: overlay, OverlayField: "head.k8sPod"})
	require.NoError(t, err)
	require.Len(t, role.Spec.Containers, 1)
	assert.Equal(t, "ray-head", role.Spec.Containers[0].Name)
	assert.Equal(t, "img:1", role.Spec.Containers[0].Image)
	assert.Contains(t, role.Spec.Containers[0].Env, v1.EnvVar{Name: "FROM_OVERLAY", Value: "1"})

	// An overlay that names the role's own container is left alone, and a
	// sidecar with its own image is still added.
	overlay = &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
		Containers: []v1.Container{
			{Name: "ray-head", Env: []v1.EnvVar{{Name: "A", Value: "1"}}},
			{Name: "sidecar", Image: "side:1"},
		},
	})}
	role, err = tp.Role(kit.RoleOptions{PrimaryName: "ray-head", Overlay: overlay, OverlayField: "head.k8sPod"})
	require.NoError(t, err)
	require.Len(t, role.Spec.Containers, 2)
	assert.Equal(t, "ray-head", role.Spec.Containers[0].Name)
	assert.Equal(t, "sidecar", role.Spec.Containers[1].Name)
}

// An overlay container that matches nothing and has no image could never
// run: a BadTaskSpecification that names the container.
func TestRoleOverlayImagelessStrangerIsBadSpec(t *testing.T) {
	tp := roleTaskPod(t)
	for _, spec := range []*v1.PodSpec{
		{Containers: []v1.Container{{Name: "ray-worker", Env: []v1.EnvVar{{Name: "A", Value: "1"}}}}},
		{InitContainers: []v1.Container{{Name: "setup"}}},
	} {
		_, err := tp.Role(kit.RoleOptions{PrimaryName: "ray-head", Overlay: &core.K8SPod{PodSpec: kittest.ObjStruct(t, spec)}, OverlayField: "head.k8sPod"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "BadTaskSpecification")
		assert.Contains(t, err.Error(), "head.k8sPod.podSpec.")
		name := "ray-worker"
		if len(spec.InitContainers) > 0 {
			name = "setup"
		}
		assert.Contains(t, err.Error(), `"`+name+`"`)
	}
}

func TestLogNameIsUpstreams(t *testing.T) {
	assert.Equal(t, "(Dask Runner Logs)", kit.LogName("Dask Runner Logs"))
	assert.Equal(t, "", kit.LogName(""))
}

package kit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// An env var or volume of the same name is replaced whole: merging the
// one-of inside (value/valueFrom, the volume source) field by field would
// make one Kubernetes rejects.
func TestMergeReplacesOneOfItems(t *testing.T) {
	base := &v1.PodSpec{
		Containers: []v1.Container{{Name: "main", Env: []v1.EnvVar{
			{Name: "IP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "KEEP", Value: "1"},
		}}},
		Volumes: []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
	}
	overlay := &v1.PodSpec{
		Containers: []v1.Container{{Name: "main", Env: []v1.EnvVar{{Name: "IP", Value: "10.0.0.1"}}}},
		Volumes: []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{
			ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cm"}},
		}}},
	}
	kit.MergePodSpec(base, overlay)
	require.Len(t, base.Containers, 1)
	assert.Equal(t, []v1.EnvVar{{Name: "IP", Value: "10.0.0.1"}, {Name: "KEEP", Value: "1"}}, base.Containers[0].Env)
	require.Len(t, base.Volumes, 1)
	assert.Nil(t, base.Volumes[0].EmptyDir)
	assert.Equal(t, "cm", base.Volumes[0].ConfigMap.Name)

	// The base shares no memory with the overlay afterwards.
	overlay.Volumes[0].ConfigMap.Name = "changed"
	assert.Equal(t, "cm", base.Volumes[0].ConfigMap.Name)
}

package ray

import (
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// headGroup builds the head group. The head is never interruptible: losing
// it loses the cluster and the job.
func headGroup(cfg *Config, taskPod *kit.TaskPod, spec *plugins.HeadGroupSpec, sa string) (rayv1.HeadGroupSpec, error) {
	role, err := taskPod.Role(kit.RoleOptions{
		Interruptible: false,
		PrimaryName:   headContainerName,
		Overlay:       spec.GetK8SPod(),
		OverlayField:  fieldHeadPod,
		Customize: func(p *kit.RolePod) {
			asRayNode(p, fieldEnv("MY_POD_IP", "status.podIP"))
			p.Spec.ServiceAccountName = sa
		},
	})
	if err != nil {
		return rayv1.HeadGroupSpec{}, err
	}
	if err := finishRayPod(role, func() string { return fieldHeadPod }); err != nil {
		return rayv1.HeadGroupSpec{}, err
	}
	addLogsSidecar(cfg.LogsSidecar, role)
	return rayv1.HeadGroupSpec{
		Template:       podTemplate(role),
		ServiceType:    v1.ServiceType(cfg.ServiceType),
		EnableIngress:  new(cfg.EnableIngress),
		RayStartParams: headStartParams(cfg, spec.GetRayStartParams()),
	}, nil
}

// addLogsSidecar adds the config's logs sidecar to the head, reading Ray's
// log directory read-only. It runs after the overlay so it shares the
// directory the head finally mounts at /tmp/ray (the user's volume, if the
// overlay mounts one there) instead of mounting a second volume on the
// same path.
func addLogsSidecar(sidecar *v1.Container, head *kit.RolePod) {
	if sidecar == nil {
		return
	}
	primary := head.Primary()
	var mount v1.VolumeMount
	found := false
	for _, m := range primary.VolumeMounts {
		if m.MountPath == rayStateMountPath {
			mount, found = m, true
			break
		}
	}
	if !found {
		mount = v1.VolumeMount{Name: rayStateVolumeName, MountPath: rayStateMountPath}
		head.Spec.Volumes = append(head.Spec.Volumes, v1.Volume{
			Name:         rayStateVolumeName,
			VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}},
		})
		primary.VolumeMounts = append(primary.VolumeMounts, mount)
	}
	mount.ReadOnly = true

	sc := sidecar.DeepCopy()
	replaced := false
	for i := range sc.VolumeMounts {
		if sc.VolumeMounts[i].MountPath == rayStateMountPath {
			sc.VolumeMounts[i], replaced = mount, true
		}
	}
	if !replaced {
		sc.VolumeMounts = append(sc.VolumeMounts, mount)
	}
	head.Spec.Containers = append(head.Spec.Containers, *sc)
}

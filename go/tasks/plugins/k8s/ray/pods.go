package ray

import (
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// What every Ray node container gets; KubeRay's own defaults.
const (
	headContainerName   = "ray-head"
	workerContainerName = "ray-worker"

	// rayStateMountPath is where Ray writes its logs and state; the logs
	// sidecar reads it.
	rayStateMountPath  = "/tmp/ray"
	rayStateVolumeName = "system-ray-state"
)

// rayPorts are the ports every Ray node declares: GCS (redis), the Ray
// client server and the dashboard. The dashboard port's name is the one
// KubeRay looks for.
func rayPorts() []v1.ContainerPort {
	return []v1.ContainerPort{
		{Name: "redis", ContainerPort: 6379},
		{Name: "head", ContainerPort: 10001},
		{Name: "dashboard", ContainerPort: 8265},
	}
}

// fieldEnv is an env var read from the pod's own fields.
func fieldEnv(name, path string) v1.EnvVar {
	return v1.EnvVar{Name: name, ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: path}}}
}

// resourceEnv is an env var read from the worker container's resources.
func resourceEnv(name, resource string) v1.EnvVar {
	return v1.EnvVar{Name: name, ValueFrom: &v1.EnvVarSource{
		ResourceFieldRef: &v1.ResourceFieldSelector{ContainerName: workerContainerName, Resource: resource},
	}}
}

// primaryContainer is the task pod's primary container, nil if missing.
func primaryContainer(t *kit.TaskPod) *v1.Container {
	for i := range t.Spec.Containers {
		if t.Spec.Containers[i].Name == t.PrimaryName {
			return &t.Spec.Containers[i]
		}
	}
	return nil
}

// asRayNode makes the role's primary container a Ray node: KubeRay writes
// its `ray start` command into command and args, so the task's are cleared
// (they are the job's entrypoint, run by the submitter); the node's env
// and ports are set by name, never duplicated.
func asRayNode(p *kit.RolePod, env ...v1.EnvVar) {
	c := p.Primary()
	if c == nil {
		return
	}
	c.Command, c.Args = nil, nil
	kit.SetEnv(c, env...)
	kit.SetPorts(c, rayPorts()...)
}

// finishRayPod puts the Ray container first, where KubeRay looks for it
// (container 0). field names the group's overlay, only for the error.
func finishRayPod(p *kit.RolePod, field func() string) error {
	if !kit.MoveFirst(p.Spec.Containers, p.PrimaryName) {
		return kit.BadSpec(field(), p.PrimaryName, "the pod has no Ray container")
	}
	return nil
}

// podTemplate wraps a role pod as a pod template.
func podTemplate(p *kit.RolePod) v1.PodTemplateSpec {
	spec := p.Spec
	return v1.PodTemplateSpec{
		ObjectMeta: objectMeta(p.Labels, p.Annotations),
		Spec:       *spec,
	}
}

package ray

import (
	"strconv"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// workerField names worker group i (and a sub-field) in error messages.
func workerField(i int, sub string) string {
	return fieldWorkers + "[" + strconv.Itoa(i) + "]." + sub
}

// validateWorkerGroups rejects worker groups KubeRay cannot run: a missing
// or duplicate group name (KubeRay labels pods with it), negative counts.
func validateWorkerGroups(groups []*plugins.WorkerGroupSpec) error {
	for i, g := range groups {
		if g == nil {
			return kit.BadSpec(workerField(i, "groupName"), "", "the worker group is empty")
		}
		name := g.GetGroupName()
		if name == "" {
			return kit.BadSpec(workerField(i, "groupName"), name, "every worker group needs a name")
		}
		if errs := validation.IsValidLabelValue(name); len(errs) > 0 {
			return kit.BadSpec(workerField(i, "groupName"), name, errs[0])
		}
		for j := 0; j < i; j++ {
			if groups[j].GetGroupName() == name {
				return kit.BadSpecf(workerField(i, "groupName"), name, "group %d has the same name; names must be unique", j)
			}
		}
		for _, n := range []struct {
			field string
			v     int32
		}{{"replicas", g.GetReplicas()}, {"minReplicas", g.GetMinReplicas()}, {"maxReplicas", g.GetMaxReplicas()}} {
			if n.v < 0 {
				return kit.BadSpec(workerField(i, n.field), n.v, "must not be negative")
			}
		}
	}
	return nil
}

// workerEnv is what KubeRay's own worker template sets: resources read
// from the container (memory from memory, not cpu), the pod's name and IP.
func workerEnv() []v1.EnvVar {
	return []v1.EnvVar{
		{Name: "RAY_DISABLE_DOCKER_CPU_WARNING", Value: "1"},
		{Name: "TYPE", Value: "worker"},
		resourceEnv("CPU_REQUEST", "requests.cpu"),
		resourceEnv("CPU_LIMITS", "limits.cpu"),
		resourceEnv("MEMORY_REQUESTS", "requests.memory"),
		resourceEnv("MEMORY_LIMITS", "limits.memory"),
		fieldEnv("MY_POD_NAME", "metadata.name"),
		fieldEnv("MY_POD_IP", "status.podIP"),
	}
}

// workerGroups builds the worker groups (already validated). Workers follow
// the task's interruptible flag: losing one loses work, not the job.
func workerGroups(cfg *Config, taskPod *kit.TaskPod, groups []*plugins.WorkerGroupSpec, sa string, interruptible bool) ([]rayv1.WorkerGroupSpec, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	customize := func(p *kit.RolePod) {
		asRayNode(p, workerEnv()...)
		if c := p.Primary(); c != nil {
			if c.Lifecycle == nil {
				c.Lifecycle = &v1.Lifecycle{}
			}
			c.Lifecycle.PreStop = &v1.LifecycleHandler{
				Exec: &v1.ExecAction{Command: []string{"/bin/sh", "-c", "ray stop"}},
			}
		}
		p.Spec.ServiceAccountName = sa
	}
	out := make([]rayv1.WorkerGroupSpec, 0, len(groups))
	for i, g := range groups {
		opts := kit.RoleOptions{
			Interruptible: interruptible,
			PrimaryName:   workerContainerName,
			Overlay:       g.GetK8SPod(),
			Customize:     customize,
		}
		if opts.Overlay != nil {
			opts.OverlayField = workerField(i, "k8sPod")
		}
		role, err := taskPod.Role(opts)
		if err != nil {
			return nil, err
		}
		if err := finishRayPod(role, func() string { return workerField(i, "k8sPod") }); err != nil {
			return nil, err
		}
		replicas := g.GetReplicas()
		out = append(out, rayv1.WorkerGroupSpec{
			GroupName:      g.GetGroupName(),
			Replicas:       new(replicas),
			MinReplicas:    new(min(g.GetMinReplicas(), replicas)),
			MaxReplicas:    new(max(g.GetMaxReplicas(), replicas)),
			RayStartParams: workerStartParams(cfg, g.GetRayStartParams()),
			Template:       podTemplate(role),
		})
	}
	return out, nil
}

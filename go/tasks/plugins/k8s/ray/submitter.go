package ray

import (
	"sort"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// submitterContainerName is the submitter's container; KubeRay fills its
// command with `ray job submit`.
const submitterContainerName = "ray-job-submitter"

// Submitter resources: KubeRay's own defaults for its submitter. The
// submitter only runs `ray job submit` and follows the logs.
var (
	submitterRequests = v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse("500m"),
		v1.ResourceMemory: resource.MustParse("200Mi"),
	}
	submitterLimits = v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse("1"),
		v1.ResourceMemory: resource.MustParse("1Gi"),
	}
)

// submitterTemplate is the submitter's pod: a small pod of its own, not a
// copy of the task pod (flyteorg/flyte#5666), so it never asks for the
// task's GPUs or lands on their nodes. It runs the task's image (which has
// the Ray CLI) as the task's identity — service account, pull secrets,
// scheduler, priority, DNS, pod security context — and is placed by the
// platform's defaults (tolerations, node selector, affinity) as a
// non-interruptible pod: losing it fails the job.
func submitterTemplate(taskPod *kit.TaskPod, image, sa string) *v1.PodTemplateSpec {
	platform := config.GetK8sPluginConfig()
	task := taskPod.Spec
	spec := v1.PodSpec{
		RestartPolicy:      v1.RestartPolicyNever,
		ServiceAccountName: sa,
		SchedulerName:      task.SchedulerName,
		PriorityClassName:  task.PriorityClassName,
		DNSPolicy:          task.DNSPolicy,
		DNSConfig:          task.DNSConfig.DeepCopy(),
		SecurityContext:    task.SecurityContext.DeepCopy(),
		NodeSelector:       kit.MergeMaps(platform.DefaultNodeSelector),
		Containers: []v1.Container{{
			Name:  submitterContainerName,
			Image: image,
			Env:   platformEnv(platform.DefaultEnvVars),
			Resources: v1.ResourceRequirements{
				Requests: submitterRequests.DeepCopy(),
				Limits:   submitterLimits.DeepCopy(),
			},
			SecurityContext: platform.DefaultSecurityContext.DeepCopy(),
		}},
	}
	if len(task.ImagePullSecrets) > 0 {
		spec.ImagePullSecrets = append([]v1.LocalObjectReference(nil), task.ImagePullSecrets...)
	}
	if len(platform.DefaultTolerations) > 0 {
		spec.Tolerations = make([]v1.Toleration, len(platform.DefaultTolerations))
		for i := range platform.DefaultTolerations {
			platform.DefaultTolerations[i].DeepCopyInto(&spec.Tolerations[i])
		}
	}
	spec.Affinity = platform.DefaultAffinity.DeepCopy()
	if req := platform.NonInterruptibleNodeSelectorRequirement; req != nil {
		if spec.Affinity == nil {
			spec.Affinity = &v1.Affinity{}
		}
		flytek8s.AddRequiredNodeSelectorRequirements(spec.Affinity, *req.DeepCopy())
	}
	return &v1.PodTemplateSpec{
		ObjectMeta: objectMeta(taskPod.Labels(), taskPod.Annotations()),
		Spec:       spec,
	}
}

// platformEnv is the platform's default env, sorted for a stable pod.
func platformEnv(vars map[string]string) []v1.EnvVar {
	if len(vars) == 0 {
		return nil
	}
	out := make([]v1.EnvVar, 0, len(vars))
	for k, v := range vars {
		out = append(out, v1.EnvVar{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// objectMeta is pod-template metadata with just labels and annotations.
func objectMeta(labels, annotations map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Labels: labels, Annotations: annotations}
}

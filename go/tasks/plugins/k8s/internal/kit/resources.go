package kit

import (
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// CustomResources turns a role's resources from the custom proto into
// Kubernetes requirements the way Flyte treats a container's: requests
// default to limits and limits to requests, missing cpu and memory come from
// the platform defaults, and the platform limits clamp everything. It
// returns nil when the proto sets nothing, so the role keeps the task's.
func CustomResources(field string, res *core.Resources, meta pluginsCore.TaskExecutionMetadata) (*v1.ResourceRequirements, error) {
	if len(res.GetRequests()) == 0 && len(res.GetLimits()) == 0 {
		return nil, nil
	}
	requests, err := resourceList(field+".requests", res.GetRequests())
	if err != nil {
		return nil, err
	}
	limits, err := resourceList(field+".limits", res.GetLimits())
	if err != nil {
		return nil, err
	}
	if len(requests) == 0 && len(limits) == 0 {
		return nil, nil
	}
	// ApplyResourceOverrides writes missing defaults into the platform
	// requests it is given; hand it a copy so the shared value stays as is.
	platform := v1.ResourceRequirements{}
	if p := meta.GetPlatformResources(); p != nil {
		platform = *p.DeepCopy()
	}
	out := flytek8s.ApplyResourceOverrides(v1.ResourceRequirements{Requests: requests, Limits: limits}, platform, true)
	return &out, nil
}

// resourceList parses resource entries as Flyte does for a task's container
// (cpu, memory, gpu as nvidia.com/gpu, ephemeral storage; zero means unset),
// but names the entry and the value when a quantity is bad.
func resourceList(field string, entries []*core.Resources_ResourceEntry) (v1.ResourceList, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	out := make(v1.ResourceList, len(entries))
	for _, e := range entries {
		name, ok := resourceNames[e.GetName()]
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(e.GetValue())
		if err != nil {
			return nil, BadSpec(field+"."+strings.ToLower(e.GetName().String()), e.GetValue(), "not a Kubernetes quantity")
		}
		if q.Sign() < 0 {
			return nil, BadSpec(field+"."+strings.ToLower(e.GetName().String()), e.GetValue(), "a resource cannot be negative")
		}
		if !q.IsZero() {
			out[name] = q
		}
	}
	return out, nil
}

var resourceNames = map[core.Resources_ResourceName]v1.ResourceName{
	core.Resources_CPU:               v1.ResourceCPU,
	core.Resources_MEMORY:            v1.ResourceMemory,
	core.Resources_GPU:               flytek8s.ResourceNvidiaGPU,
	core.Resources_EPHEMERAL_STORAGE: v1.ResourceEphemeralStorage,
}

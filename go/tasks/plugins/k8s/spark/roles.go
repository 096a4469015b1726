package spark

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// This file turns a role's pod (driver or executors) into the operator's
// SparkPodSpec.

// serviceAccount is the role's service account: one its pod template set,
// else the task's (its security context's, then propeller's), else "spark".
func serviceAccount(meta pluginsCore.TaskExecutionMetadata, task *kit.TaskPod, role *kit.RolePod) string {
	if sa := role.Spec.ServiceAccountName; sa != "" && sa != task.Spec.ServiceAccountName {
		return sa
	}
	if sa := flytek8s.GetServiceAccountNameFromTaskExecutionMetadata(meta); sa != "" {
		return sa
	}
	return defaultServiceAccount
}

// roleSpec is what a role pod becomes in the SparkApplication: the shared
// SparkPodSpec and the fields DriverSpec and ExecutorSpec each add.
type roleSpec struct {
	pod         *sparkv1beta2.SparkPodSpec
	coreRequest *string
	ports       []sparkv1beta2.Port
	lifecycle   *v1.Lifecycle
}

// podSpec turns a role pod into the operator's SparkPodSpec. Fields the
// operator has a first-class field for go there (its webhook applies them);
// what it has none for travels in the role's pod template (templateFor).
func podSpec(role *kit.RolePod, keys roleKeys, conf map[string]string, sa string, maxAttempts uint32) roleSpec {
	primary := role.Primary()
	spec := role.Spec
	env := make([]v1.EnvVar, len(primary.Env), len(primary.Env)+1)
	copy(env, primary.Env)
	// Set by name: a pod template that sets it too does not get it twice.
	env = kit.WithEnv(env, v1.EnvVar{Name: "FLYTE_MAX_ATTEMPTS", Value: strconv.FormatUint(uint64(maxAttempts), 10)})

	out := &sparkv1beta2.SparkPodSpec{
		Image:                         strPtr(primary.Image),
		Env:                           env,
		EnvFrom:                       primary.EnvFrom,
		Labels:                        role.Labels,
		Annotations:                   role.Annotations,
		VolumeMounts:                  primary.VolumeMounts,
		Affinity:                      nonEmptyAffinity(spec.Affinity),
		Tolerations:                   spec.Tolerations,
		PodSecurityContext:            spec.SecurityContext,
		SecurityContext:               primary.SecurityContext,
		SchedulerName:                 strPtr(spec.SchedulerName),
		Sidecars:                      role.Sidecars(),
		InitContainers:                spec.InitContainers,
		HostNetwork:                   ptr(spec.HostNetwork),
		NodeSelector:                  spec.NodeSelector,
		DNSConfig:                     spec.DNSConfig,
		TerminationGracePeriodSeconds: spec.TerminationGracePeriodSeconds,
		ServiceAccount:                strPtr(sa),
		HostAliases:                   spec.HostAliases,
		ShareProcessNamespace:         spec.ShareProcessNamespace,
	}
	r := roleSpec{pod: out, coreRequest: strPtr(conf[keys.request]), lifecycle: primary.Lifecycle}
	for _, p := range primary.Ports {
		r.ports = append(r.ports, sparkv1beta2.Port{Name: p.Name, Protocol: string(p.Protocol), ContainerPort: p.ContainerPort})
	}

	res := primary.Resources
	if c, ok := conf[keys.cores]; ok {
		out.Cores = parseCores(c)
	} else if q, ok := firstQuantity(res, v1.ResourceCPU); ok {
		out.Cores = ptr(int32(max(1, math.Ceil(q.AsApproximateFloat64()))))
		// Spark's cores are whole; a fractional cpu (500m) would become a
		// request of 1 above its 500m limit, a pod Kubernetes rejects. The
		// request keeps the exact amount.
		if r.coreRequest == nil && q.MilliValue()%1000 != 0 {
			r.coreRequest = strPtr(q.String())
		}
	}
	if l := conf[keys.limit]; l != "" {
		out.CoreLimit = &l
	} else if q, ok := res.Limits[v1.ResourceCPU]; ok {
		out.CoreLimit = strPtr(q.String())
	}
	if m := conf[keys.memory]; m != "" {
		out.Memory = &m
	} else if q, ok := firstQuantity(res, v1.ResourceMemory); ok {
		out.Memory = strPtr(sparkMemory(q))
	}
	if name, q, ok := gpu(res); ok {
		out.GPU = &sparkv1beta2.GPUSpec{Name: name, Quantity: q}
	}
	out.Template = templateFor(role, keys.container)
	return r
}

// templateFor is the role's pod template: what a user or the platform set
// that the operator has no field for, so that it still reaches the pod —
// the primary container's full resources (ephemeral storage, other
// extended resources) and probes, volumes only a sidecar or init container
// mounts (the operator adds just those the primary container mounts), and
// pod settings such as topology spread constraints or the runtime class.
// Nil when there is nothing to carry.
func templateFor(role *kit.RolePod, container string) *v1.PodTemplateSpec {
	primary := role.Primary()
	spec := role.Spec
	c := v1.Container{
		Name:           container,
		Resources:      primary.Resources,
		LivenessProbe:  primary.LivenessProbe,
		ReadinessProbe: primary.ReadinessProbe,
		StartupProbe:   primary.StartupProbe,
		WorkingDir:     primary.WorkingDir,
	}
	t := v1.PodSpec{
		Volumes:                      sidecarOnlyVolumes(role),
		DNSPolicy:                    spec.DNSPolicy,
		RuntimeClassName:             spec.RuntimeClassName,
		TopologySpreadConstraints:    spec.TopologySpreadConstraints,
		AutomountServiceAccountToken: spec.AutomountServiceAccountToken,
		EnableServiceLinks:           spec.EnableServiceLinks,
		HostPID:                      spec.HostPID,
		HostIPC:                      spec.HostIPC,
		ReadinessGates:               spec.ReadinessGates,
		SchedulingGates:              spec.SchedulingGates,
		OS:                           spec.OS,
		HostUsers:                    spec.HostUsers,
		ActiveDeadlineSeconds:        spec.ActiveDeadlineSeconds,
	}
	if reflect.DeepEqual(c, v1.Container{Name: container}) && reflect.ValueOf(t).IsZero() {
		return nil
	}
	// Always the named container: the operator tells Spark to take it as
	// the driver's (or executors') container, as its own default template
	// does.
	t.Containers = []v1.Container{c}
	return &v1.PodTemplateSpec{Spec: t}
}

// sidecarOnlyVolumes are the role's volumes that its sidecars or init
// containers mount but its primary container does not.
func sidecarOnlyVolumes(role *kit.RolePod) []v1.Volume {
	primary := role.Primary()
	var out []v1.Volume
	for _, vol := range role.Spec.Volumes {
		if mounts(primary, vol.Name) {
			continue
		}
		for _, cs := range [][]v1.Container{role.Spec.Containers, role.Spec.InitContainers} {
			if slices.ContainsFunc(cs, func(c v1.Container) bool { return c.Name != primary.Name && mounts(&c, vol.Name) }) {
				out = append(out, vol)
				break
			}
		}
	}
	return out
}

func mounts(c *v1.Container, volume string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(m v1.VolumeMount) bool { return m.Name == volume })
}

// nonEmptyAffinity drops the empty Affinity{} Flyte's pod building leaves
// when the platform has no node-affinity rules.
func nonEmptyAffinity(a *v1.Affinity) *v1.Affinity {
	if a == nil || (a.NodeAffinity == nil && a.PodAffinity == nil && a.PodAntiAffinity == nil) {
		return nil
	}
	return a
}

// firstQuantity reads a resource from requests, else limits.
func firstQuantity(res v1.ResourceRequirements, name v1.ResourceName) (resource.Quantity, bool) {
	if q, ok := res.Requests[name]; ok {
		return q, true
	}
	q, ok := res.Limits[name]
	return q, ok
}

// sparkMemory renders a quantity in Spark's unit syntax (mebibytes), which
// does not accept Kubernetes suffixes such as "Gi".
func sparkMemory(q resource.Quantity) string {
	mib := (q.Value() + (1<<20 - 1)) >> 20
	return strconv.FormatInt(max(mib, 1), 10) + "m"
}

// gpu finds a GPU resource in the limits (GPUs cannot be overcommitted, so
// their limit is what the pod gets).
func gpu(res v1.ResourceRequirements) (string, int64, bool) {
	for name, q := range res.Limits {
		if strings.HasSuffix(string(name), "/gpu") {
			return string(name), q.Value(), true
		}
	}
	return "", 0, false
}

// parseCores reads spark.{driver,executor}.cores; the operator's field is a
// whole number of cores, so a fractional value rounds up.
func parseCores(s string) *int32 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > math.MaxInt32 {
		return nil
	}
	return ptr(int32(math.Ceil(f)))
}

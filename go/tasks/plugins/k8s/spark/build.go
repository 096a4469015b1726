package spark

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Container names Spark looks for in a pod template.
const (
	driverContainerName   = "spark-kubernetes-driver"
	executorContainerName = "spark-kubernetes-executor"
	defaultServiceAccount = "spark"
	// submissionFailureRetries rides out transient submission failures
	// (quota, API hiccups); task failures are retried by Flyte.
	submissionFailureRetries = int32(14)
)

// roleKeys are the names that differ between the driver and the executors.
type roleKeys struct {
	container, cores, limit, memory string
}

var (
	driverRole   = roleKeys{container: driverContainerName, cores: keyDriverCores, limit: keyDriverLimitCores, memory: keyDriverMemory}
	executorRole = roleKeys{container: executorContainerName, cores: keyExecutorCores, limit: keyExecutorLimitCores, memory: keyExecutorMemory}
)

var typeMeta = metav1.TypeMeta{Kind: "SparkApplication", APIVersion: sparkv1beta2.SchemeGroupVersion.String()}

// now is the clock FLYTE_START_TIME reads; tests pin it.
var now = time.Now

// buildApplication turns a task into its SparkApplication.
func buildApplication(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*sparkv1beta2.SparkApplication, error) {
	tmpl, err := tCtx.TaskReader().Read(ctx)
	if err != nil {
		return nil, err
	}
	if tmpl == nil {
		return nil, kit.BadSpec("task template", "", "the task template is missing")
	}
	job := &plugins.SparkJob{}
	if err := kit.UnmarshalCustom(tmpl, job); err != nil {
		return nil, err
	}
	// protojson drops enum names it does not know (so a newer flytekit's
	// fields don't break us); an application type Spark can't run is an error.
	if v, ok := tmpl.GetCustom().GetFields()["applicationType"]; ok {
		if name := v.GetStringValue(); name != "" {
			if _, known := plugins.SparkApplication_Type_value[name]; !known {
				return nil, kit.BadSpec("custom.applicationType", name, "not one of PYTHON, JAVA, SCALA, R")
			}
		}
	}
	if job.GetMainApplicationFile() == "" {
		if job.GetMainClass() == "" {
			return nil, kit.BadSpec("custom.mainApplicationFile", "", "neither mainApplicationFile nor mainClass is set; Spark needs one to start")
		}
		// spark-operator v2's schema requires the application file, so the
		// API server would refuse the application anyway; say so here.
		return nil, kit.BadSpecf("custom.mainApplicationFile", "", "spark-operator v2 requires the file that holds mainClass %q (e.g. local:///opt/spark/jars/app.jar)", job.GetMainClass())
	}

	cfg := GetConfig()
	meta := tCtx.TaskExecutionMetadata()
	prefix, err := meta.GetTaskExecutionID().GetGeneratedNameWith(0, maxPodNamePrefix)
	if err != nil {
		return nil, kit.BadSpecf("task execution name", meta.GetTaskExecutionID().GetGeneratedName(), "cannot shorten it to a pod-name prefix: %v", err)
	}
	conf := sparkConf(cfg, job, prefix, now())

	taskPod, err := kit.BuildTaskPod(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	driverPod, err := taskPod.Role(kit.RoleOptions{Interruptible: false, Overlay: job.GetDriverPod(), OverlayField: "custom.driverPod"})
	if err != nil {
		return nil, err
	}
	executorPod, err := taskPod.Role(kit.RoleOptions{Interruptible: meta.IsInterruptible(), Overlay: job.GetExecutorPod(), OverlayField: "custom.executorPod"})
	if err != nil {
		return nil, err
	}

	driverSpec := podSpec(driverPod, driverRole, conf, serviceAccount(meta, taskPod, driverPod), meta.GetMaxAttempts())
	executorSpec := podSpec(executorPod, executorRole, conf, serviceAccount(meta, taskPod, executorPod), meta.GetMaxAttempts())

	executor := executorPod.Primary()
	app := &sparkv1beta2.SparkApplication{
		TypeMeta: typeMeta,
		Spec: sparkv1beta2.SparkApplicationSpec{
			Type:       applicationType(job.GetApplicationType()),
			Mode:       sparkv1beta2.DeployModeCluster,
			Image:      strPtr(executor.Image),
			Arguments:  executor.Args,
			SparkConf:  conf,
			HadoopConf: job.GetHadoopConf(),
			Driver: sparkv1beta2.DriverSpec{
				SparkPodSpec:      *driverSpec,
				CoreRequest:       strPtr(conf[keyDriverRequestCores]),
				PriorityClassName: strPtr(driverPod.Spec.PriorityClassName),
			},
			Executor: sparkv1beta2.ExecutorSpec{
				SparkPodSpec:      *executorSpec,
				Instances:         executorInstances(conf),
				CoreRequest:       strPtr(conf[keyExecutorRequestCores]),
				PriorityClassName: strPtr(executorPod.Spec.PriorityClassName),
			},
			Volumes:          unionVolumes(driverPod.Spec.Volumes, executorPod.Spec.Volumes),
			ImagePullSecrets: unionPullSecrets(driverPod.Spec.ImagePullSecrets, executorPod.Spec.ImagePullSecrets),
			RestartPolicy: sparkv1beta2.RestartPolicy{
				Type:                       sparkv1beta2.RestartPolicyOnFailure,
				OnSubmissionFailureRetries: ptr(submissionFailureRetries),
			},
			MainApplicationFile: strPtr(job.GetMainApplicationFile()),
			MainClass:           strPtr(job.GetMainClass()),
		},
	}
	if s, ok := conf[keyBatchScheduler]; ok && s != "" {
		app.Spec.BatchScheduler = &s
		queue, prio := conf[keyBatchSchedulerQueue], conf[keyBatchSchedulerPriority]
		if queue != "" || prio != "" {
			app.Spec.BatchSchedulerOptions = &sparkv1beta2.BatchSchedulerConfiguration{Queue: strPtr(queue), PriorityClassName: strPtr(prio)}
		}
	}
	return app, nil
}

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

// podSpec turns a role pod into the operator's SparkPodSpec. Fields the
// operator has a first-class field for go there (its webhook applies them);
// the primary container's full resources also travel in a pod template so
// what Spark's own conf cannot say (ephemeral storage, other extended
// resources) still reaches the pod.
func podSpec(role *kit.RolePod, keys roleKeys, conf map[string]string, sa string, maxAttempts uint32) *sparkv1beta2.SparkPodSpec {
	primary := role.Primary()
	spec := role.Spec
	env := make([]v1.EnvVar, len(primary.Env), len(primary.Env)+1)
	copy(env, primary.Env)
	env = append(env, v1.EnvVar{Name: "FLYTE_MAX_ATTEMPTS", Value: strconv.FormatUint(uint64(maxAttempts), 10)})

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

	res := primary.Resources
	if c, ok := conf[keys.cores]; ok {
		out.Cores = parseCores(c)
	} else if q, ok := firstQuantity(res, v1.ResourceCPU); ok {
		out.Cores = ptr(int32(max(1, math.Ceil(q.AsApproximateFloat64()))))
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
	if len(res.Limits) > 0 || len(res.Requests) > 0 || len(res.Claims) > 0 {
		out.Template = &v1.PodTemplateSpec{Spec: v1.PodSpec{Containers: []v1.Container{{Name: keys.container, Resources: res}}}}
	}
	return out
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

// executorInstances reads spark.executor.instances for the operator's
// field, whose minimum is 1. A smaller count (0 with dynamic allocation)
// stays only in the spark conf, where Spark reads it.
func executorInstances(conf map[string]string) *int32 {
	n, err := strconv.ParseInt(strings.TrimSpace(conf[keyExecutorInstances]), 10, 32)
	if err != nil || n < 1 {
		return nil
	}
	return ptr(int32(n))
}

func unionVolumes(a, b []v1.Volume) []v1.Volume {
	if len(b) == 0 {
		return a
	}
	out := append(make([]v1.Volume, 0, len(a)+len(b)), a...)
	for _, v := range b {
		if !containsVolume(out, v.Name) {
			out = append(out, v)
		}
	}
	return out
}

func containsVolume(vs []v1.Volume, name string) bool {
	for i := range vs {
		if vs[i].Name == name {
			return true
		}
	}
	return false
}

func unionPullSecrets(lists ...[]v1.LocalObjectReference) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s.Name != "" && !containsString(out, s.Name) {
				out = append(out, s.Name)
			}
		}
	}
	return out
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func applicationType(t plugins.SparkApplication_Type) sparkv1beta2.SparkApplicationType {
	switch t {
	case plugins.SparkApplication_JAVA:
		return sparkv1beta2.SparkApplicationTypeJava
	case plugins.SparkApplication_SCALA:
		return sparkv1beta2.SparkApplicationTypeScala
	case plugins.SparkApplication_R:
		return sparkv1beta2.SparkApplicationTypeR
	default:
		return sparkv1beta2.SparkApplicationTypePython
	}
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptr[T any](v T) *T { return &v }

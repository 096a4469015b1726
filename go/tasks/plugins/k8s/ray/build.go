package ray

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	yamlv2 "go.yaml.in/yaml/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// `ray start` parameters the plugin fills when the task's (or the config's)
// parameters lack them.
const (
	paramIncludeDashboard  = "include-dashboard"
	paramNodeIPAddress     = "node-ip-address"
	paramDashboardHost     = "dashboard-host"
	paramDisableUsageStats = "disable-usage-stats"
)

// Field names of the custom proto, as error messages name them.
const (
	fieldCluster    = "rayCluster"
	fieldHeadPod    = "rayCluster.headGroupSpec.k8sPod"
	fieldWorkers    = "rayCluster.workerGroupSpec"
	fieldAutoscaler = "rayCluster.autoscalerOptions"
	fieldRuntimeEnv = "runtimeEnv"
	fieldEnvYAML    = "runtimeEnvYaml"
	fieldTTL        = "ttlSecondsAfterFinished"
)

var typeMeta = metav1.TypeMeta{Kind: "RayJob", APIVersion: rayv1.SchemeGroupVersion.String()}

// buildRayJob turns a task into its RayJob. Everything that can be checked
// without building pods is checked first, so bad input fails cheaply.
func buildRayJob(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*rayv1.RayJob, error) {
	tmpl, err := kit.ReadTemplate(ctx, tCtx.TaskReader())
	if err != nil {
		return nil, err
	}
	job := &plugins.RayJob{}
	if err := kit.UnmarshalCustom(tmpl, job); err != nil {
		return nil, err
	}
	cfg := GetConfig()
	cluster := job.GetRayCluster()

	runtimeEnv, err := runtimeEnvYAML(job)
	if err != nil {
		return nil, err
	}
	shutdown, ttl, err := shutdownPolicy(cfg, job)
	if err != nil {
		return nil, err
	}
	autoscaler, err := autoscalerOptions(cluster.GetAutoscalerOptions())
	if err != nil {
		return nil, err
	}
	if err := validateWorkerGroups(cluster.GetWorkerGroupSpec()); err != nil {
		return nil, err
	}

	taskPod, err := kit.BuildTaskPod(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	primary := primaryContainer(taskPod)
	if primary == nil {
		return nil, kit.BadSpec("task container", taskPod.PrimaryName, "the task pod has no primary container")
	}
	entrypoint := shellJoin(primary.Command, primary.Args)
	sa := taskPod.ServiceAccount(cfg.ServiceAccount)

	head, err := headGroup(cfg, taskPod, cluster.GetHeadGroupSpec(), sa)
	if err != nil {
		return nil, err
	}
	workers, err := workerGroups(cfg, taskPod, cluster.GetWorkerGroupSpec(), sa, tCtx.TaskExecutionMetadata().IsInterruptible())
	if err != nil {
		return nil, err
	}
	submitter := submitterTemplate(taskPod, primary.Image, sa)

	return &rayv1.RayJob{
		TypeMeta: typeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Labels:      kit.MergeMaps(taskPod.Meta.GetLabels()),
			Annotations: kit.MergeMaps(taskPod.Meta.GetAnnotations()),
		},
		Spec: rayv1.RayJobSpec{
			ActiveDeadlineSeconds: activeDeadline(tmpl),
			RayClusterSpec: &rayv1.RayClusterSpec{
				HeadGroupSpec:           head,
				WorkerGroupSpecs:        workers,
				EnableInTreeAutoscaling: new(cluster.GetEnableAutoscaling()),
				AutoscalerOptions:       autoscaler,
			},
			SubmitterPodTemplate:     submitter,
			Entrypoint:               entrypoint,
			RuntimeEnvYAML:           runtimeEnv,
			ShutdownAfterJobFinishes: shutdown,
			TTLSecondsAfterFinished:  ttl,
		},
	}, nil
}

// startParams is a group's `ray start` parameters: the task's, else the
// config's defaults, copied so neither is ever written to. Usage stats
// follow enableUsageStats: off, every node gets disable-usage-stats; on,
// the default parameters' disable-usage-stats (upstream's defaults carry
// one) is dropped, so turning the switch on is enough — a task that sets
// the parameter itself keeps it.
func startParams(cfg *Config, task, defaults map[string]string, extra int) map[string]string {
	src := task
	if len(src) == 0 {
		src = defaults
	}
	out := make(map[string]string, len(src)+extra)
	for k, v := range src {
		out[k] = v
	}
	if !cfg.EnableUsageStats {
		setDefault(out, paramDisableUsageStats, "true")
	} else if len(task) == 0 {
		delete(out, paramDisableUsageStats)
	}
	return out
}

// setDefault sets key unless params has it (or value is empty).
func setDefault(params map[string]string, key, value string) {
	if value == "" {
		return
	}
	if _, ok := params[key]; !ok {
		params[key] = value
	}
}

// headStartParams are the head's `ray start` parameters.
func headStartParams(cfg *Config, task map[string]string) map[string]string {
	params := startParams(cfg, task, cfg.Defaults.HeadNode.StartParameters, 4)
	setDefault(params, paramIncludeDashboard, strconv.FormatBool(cfg.IncludeDashboard))
	setDefault(params, paramNodeIPAddress, cfg.headIPAddress())
	setDefault(params, paramDashboardHost, cfg.DashboardHost)
	return params
}

// workerStartParams are a worker group's `ray start` parameters.
func workerStartParams(cfg *Config, task map[string]string) map[string]string {
	params := startParams(cfg, task, cfg.Defaults.WorkerNode.StartParameters, 2)
	setDefault(params, paramNodeIPAddress, cfg.workerIPAddress())
	return params
}

// runtimeEnvYAML is the job's runtime environment as KubeRay takes it:
// runtime_env_yaml as written (checked to be a YAML mapping, as KubeRay
// requires), else the deprecated base64 JSON runtime_env converted to YAML
// with sorted keys.
func runtimeEnvYAML(job *plugins.RayJob) (string, error) {
	if y := job.GetRuntimeEnvYaml(); y != "" {
		var env any
		if err := yamlv2.Unmarshal([]byte(y), &env); err != nil {
			return "", kit.BadSpec(fieldEnvYAML, y, "not YAML: "+err.Error())
		}
		if _, ok := env.(map[any]any); !ok && env != nil {
			return "", kit.BadSpecf(fieldEnvYAML, y, "a runtime environment is a YAML mapping, not %T", env)
		}
		return y, nil
	}
	encoded := job.GetRuntimeEnv()
	if encoded == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", kit.BadSpec(fieldRuntimeEnv, encoded, "not base64: "+err.Error())
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		return "", kit.BadSpec(fieldRuntimeEnv, string(raw), "not a JSON object: "+err.Error())
	}
	if env == nil {
		return "", nil
	}
	out, err := yaml.Marshal(env)
	if err != nil {
		return "", kit.BadSpec(fieldRuntimeEnv, string(raw), "cannot convert to YAML: "+err.Error())
	}
	return string(out), nil
}

// shutdownPolicy is whether KubeRay deletes the cluster after the job and
// how long it waits. The config decides unless the task sets
// shutdown_after_job_finishes (a proto bool cannot say "off", so false means
// "use the config"). Without shutdown the TTL is 0: KubeRay rejects a TTL
// on a cluster it does not shut down.
func shutdownPolicy(cfg *Config, job *plugins.RayJob) (bool, int32, error) {
	shutdown, ttl := cfg.ShutdownAfterJobFinishes, cfg.TTLSecondsAfterFinished
	if job.GetShutdownAfterJobFinishes() {
		shutdown, ttl = true, job.GetTtlSecondsAfterFinished()
		if ttl < 0 {
			return false, 0, kit.BadSpec(fieldTTL, ttl, "must not be negative")
		}
	}
	if !shutdown || ttl < 0 {
		ttl = 0
	}
	return shutdown, ttl, nil
}

// upscalingModes maps the proto's modes to KubeRay's.
var upscalingModes = map[plugins.AutoscalerOptions_UpscalingMode]rayv1.UpscalingMode{
	plugins.AutoscalerOptions_UPSCALING_MODE_DEFAULT:      "Default",
	plugins.AutoscalerOptions_UPSCALING_MODE_CONSERVATIVE: "Conservative",
	plugins.AutoscalerOptions_UPSCALING_MODE_AGGRESSIVE:   "Aggressive",
}

// autoscalerOptions converts the task's autoscaler options; nil when the
// task sets none.
func autoscalerOptions(o *plugins.AutoscalerOptions) (*rayv1.AutoscalerOptions, error) {
	if o == nil {
		return nil, nil
	}
	out := &rayv1.AutoscalerOptions{}
	switch t := o.GetIdleTimeoutSeconds(); {
	case t < 0:
		return nil, kit.BadSpec(fieldAutoscaler+".idleTimeoutSeconds", t, "must not be negative")
	case t > 0:
		out.IdleTimeoutSeconds = new(t)
	}
	if m := o.GetUpscalingMode(); m != plugins.AutoscalerOptions_UPSCALING_MODE_UNSPECIFIED {
		mode, ok := upscalingModes[m]
		if !ok {
			return nil, kit.BadSpec(fieldAutoscaler+".upscalingMode", m, "unknown upscaling mode")
		}
		out.UpscalingMode = &mode
	}
	if image := o.GetImage(); image != "" {
		out.Image = &image
	}
	if o.GetResources() != nil {
		res, err := flytek8s.ToK8sResourceRequirements(o.GetResources())
		if err != nil {
			return nil, kit.BadSpec(fieldAutoscaler+".resources", o.GetResources(), err.Error())
		}
		out.Resources = res
	}
	if len(o.GetEnv()) > 0 {
		out.Env = flytek8s.ToK8sEnvVar(o.GetEnv())
	}
	return out, nil
}

// activeDeadline is the task's timeout (kit.TimeoutSeconds), so KubeRay
// tears down a job whose cluster never comes up; nil without one.
func activeDeadline(tmpl *core.TaskTemplate) *int32 {
	secs := kit.TimeoutSeconds(tmpl)
	if secs == 0 {
		return nil
	}
	return new(int32(min(secs, math.MaxInt32)))
}

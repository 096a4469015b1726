package spark_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	flyteerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	stderrors "github.com/flyteorg/flyte/flytestdlib/errors"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
)

var (
	spotReq    = v1.NodeSelectorRequirement{Key: "node-lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"spot"}}
	onDemand   = v1.NodeSelectorRequirement{Key: "node-lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"on-demand"}}
	defaultTol = v1.Toleration{Key: "dedicated", Value: "flyte", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}
	spotTol    = v1.Toleration{Key: "spot", Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}
)

// richPlatform is a platform config with every knob Flyte's pod building
// reads turned on.
func richPlatform() *config.K8sPluginConfig {
	runAs := int64(1000)
	hostNetwork := false
	return &config.K8sPluginConfig{
		DefaultTolerations:                      []v1.Toleration{defaultTol},
		InterruptibleTolerations:                []v1.Toleration{spotTol},
		DefaultNodeSelector:                     map[string]string{"pool": "flyte"},
		InterruptibleNodeSelector:               map[string]string{"lifecycle": "spot"},
		InterruptibleNodeSelectorRequirement:    &spotReq,
		NonInterruptibleNodeSelectorRequirement: &onDemand,
		SchedulerName:                           "volcano",
		DefaultPodDNSConfig:                     &v1.PodDNSConfig{Nameservers: []string{"10.0.0.10"}},
		DefaultPodSecurityContext:               &v1.PodSecurityContext{RunAsUser: &runAs},
		DefaultSecurityContext:                  &v1.SecurityContext{RunAsNonRoot: boolPtr(true)},
		EnableHostNetworkingPod:                 &hostNetwork,
		DefaultLabels:                           map[string]string{"team": "data", "managed-by": "flyte"},
		DefaultAnnotations:                      map[string]string{"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
		DefaultEnvVars:                          map[string]string{"PLATFORM_ENV": "prod"},
	}
}

func boolPtr(b bool) *bool { return &b }

func setSpark(t testing.TB, cfg *spark.Config) {
	t.Helper()
	prev := spark.GetConfig()
	require.NoError(t, spark.SetConfig(cfg))
	t.Cleanup(func() { _ = spark.SetConfig(prev) })
}

func env(c []v1.EnvVar, name string) (string, bool) {
	for _, e := range c {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func TestBuildResourceRejectsBadInput(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	badPod := func(field string, v any) func(*core.TaskTemplate) {
		return func(tmpl *core.TaskTemplate) {
			tmpl.Custom.Fields[field] = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				"podSpec": structValue(t, v),
			}})
		}
	}
	tests := []struct {
		name  string
		edit  func(*core.TaskTemplate)
		field string
	}{
		{"missing custom", func(tmpl *core.TaskTemplate) { tmpl.Custom = nil }, "custom"},
		{"custom that is not a SparkJob", func(tmpl *core.TaskTemplate) {
			tmpl.Custom.Fields["sparkConf"] = structpb.NewStringValue("not-a-map")
		}, "custom"},
		{"unknown application type", func(tmpl *core.TaskTemplate) {
			tmpl.Custom.Fields["applicationType"] = structpb.NewStringValue("FORTRAN")
		}, "custom"},
		{"neither mainApplicationFile nor mainClass", func(tmpl *core.TaskTemplate) {
			delete(tmpl.Custom.Fields, "mainApplicationFile")
		}, "custom.mainApplicationFile"},
		{"driver pod spec that is not a pod spec", badPod("driverPod", map[string]any{"containers": "nope"}), "custom.driverPod.podSpec"},
		{"executor pod spec with an unparseable quantity", badPod("executorPod", map[string]any{
			"containers": []any{map[string]any{"name": "primary", "resources": map[string]any{"requests": map[string]any{"memory": "two gigs"}}}},
		}), "custom.executorPod.podSpec"},
		{"task container without a target", func(tmpl *core.TaskTemplate) { tmpl.Target = nil }, "TaskSpecification"},
		{"a volume name the driver and executors define differently", func(tmpl *core.TaskTemplate) {
			for role, source := range map[string]map[string]any{
				"driverPod":   {"emptyDir": map[string]any{}},
				"executorPod": {"persistentVolumeClaim": map[string]any{"claimName": "datasets"}},
			} {
				badPod(role, map[string]any{"containers": []any{}, "volumes": []any{merge(map[string]any{"name": "data"}, source)}})(tmpl)
			}
		}, `custom.executorPod.podSpec.volumes "data"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := pythonTask(t)
			task.Template = cloneTemplate(task.Template)
			tt.edit(task.Template)
			_, err := registered(t).BuildResource(context.Background(), kittest.New(task))
			require.Error(t, err)
			code, ok := stderrors.GetErrorCode(err)
			require.True(t, ok, "error %v carries no Flyte code", err)
			assert.Equal(t, flyteerrors.BadTaskSpecification, code)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func structValue(t testing.TB, v any) *structpb.Value {
	t.Helper()
	val, err := structpb.NewValue(v)
	require.NoError(t, err)
	return val
}

func TestSparkConf(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	setSpark(t, &spark.Config{
		DefaultSparkConfig: map[string]string{
			"spark.ui.enabled":          "false",
			"spark.executor.memory":     "512m",
			"spark.pyspark.python":      "/platform/python",
			"spark.hadoop.fs.s3a.creds": "default",
		},
		Features: []spark.Feature{
			{Name: "s3", SparkConfig: map[string]string{"spark.hadoop.fs.s3a.creds": "irsa", "spark.s3.enabled": "yes"}},
			{Name: "gpu", SparkConfig: map[string]string{"spark.rapids.sql.enabled": "true"}},
		},
	})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.SparkConf["spark.flyte.s3.enabled"] = "true"
		j.SparkConf["spark.flyteorg.gpu.enabled"] = " TRUE "
		j.SparkConf["spark.flyte.missing.enabled"] = "true"
		j.SparkConf["spark.flyte.off.enabled"] = "false"
		j.SparkConf["spark.kubernetes.driver.request.cores"] = "500m"
		j.SparkConf["spark.s3.enabled"] = "task-wins"
	})
	conf := build(t, task).Spec.SparkConf

	assert.Equal(t, "false", conf["spark.ui.enabled"], "platform default applies")
	assert.Equal(t, "2000M", conf["spark.executor.memory"], "the task wins over the default")
	assert.Equal(t, "/usr/bin/python3", conf["spark.pyspark.python"], "executorPath wins over the default")
	assert.Equal(t, "/usr/bin/python3", conf["spark.pyspark.driver.python"])
	assert.Equal(t, "irsa", conf["spark.hadoop.fs.s3a.creds"], "feature s3 expanded")
	assert.Equal(t, "task-wins", conf["spark.s3.enabled"], "the task's explicit key wins over its feature")
	assert.Equal(t, "true", conf["spark.rapids.sql.enabled"], "spark.flyteorg.<name> works too")
	assert.NotContains(t, conf, "spark.flyte.s3.enabled", "an expanded feature key is consumed")
	assert.Equal(t, "true", conf["spark.flyte.missing.enabled"], "unknown features are kept as-is")
	assert.Equal(t, "false", conf["spark.flyte.off.enabled"], "disabled features are kept as-is")
	assert.Equal(t, "500m", conf["spark.kubernetes.driver.limit.cores"], "driver limit from request.cores")
	assert.Equal(t, "2", conf["spark.kubernetes.executor.limit.cores"], "executor limit from spark.executor.cores")
	assert.Equal(t, "f8a1b2c3d4-n0-0", conf["spark.kubernetes.executor.podNamePrefix"])
	assert.Regexp(t, `^\d{13}$`, conf["spark.kubernetes.driverEnv.FLYTE_START_TIME"])
}

func TestSparkConfKeepsExplicitLimitsAndShortensPodNamePrefix(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	setSpark(t, &spark.Config{})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.SparkConf["spark.kubernetes.executor.limit.cores"] = "4"
	})
	task.GeneratedName = strings.Repeat("a", 60) + "-n0-0"
	conf := build(t, task).Spec.SparkConf
	assert.Equal(t, "4", conf["spark.kubernetes.executor.limit.cores"])
	prefix := conf["spark.kubernetes.executor.podNamePrefix"]
	assert.LessOrEqual(t, len(prefix), 47)
	assert.NotEmpty(t, prefix)
}

func TestDefaultSparkConfigIsNeverMutated(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	defaults := map[string]string{"spark.a": "1"}
	setSpark(t, &spark.Config{DefaultSparkConfig: defaults, Features: []spark.Feature{{Name: "f", SparkConfig: map[string]string{"spark.b": "2"}}}})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) { j.SparkConf["spark.flyte.f.enabled"] = "true" })
	app := build(t, task)
	app.Spec.SparkConf["spark.a"] = "changed"
	assert.Equal(t, map[string]string{"spark.a": "1"}, defaults)
	assert.Equal(t, map[string]string{"spark.b": "2"}, spark.GetConfig().Features[0].SparkConfig)
}

func TestApplicationFields(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	setSpark(t, &spark.Config{})
	for _, tc := range []struct {
		typ  plugins.SparkApplication_Type
		want sparkv1beta2.SparkApplicationType
	}{
		{plugins.SparkApplication_PYTHON, sparkv1beta2.SparkApplicationTypePython},
		{plugins.SparkApplication_JAVA, sparkv1beta2.SparkApplicationTypeJava},
		{plugins.SparkApplication_SCALA, sparkv1beta2.SparkApplicationTypeScala},
		{plugins.SparkApplication_R, sparkv1beta2.SparkApplicationTypeR},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
				j.ApplicationType = tc.typ
				j.MainClass = "org.example.Main"
			})
			app := build(t, task)
			assert.Equal(t, tc.want, app.Spec.Type)
			assert.Equal(t, sparkv1beta2.DeployModeCluster, app.Spec.Mode)
			assert.Equal(t, "ghcr.io/org/spark-task:v1", *app.Spec.Image)
			assert.Equal(t, []string{"pyflyte-execute", "--inputs", "mem://inputs/inputs.pb", "--output-prefix", "mem://outputs/f8a1b2c3d4-n0-0"}, app.Spec.Arguments)
			assert.Equal(t, "local:///usr/local/bin/entrypoint.py", *app.Spec.MainApplicationFile)
			assert.Equal(t, "org.example.Main", *app.Spec.MainClass)
			assert.Equal(t, map[string]string{"fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem"}, app.Spec.HadoopConf)
			assert.Equal(t, sparkv1beta2.RestartPolicyOnFailure, app.Spec.RestartPolicy.Type)
			assert.Equal(t, int32(14), *app.Spec.RestartPolicy.OnSubmissionFailureRetries)
			assert.Nil(t, app.Spec.BatchScheduler)
			assert.Equal(t, "SparkApplication", app.Kind)
		})
	}
}

func TestMainClassNeedsItsApplicationFile(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.ApplicationType = plugins.SparkApplication_JAVA
		j.MainApplicationFile = ""
		j.MainClass = "org.example.Main"
	})
	_, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	require.Error(t, err)
	code, _ := stderrors.GetErrorCode(err)
	assert.Equal(t, flyteerrors.BadTaskSpecification, code)
	assert.Contains(t, err.Error(), "custom.mainApplicationFile")
	assert.Contains(t, err.Error(), "org.example.Main")
}

func TestExecutorInstancesBelowOneStayInSparkConf(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	for _, n := range []string{"0", "-1", "many"} {
		task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
			j.SparkConf["spark.executor.instances"] = n
			j.SparkConf["spark.dynamicAllocation.enabled"] = "true"
		})
		app := build(t, task)
		assert.Nil(t, app.Spec.Executor.Instances, "instances %q: the operator's minimum is 1", n)
		assert.Equal(t, n, app.Spec.SparkConf["spark.executor.instances"])
	}
}

func TestBatchScheduler(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.SparkConf["spark.batchScheduler"] = "volcano"
		j.SparkConf["spark.batchScheduler.queue"] = "research"
		j.SparkConf["spark.batchScheduler.priorityClassName"] = "high"
	})
	app := build(t, task)
	require.NotNil(t, app.Spec.BatchScheduler)
	assert.Equal(t, "volcano", *app.Spec.BatchScheduler)
	require.NotNil(t, app.Spec.BatchSchedulerOptions)
	assert.Equal(t, "research", *app.Spec.BatchSchedulerOptions.Queue)
	assert.Equal(t, "high", *app.Spec.BatchSchedulerOptions.PriorityClassName)
}

// Every field of spec.md step 5 on both roles, over a platform with every
// knob set, for an interruptible task.
func TestRolesOverRichPlatform(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	setSpark(t, &spark.Config{})
	task := pythonTask(t)
	task.Interruptible = true
	task.Labels = map[string]string{"execution-id": "f8a1b2c3d4"}
	task.Annotations = map[string]string{"flyte/owner": "alice"}
	app := build(t, task)
	driver, executor := app.Spec.Driver, app.Spec.Executor

	for name, role := range map[string]sparkv1beta2.SparkPodSpec{"driver": driver.SparkPodSpec, "executor": executor.SparkPodSpec} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, "ghcr.io/org/spark-task:v1", *role.Image)
			assert.Equal(t, "volcano", *role.SchedulerName)
			assert.Equal(t, []string{"10.0.0.10"}, role.DNSConfig.Nameservers)
			assert.Equal(t, int64(1000), *role.PodSecurityContext.RunAsUser)
			assert.True(t, *role.SecurityContext.RunAsNonRoot)
			assert.False(t, *role.HostNetwork)
			assert.Equal(t, "task-sa", *role.ServiceAccount)
			assert.Equal(t, "data", role.Labels["team"])
			assert.Equal(t, "f8a1b2c3d4", role.Labels["execution-id"])
			assert.Equal(t, "alice", role.Annotations["flyte/owner"])
			assert.Equal(t, "false", role.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"])
			assert.Equal(t, "flyte", role.NodeSelector["pool"])
			v, ok := env(role.Env, "PLATFORM_ENV")
			assert.True(t, ok)
			assert.Equal(t, "prod", v)
			v, _ = env(role.Env, "FLYTE_MAX_ATTEMPTS")
			assert.Equal(t, "4", v)
			v, _ = env(role.Env, "TASK_ENV")
			assert.Equal(t, "1", v)
			assert.Contains(t, role.Tolerations, defaultTol)
		})
	}

	// The driver never runs on interruptible nodes; executors follow the task.
	assert.NotContains(t, driver.Tolerations, spotTol)
	assert.NotContains(t, driver.NodeSelector, "lifecycle")
	assert.Equal(t, []v1.NodeSelectorRequirement{onDemand}, driver.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions)
	assert.Contains(t, executor.Tolerations, spotTol)
	assert.Equal(t, "spot", executor.NodeSelector["lifecycle"])
	assert.Equal(t, []v1.NodeSelectorRequirement{spotReq}, executor.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions)

	// Cores, limits and memory come from spark conf.
	assert.Equal(t, int32(1), *driver.Cores)
	assert.Equal(t, "1", *driver.CoreLimit)
	assert.Equal(t, "1000M", *driver.Memory)
	assert.Equal(t, int32(2), *executor.Cores)
	assert.Equal(t, "2", *executor.CoreLimit)
	assert.Equal(t, "2000M", *executor.Memory)
	assert.Equal(t, int32(3), *executor.Instances)
}

func TestNonInterruptibleTaskKeepsExecutorsOffSpot(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	app := build(t, pythonTask(t))
	assert.NotContains(t, app.Spec.Executor.Tolerations, spotTol)
	assert.Equal(t, app.Spec.Driver.Affinity, app.Spec.Executor.Affinity)
}

func TestServiceAccountDefaultsToSpark(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := pythonTask(t)
	task.ServiceAccount = ""
	app := build(t, task)
	assert.Equal(t, "spark", *app.Spec.Driver.ServiceAccount)
	assert.Equal(t, "spark", *app.Spec.Executor.ServiceAccount)
}

func TestRoleResourcesWhenSparkConfIsSilent(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) { j.SparkConf = nil })
	task.Resources = &v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1500m"), v1.ResourceMemory: resource.MustParse("3Gi")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("3Gi")},
	}
	app := build(t, task)
	for _, role := range []sparkv1beta2.SparkPodSpec{app.Spec.Driver.SparkPodSpec, app.Spec.Executor.SparkPodSpec} {
		assert.Equal(t, int32(2), *role.Cores, "1.5 cores round up to Spark's whole cores")
		assert.Equal(t, "2", *role.CoreLimit)
		assert.Equal(t, "3072m", *role.Memory)
	}
	assert.Nil(t, app.Spec.Executor.Instances)
}

// A fractional cpu gives Spark whole cores but keeps the exact request, so
// the pod's request never exceeds its limit; cores and memory come from the
// limits when there are no requests.
func TestRoleResourcesFractionalAndLimitsOnly(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	q := resource.MustParse
	for _, tc := range []struct {
		name                   string
		res                    v1.ResourceRequirements
		cores                  int32
		coreRequest, coreLimit string
		memory                 string
	}{
		{"fractional cpu", v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("500m"), v1.ResourceMemory: q("1Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("500m"), v1.ResourceMemory: q("1Gi")},
		}, 1, "500m", "500m", "1024m"},
		{"limits only", v1.ResourceRequirements{
			Limits: v1.ResourceList{v1.ResourceCPU: q("2500m"), v1.ResourceMemory: q("2Gi")},
		}, 3, "2500m", "2500m", "2048m"},
		{"whole cores need no request", v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("1Gi")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("2"), v1.ResourceMemory: q("1Gi")},
		}, 2, "", "2", "1024m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) { j.SparkConf = nil })
			task.Resources = &tc.res
			app := build(t, task)
			for role, r := range map[string]struct {
				spec    sparkv1beta2.SparkPodSpec
				request *string
			}{
				"driver":   {app.Spec.Driver.SparkPodSpec, app.Spec.Driver.CoreRequest},
				"executor": {app.Spec.Executor.SparkPodSpec, app.Spec.Executor.CoreRequest},
			} {
				assert.Equal(t, tc.cores, *r.spec.Cores, role)
				assert.Equal(t, tc.coreLimit, *r.spec.CoreLimit, role)
				assert.Equal(t, tc.memory, *r.spec.Memory, role)
				if tc.coreRequest == "" {
					assert.Nil(t, r.request, role)
				} else {
					require.NotNil(t, r.request, role)
					assert.Equal(t, tc.coreRequest, *r.request, role)
				}
			}
		})
	}
}

// What a role's pod template sets that the operator has no field for still
// reaches the pod: volumes only a sidecar or init container mounts, the
// primary container's ports, lifecycle and probes, and pod settings.
func TestPodTemplateFieldsWithoutAnOperatorField(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	runtimeClass := "gvisor"
	driverPod := &v1.PodSpec{
		RuntimeClassName: &runtimeClass,
		TopologySpreadConstraints: []v1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: v1.ScheduleAnyway,
		}},
		InitContainers: []v1.Container{{Name: "fetch", Image: "busybox", VolumeMounts: []v1.VolumeMount{{Name: "staging", MountPath: "/staging"}}}},
		Containers: []v1.Container{
			{
				Name:           "primary",
				Ports:          []v1.ContainerPort{{Name: "metrics", ContainerPort: 9090, Protocol: v1.ProtocolTCP}},
				Lifecycle:      &v1.Lifecycle{PreStop: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"sleep", "5"}}}},
				ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(4040)}}},
				VolumeMounts:   []v1.VolumeMount{{Name: "cache", MountPath: "/cache"}},
			},
			{Name: "log-shipper", Image: "fluent-bit:3", VolumeMounts: []v1.VolumeMount{{Name: "logs", MountPath: "/logs"}}},
		},
		Volumes: []v1.Volume{
			{Name: "cache", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
			{Name: "logs", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
			{Name: "staging", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
		},
	}
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.DriverPod = &core.K8SPod{PrimaryContainerName: "primary", PodSpec: kittest.ObjStruct(t, driverPod)}
	})
	app := build(t, task)
	d := app.Spec.Driver
	assert.Equal(t, []sparkv1beta2.Port{{Name: "metrics", Protocol: "TCP", ContainerPort: 9090}}, d.Ports)
	assert.Equal(t, driverPod.Containers[0].Lifecycle, d.Lifecycle)
	require.NotNil(t, d.Template)
	tmpl := d.Template.Spec
	names := []string{}
	for _, vol := range tmpl.Volumes {
		names = append(names, vol.Name)
	}
	assert.Equal(t, []string{"logs", "staging"}, names, "the operator adds the volumes the driver container mounts; the template carries the others")
	assert.Equal(t, &runtimeClass, tmpl.RuntimeClassName)
	assert.Equal(t, driverPod.TopologySpreadConstraints, tmpl.TopologySpreadConstraints)
	require.Len(t, tmpl.Containers, 1)
	assert.Equal(t, "spark-kubernetes-driver", tmpl.Containers[0].Name)
	assert.Equal(t, driverPod.Containers[0].ReadinessProbe, tmpl.Containers[0].ReadinessProbe)
	if e := app.Spec.Executor.Template; e != nil {
		assert.Empty(t, e.Spec.Volumes, "the executors mount none of the driver's volumes")
		assert.Nil(t, e.Spec.RuntimeClassName)
	}
	assert.Empty(t, app.Spec.Executor.Ports)
}

// A role's pod template may name its own service account; it wins over the
// task's.
func TestServiceAccountFromARolePodTemplate(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.DriverPod = &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{ServiceAccountName: "driver-sa"})}
	})
	task.ServiceAccount = "task-sa"
	app := build(t, task)
	assert.Equal(t, "driver-sa", *app.Spec.Driver.ServiceAccount)
	assert.Equal(t, "task-sa", *app.Spec.Executor.ServiceAccount)
}

func TestPodTemplatesReachTheirRoles(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	q := resource.MustParse
	driverPod := &v1.PodSpec{
		PriorityClassName: "driver-critical",
		ImagePullSecrets:  []v1.LocalObjectReference{{Name: "regcred"}},
		NodeSelector:      map[string]string{"disk": "ssd"},
		Tolerations:       []v1.Toleration{{Key: "driver-only", Operator: v1.TolerationOpExists}, defaultTol},
		InitContainers:    []v1.Container{{Name: "fetch", Image: "busybox", Args: []string{"wget", "x"}}},
		Containers: []v1.Container{
			{
				Name: "primary",
				Env:  []v1.EnvVar{{Name: "TASK_ENV", Value: "driver-wins"}, {Name: "DRIVER_ONLY", Value: "1"}, {Name: "FLYTE_MAX_ATTEMPTS", Value: "9"}},
				Resources: v1.ResourceRequirements{
					Requests: v1.ResourceList{v1.ResourceEphemeralStorage: q("20Gi")},
					Limits:   v1.ResourceList{v1.ResourceEphemeralStorage: q("20Gi")},
				},
				VolumeMounts: []v1.VolumeMount{{Name: "cache", MountPath: "/cache"}},
			},
			{Name: "log-shipper", Image: "fluent-bit:3"},
		},
		Volumes: []v1.Volume{{Name: "cache", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
		Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: v1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}},
		}},
	}
	executorPod := &v1.PodSpec{
		PriorityClassName: "batch-low",
		Containers: []v1.Container{{
			Name:  "primary",
			Image: "ghcr.io/org/executor:v2",
			Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: q("3"), v1.ResourceMemory: q("8Gi")},
				Limits:   v1.ResourceList{"nvidia.com/gpu": q("2")},
			},
			VolumeMounts: []v1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}},
		}},
		Volumes: []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "datasets"}}}},
	}
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.SparkConf = map[string]string{"spark.executor.instances": "2"}
		j.DriverPod = &core.K8SPod{
			PrimaryContainerName: "primary",
			Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"role": "driver", "team": "driver-team"}, Annotations: map[string]string{"a": "d"}},
			PodSpec:              kittest.ObjStruct(t, driverPod),
		}
		j.ExecutorPod = &core.K8SPod{
			PrimaryContainerName: "primary",
			Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"role": "executor"}},
			PodSpec:              kittest.ObjStruct(t, executorPod),
		}
	})
	app := build(t, task)
	d, e := app.Spec.Driver, app.Spec.Executor

	// Driver
	assert.Equal(t, "driver-critical", *d.PriorityClassName)
	assert.Equal(t, "ssd", d.NodeSelector["disk"])
	assert.Equal(t, "flyte", d.NodeSelector["pool"], "platform selector kept")
	assert.Contains(t, d.Tolerations, v1.Toleration{Key: "driver-only", Operator: v1.TolerationOpExists})
	assert.Equal(t, 1, countTol(d.Tolerations, defaultTol), "no duplicated tolerations")
	assert.Equal(t, []v1.Container{{Name: "fetch", Image: "busybox", Args: []string{"wget", "x"}}}, d.InitContainers)
	require.Len(t, d.Sidecars, 1)
	assert.Equal(t, "log-shipper", d.Sidecars[0].Name)
	assert.Equal(t, []v1.VolumeMount{{Name: "cache", MountPath: "/cache"}}, d.VolumeMounts)
	assert.NotNil(t, d.Affinity.PodAntiAffinity)
	assert.NotNil(t, d.Affinity.NodeAffinity, "platform node affinity kept")
	assert.Equal(t, "driver", d.Labels["role"])
	assert.Equal(t, "driver-team", d.Labels["team"], "the pod template wins over the platform")
	assert.Equal(t, "d", d.Annotations["a"])
	v, _ := env(d.Env, "TASK_ENV")
	assert.Equal(t, "driver-wins", v)
	assert.Equal(t, 1, countEnv(d.Env, "TASK_ENV"), "env merged by name, not appended")
	v, _ = env(d.Env, "DRIVER_ONLY")
	assert.Equal(t, "1", v)
	assert.Equal(t, 1, countEnv(d.Env, "FLYTE_MAX_ATTEMPTS"), "set by name, never twice")
	require.NotNil(t, d.Template)
	assert.Equal(t, "spark-kubernetes-driver", d.Template.Spec.Containers[0].Name)
	eph := d.Template.Spec.Containers[0].Resources.Requests[v1.ResourceEphemeralStorage]
	assert.Equal(t, "20Gi", eph.String(), "ephemeral storage reaches the driver pod")

	// Executor
	assert.Equal(t, "batch-low", *e.PriorityClassName)
	assert.Equal(t, "ghcr.io/org/executor:v2", *e.Image)
	assert.Equal(t, "ghcr.io/org/executor:v2", *app.Spec.Image, "the app's image is the executor's")
	assert.Equal(t, "ghcr.io/org/spark-task:v1", *d.Image)
	assert.Equal(t, int32(3), *e.Cores)
	assert.Equal(t, "8192m", *e.Memory)
	assert.Equal(t, &sparkv1beta2.GPUSpec{Name: "nvidia.com/gpu", Quantity: 2}, e.GPU)
	assert.Equal(t, int32(2), *e.Instances)
	assert.Equal(t, []v1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}}, e.VolumeMounts)
	assert.Equal(t, "executor", e.Labels["role"])
	assert.Empty(t, e.Sidecars)
	assert.Empty(t, e.InitContainers)

	// App-level lists the operator applies per role.
	names := []string{}
	for _, vol := range app.Spec.Volumes {
		names = append(names, vol.Name)
	}
	assert.ElementsMatch(t, []string{"cache", "data"}, names)
	assert.Equal(t, []string{"regcred"}, app.Spec.ImagePullSecrets)
	assert.Equal(t, []string{"pyflyte-execute", "--inputs", "mem://inputs/inputs.pb", "--output-prefix", "mem://outputs/f8a1b2c3d4-n0-0"}, app.Spec.Arguments, "args never duplicated")
}

func TestPodTemplateArgsReplaceTaskArgs(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) {
		j.ExecutorPod = &core.K8SPod{PrimaryContainerName: "main", PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers: []v1.Container{{Name: "main", Args: []string{"custom", "args"}}},
		})}
	})
	app := build(t, task)
	assert.Equal(t, []string{"custom", "args"}, app.Spec.Arguments)
}

func countTol(list []v1.Toleration, t v1.Toleration) int {
	n := 0
	for _, x := range list {
		if x == t {
			n++
		}
	}
	return n
}

func countEnv(list []v1.EnvVar, name string) int {
	n := 0
	for _, x := range list {
		if x.Name == name {
			n++
		}
	}
	return n
}

// Propeller builds resources for many tasks at once with one shared config.
func TestConcurrentBuildResource(t *testing.T) {
	kittest.SetPlatform(t, richPlatform())
	setSpark(t, &spark.Config{
		DefaultSparkConfig: map[string]string{"spark.ui.enabled": "false"},
		Features:           []spark.Feature{{Name: "s3", SparkConfig: map[string]string{"spark.s3": "on"}}},
	})
	before := fmt.Sprintf("%+v %+v", *spark.GetConfig(), *config.GetK8sPluginConfig())
	p := registered(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			task := withJob(t, pythonTask(t), func(j *plugins.SparkJob) { j.SparkConf["spark.flyte.s3.enabled"] = "true" })
			task.Interruptible = i%2 == 0
			task.GeneratedName = fmt.Sprintf("exec-%d-n0-0", i)
			obj, err := p.BuildResource(context.Background(), kittest.New(task))
			if err != nil {
				errs <- err
				return
			}
			app := obj.(*sparkv1beta2.SparkApplication)
			if got := app.Spec.SparkConf["spark.kubernetes.executor.podNamePrefix"]; got != task.GeneratedName {
				errs <- fmt.Errorf("task %d got prefix %q", i, got)
			}
			app.Spec.SparkConf["spark.ui.enabled"] = "mutated"
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, before, fmt.Sprintf("%+v %+v", *spark.GetConfig(), *config.GetK8sPluginConfig()))
}

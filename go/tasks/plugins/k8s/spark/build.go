package spark

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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
	container, cores, request, limit, memory string
}

var (
	driverRole = roleKeys{
		container: driverContainerName, cores: keyDriverCores, request: keyDriverRequestCores,
		limit: keyDriverLimitCores, memory: keyDriverMemory,
	}
	executorRole = roleKeys{
		container: executorContainerName, cores: keyExecutorCores, request: keyExecutorRequestCores,
		limit: keyExecutorLimitCores, memory: keyExecutorMemory,
	}
)

var typeMeta = metav1.TypeMeta{Kind: "SparkApplication", APIVersion: sparkv1beta2.SchemeGroupVersion.String()}

// now is the clock FLYTE_START_TIME reads; tests pin it.
var now = time.Now

// buildApplication turns a task into its SparkApplication.
func buildApplication(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*sparkv1beta2.SparkApplication, error) {
	tmpl, err := kit.ReadTemplate(ctx, tCtx.TaskReader())
	if err != nil {
		return nil, err
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

	driver := podSpec(driverPod, driverRole, conf, serviceAccount(meta, taskPod, driverPod), meta.GetMaxAttempts())
	executors := podSpec(executorPod, executorRole, conf, serviceAccount(meta, taskPod, executorPod), meta.GetMaxAttempts())
	volumes, err := unionVolumes(driverPod.Spec.Volumes, executorPod.Spec.Volumes)
	if err != nil {
		return nil, err
	}

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
				SparkPodSpec:      *driver.pod,
				CoreRequest:       driver.coreRequest,
				Ports:             driver.ports,
				Lifecycle:         driver.lifecycle,
				PriorityClassName: strPtr(driverPod.Spec.PriorityClassName),
			},
			Executor: sparkv1beta2.ExecutorSpec{
				SparkPodSpec:      *executors.pod,
				Instances:         executorInstances(conf),
				CoreRequest:       executors.coreRequest,
				Ports:             executors.ports,
				Lifecycle:         executors.lifecycle,
				PriorityClassName: strPtr(executorPod.Spec.PriorityClassName),
			},
			Volumes:          volumes,
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

// unionVolumes is the application's volume list: the operator shares one
// list across both roles and picks volumes by name, so a name the driver
// and executors define differently cannot be expressed and is refused.
func unionVolumes(driver, executor []v1.Volume) ([]v1.Volume, error) {
	if len(executor) == 0 {
		return driver, nil
	}
	out := append(make([]v1.Volume, 0, len(driver)+len(executor)), driver...)
	for _, v := range executor {
		i := slices.IndexFunc(out, func(d v1.Volume) bool { return d.Name == v.Name })
		switch {
		case i < 0:
			out = append(out, v)
		case !equality.Semantic.DeepEqual(out[i], v):
			return nil, kit.BadSpec("custom.executorPod.podSpec.volumes", v.Name,
				"the driver defines a different volume of the same name; spark-operator shares one volume list between driver and executors, so give them distinct names")
		}
	}
	return out, nil
}

func unionPullSecrets(lists ...[]v1.LocalObjectReference) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s.Name != "" && !slices.Contains(out, s.Name) {
				out = append(out, s.Name)
			}
		}
	}
	return out
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

package dask

import (
	"context"
	"math"
	"strconv"
	"strings"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Names the dask operator and its docs use.
const (
	runnerContainer    = "job-runner"
	schedulerContainer = "scheduler"
	workerContainer    = "dask-worker"

	portNameComm      = "tcp-comm"
	portNameDashboard = "dashboard"
	portComm          = 8786
	portDashboard     = 8787

	labelClusterName = "dask.org/cluster-name"
	labelComponent   = "dask.org/component"
)

var typeMeta = metav1.TypeMeta{Kind: "DaskJob", APIVersion: daskAPI.SchemeGroupVersion.String()}

// schedulerArgs start the scheduler through the image's entrypoint.
var schedulerArgs = []string{"dask", "scheduler"}

// schedulerPorts are the scheduler container's ports; the Service exposes
// both under the same names.
var schedulerPorts = []v1.ContainerPort{
	{Name: portNameComm, ContainerPort: portComm, Protocol: v1.ProtocolTCP},
	{Name: portNameDashboard, ContainerPort: portDashboard, Protocol: v1.ProtocolTCP},
}

// serviceTypes are the Service types a scheduler can sit behind, keyed by
// their lower-cased name so the config is case-tolerant.
var serviceTypes = map[string]v1.ServiceType{
	"nodeport":     v1.ServiceTypeNodePort,
	"clusterip":    v1.ServiceTypeClusterIP,
	"loadbalancer": v1.ServiceTypeLoadBalancer,
}

// buildJob turns a task into its DaskJob.
func buildJob(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*daskAPI.DaskJob, error) {
	tmpl, err := kit.ReadTemplate(ctx, tCtx.TaskReader())
	if err != nil {
		return nil, err
	}
	job := &plugins.DaskJob{}
	if err := kit.UnmarshalCustom(tmpl, job); err != nil {
		return nil, err
	}
	workers := job.GetWorkers()
	if n := workers.GetNumberOfWorkers(); n < 1 || n > math.MaxInt32 {
		return nil, kit.BadSpec("custom.workers.number_of_workers", n,
			"must be between 1 and 2147483647: a Dask job without workers waits forever")
	}
	serviceType, err := schedulerServiceType(GetConfig())
	if err != nil {
		return nil, err
	}

	meta := tCtx.TaskExecutionMetadata()
	// Parse what the task asks for before the expensive pod building, so a
	// bad quantity fails fast.
	schedulerRes, err := kit.CustomResources("custom.scheduler.resources", job.GetScheduler().GetResources(), meta)
	if err != nil {
		return nil, err
	}
	workerRes, err := kit.CustomResources("custom.workers.resources", workers.GetResources(), meta)
	if err != nil {
		return nil, err
	}

	taskPod, err := kit.BuildTaskPod(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	runner, err := taskPod.Role(kit.RoleOptions{PrimaryName: runnerContainer})
	if err != nil {
		return nil, err
	}
	runner.Spec.RestartPolicy = v1.RestartPolicyNever

	scheduler, err := taskPod.Role(kit.RoleOptions{PrimaryName: schedulerContainer})
	if err != nil {
		return nil, err
	}
	c := daskContainer(scheduler, job.GetScheduler().GetImage(), schedulerRes)
	c.Args = append([]string(nil), schedulerArgs...)
	c.Ports = append([]v1.ContainerPort(nil), schedulerPorts...)

	worker, err := taskPod.Role(kit.RoleOptions{PrimaryName: workerContainer, Interruptible: meta.IsInterruptible()})
	if err != nil {
		return nil, err
	}
	c = daskContainer(worker, workers.GetImage(), workerRes)
	c.Args = workerArgs(c.Resources.Limits)

	clusterName := meta.GetTaskExecutionID().GetGeneratedName()
	return &daskAPI.DaskJob{
		TypeMeta: typeMeta,
		// The operator copies the job's labels and annotations onto the
		// runner pod and its cluster's, which copies them onto the scheduler
		// and worker pods: the CRD has no per-role pod metadata.
		ObjectMeta: metav1.ObjectMeta{Labels: runner.Labels, Annotations: runner.Annotations},
		Spec: daskAPI.DaskJobSpec{
			Job: daskAPI.JobSpec{Spec: *runner.Spec},
			Cluster: daskAPI.DaskCluster{
				ObjectMeta: metav1.ObjectMeta{Labels: scheduler.Labels, Annotations: scheduler.Annotations},
				Spec: daskAPI.DaskClusterSpec{
					Scheduler: daskAPI.SchedulerSpec{
						Spec:    *scheduler.Spec,
						Service: schedulerService(clusterName, serviceType),
					},
					Worker: daskAPI.WorkerSpec{
						Replicas: int(workers.GetNumberOfWorkers()),
						Spec:     *worker.Spec,
					},
				},
			},
		},
	}, nil
}

// daskContainer makes a role's primary container a Dask process: the
// custom image and resources when set, the image's own entrypoint (the
// caller sets the args), restart Always as the operator's deployments
// require.
func daskContainer(role *kit.RolePod, image string, res *v1.ResourceRequirements) *v1.Container {
	role.Spec.RestartPolicy = v1.RestartPolicyAlways
	c := role.Primary()
	if image != "" {
		c.Image = image
	}
	if res != nil {
		c.Resources = *res
		// Extended resources (GPUs) the role asks for get the platform's
		// tolerations, as Flyte gives the task pod for its own.
		kit.AddResourceTolerations(role.Spec)
	}
	c.Command = nil
	return c
}

// workerArgs start a worker named by the operator, sized to its limits:
// one thread per (started) cpu and the memory limit in bytes.
func workerArgs(limits v1.ResourceList) []string {
	args := make([]string, 0, 8)
	args = append(args, "dask", "worker", "--name", "$(DASK_WORKER_NAME)")
	if q, ok := limits[v1.ResourceCPU]; ok && q.Sign() > 0 {
		// Rounded up (1500m is 2 threads, 250m is 1) and capped, so an
		// absurd limit cannot overflow into a nonsense count.
		threads := min(math.Ceil(q.AsApproximateFloat64()), math.MaxInt32)
		args = append(args, "--nthreads", strconv.FormatInt(max(1, int64(threads)), 10))
	}
	if q, ok := limits[v1.ResourceMemory]; ok && q.Sign() > 0 {
		args = append(args, "--memory-limit", strconv.FormatInt(q.Value(), 10))
	}
	return args
}

// schedulerService selects the job's scheduler pod on both its ports.
func schedulerService(clusterName string, serviceType v1.ServiceType) v1.ServiceSpec {
	return v1.ServiceSpec{
		Type: serviceType,
		Selector: map[string]string{
			labelClusterName: clusterName,
			labelComponent:   "scheduler",
		},
		Ports: []v1.ServicePort{
			{Name: portNameComm, Protocol: v1.ProtocolTCP, Port: portComm, TargetPort: intstr.FromString(portNameComm)},
			{Name: portNameDashboard, Protocol: v1.ProtocolTCP, Port: portDashboard, TargetPort: intstr.FromString(portNameDashboard)},
		},
	}
}

// schedulerServiceType reads the configured Service type; empty means
// NodePort, upstream's choice.
func schedulerServiceType(cfg *Config) (v1.ServiceType, error) {
	if cfg.SchedulerServiceType == "" {
		return v1.ServiceTypeNodePort, nil
	}
	if t, ok := serviceTypes[strings.ToLower(cfg.SchedulerServiceType)]; ok {
		return t, nil
	}
	return "", errors.Errorf(errors.PluginInitializationFailed,
		"plugins.dask.schedulerServiceType %q is not a Service type the Dask scheduler can use (NodePort, ClusterIP, LoadBalancer)",
		cfg.SchedulerServiceType)
}

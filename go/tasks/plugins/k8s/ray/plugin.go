package ray

import (
	"context"
	"fmt"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Identity of the plugin; the same as upstream's so propeller configs that
// enable "ray" get this plugin.
const (
	// PluginID is the ID the plugin registers under.
	PluginID = "ray"
	// TaskType is the task type it handles.
	TaskType = "ray"
	// GeneratedNameMaxLength is KubeRay's limit on a RayJob's name (its
	// cluster's name adds a suffix and must stay a valid label).
	GeneratedNameMaxLength = 47
)

// Plugin builds RayJobs and maps their status. Safe for concurrent use:
// its only state is the cache of parsed link templates.
type Plugin struct {
	links links
}

var _ k8s.Plugin = (*Plugin)(nil)

// New returns a Ray plugin.
func New() *Plugin { return &Plugin{} }

// GetProperties limits generated names to what KubeRay accepts. With a
// remote cluster configured, owner references are left out: the owning
// workflow lives in another cluster.
func (p *Plugin) GetProperties() k8s.PluginProperties {
	return k8s.PluginProperties{
		GeneratedNameMaxLength:       new(GeneratedNameMaxLength),
		DisableInjectOwnerReferences: GetConfig().RemoteClusterConfig.Enabled,
	}
}

// BuildIdentityResource is an empty RayJob with its type meta.
func (p *Plugin) BuildIdentityResource(context.Context, pluginsCore.TaskExecutionMetadata) (client.Object, error) {
	return &rayv1.RayJob{TypeMeta: typeMeta}, nil
}

// BuildResource builds the RayJob for a task.
func (p *Plugin) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	return buildRayJob(ctx, tCtx)
}

// GetTaskPhase maps the RayJob's deployment status to a Flyte phase with
// its links.
func (p *Plugin) GetTaskPhase(ctx context.Context, pluginContext k8s.PluginContext, r client.Object) (pluginsCore.PhaseInfo, error) {
	job, err := asRayJob(r)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	tmpl, err := pluginContext.TaskReader().Read(ctx)
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	info := p.links.taskInfo(GetConfig(), job, pluginContext.TaskExecutionMetadata().GetTaskExecutionID(), tmpl)

	status := &job.Status
	rule := kit.Lookup(deploymentTable, operator, status.JobDeploymentStatus)
	var detail string
	switch status.JobDeploymentStatus {
	case rayv1.JobDeploymentStatusComplete:
		if status.JobStatus == rayv1.JobStatusStopped {
			rule = stoppedRule
		}
	case rayv1.JobDeploymentStatusValidationFailed:
		detail = status.Message
	case rayv1.JobDeploymentStatusFailed:
		detail = failureDetail(status)
		f := classifyFailure(status)
		rule = f.rule
		if f.userJob {
			var taskErr string
			rule, taskErr, err = userFailure(ctx, pluginContext)
			if err != nil {
				return pluginsCore.PhaseInfoUndefined, err
			}
			if taskErr != "" {
				detail += "; the task reported " + taskErr
			}
		}
	}
	phase := rule.Phase(detail, info)
	if err := kit.FinalizePhase(pluginContext, &phase); err != nil {
		return phase, err
	}
	return phase, nil
}

// IsTerminal reports whether KubeRay is done with the job (for Flyte 2's
// executor): Complete, Failed or ValidationFailed.
func (p *Plugin) IsTerminal(_ context.Context, r client.Object) (bool, error) {
	job, err := asRayJob(r)
	if err != nil {
		return false, err
	}
	return terminal(job.Status.JobDeploymentStatus), nil
}

// GetCompletionTime is when the job finished: KubeRay's end time, else the
// Ray job's, else the RayJob's creation. It is the zero time while the job
// has not finished.
func (p *Plugin) GetCompletionTime(r client.Object) (time.Time, error) {
	job, err := asRayJob(r)
	if err != nil {
		return time.Time{}, err
	}
	if !terminal(job.Status.JobDeploymentStatus) {
		return time.Time{}, nil
	}
	if t := job.Status.EndTime; t != nil && !t.IsZero() {
		return t.Time, nil
	}
	if t := job.Status.RayJobStatusInfo.EndTime; t != nil && !t.IsZero() {
		return t.Time, nil
	}
	return job.CreationTimestamp.Time, nil
}

func asRayJob(r client.Object) (*rayv1.RayJob, error) {
	return kit.As[*rayv1.RayJob](PluginID, r)
}

// kubeClient is the registry entry's CustomKubeClient: a client of the
// remote cluster when remoteClusterConfig is enabled, else nil (propeller's
// own client).
func kubeClient(context.Context) (pluginsCore.KubeClient, error) {
	remote := GetConfig().RemoteClusterConfig
	if !remote.Enabled {
		return nil, nil
	}
	restConfig, err := k8s.KubeClientConfig(remote.Endpoint, remote.Auth)
	if err != nil {
		return nil, fmt.Errorf("ray plugin: remote cluster %q: %w", remote.Name, err)
	}
	return k8s.NewDefaultKubeClient(restConfig)
}

func init() {
	if err := rayv1.AddToScheme(scheme.Scheme); err != nil {
		panic(err)
	}
	pluginmachinery.PluginRegistry().RegisterK8sPlugin(k8s.PluginEntry{
		ID:                  PluginID,
		RegisteredTaskTypes: []pluginsCore.TaskType{TaskType},
		ResourceToWatch:     &rayv1.RayJob{},
		Plugin:              New(),
		CustomKubeClient:    kubeClient,
	})
}

package ray

import (
	"context"
	"fmt"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"k8s.io/client-go/kubernetes/scheme"

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

// Plugin builds RayJobs and maps their status: a k8s.Plugin, plus
// IsTerminal and GetCompletionTime for Flyte 2's executor.
type Plugin = kit.Adapter[*rayv1.RayJob]

// New returns a Ray plugin.
func New() *Plugin { return kit.NewAdapter(PluginID, &job{}) }

// job is Ray's part of the plugin. Safe for concurrent use: its only state
// is the cache of parsed link templates.
type job struct {
	links links
}

var _ kit.Job[*rayv1.RayJob] = (*job)(nil)

// Properties limit generated names to what KubeRay accepts. With a remote
// cluster configured, owner references are left out: the owning workflow
// lives in another cluster.
func (j *job) Properties() k8s.PluginProperties {
	return k8s.PluginProperties{
		GeneratedNameMaxLength:       new(GeneratedNameMaxLength),
		DisableInjectOwnerReferences: GetConfig().RemoteClusterConfig.Enabled,
	}
}

// Identity is an empty RayJob with its type meta.
func (j *job) Identity() *rayv1.RayJob { return &rayv1.RayJob{TypeMeta: typeMeta} }

// Build builds the RayJob for a task.
func (j *job) Build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*rayv1.RayJob, error) {
	return buildRayJob(ctx, tCtx)
}

// Phase maps the RayJob's deployment status to a Flyte phase with its links.
func (j *job) Phase(ctx context.Context, pluginContext k8s.PluginContext, rj *rayv1.RayJob, tmpl *core.TaskTemplate) (pluginsCore.PhaseInfo, error) {
	info := j.links.taskInfo(GetConfig(), rj, pluginContext.TaskExecutionMetadata().GetTaskExecutionID(), tmpl)

	status := &rj.Status
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
			var err error
			rule, taskErr, err = kit.ClassifyByErrorFile(ctx, pluginContext, userFailure)
			if err != nil {
				return pluginsCore.PhaseInfoUndefined, err
			}
			if taskErr != "" {
				detail += "; the task reported " + taskErr
			}
		}
	}
	if rule.Outcome == kit.Running {
		detail = kit.JoinReason(detail, podSetReason(rj))
	}
	return rule.Phase(detail, info), nil
}

// Terminal reports whether KubeRay is done with the job: Complete, Failed or
// ValidationFailed.
func (j *job) Terminal(rj *rayv1.RayJob) bool { return terminal(rj.Status.JobDeploymentStatus) }

// Finished is KubeRay's end time, else the Ray job's, else the RayJob's
// creation.
func (j *job) Finished(rj *rayv1.RayJob) time.Time {
	var end, rayEnd time.Time
	if t := rj.Status.EndTime; t != nil {
		end = t.Time
	}
	if t := rj.Status.RayJobStatusInfo.EndTime; t != nil {
		rayEnd = t.Time
	}
	return kit.FirstTime(end, rayEnd, rj.CreationTimestamp.Time)
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

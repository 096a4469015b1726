package dask

import (
	"sync/atomic"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// runnerLogName is appended to each log template's display name.
var runnerLogName = kit.LogName("Dask Runner Logs")

// Extra log-template variables, for the log and the dashboard templates.
const (
	varClusterName      = "daskClusterName"
	varSchedulerService = "daskSchedulerService"
)

// linkers render the job's links. The log plugins are built once per
// config object, not per call.
type linkers struct {
	runner    kit.LogLinks
	dashboard kit.LogLinks
	// dashboardCfg wraps the configured dashboard template in a log config
	// once per template object, so its log plugin is cached too.
	dashboardCfg atomic.Pointer[dashboardConfig]
}

type dashboardConfig struct {
	tmpl *tasklog.TemplateLogPlugin
	cfg  *logs.LogConfig
}

// render returns the job's links: the configured log links on the
// job-runner pod and, while the cluster is up, the dashboard link.
//
// No per-pod links beyond the runner (spec/queueing.md, "While it runs"):
// a DaskJob's status names only the runner pod and the cluster; the
// scheduler and worker pods are the dask-kubernetes operator's, named with
// generated suffixes the status does not carry, and listing them would
// cost an API call per task per round. The dashboard reaches every worker.
// So the Running reason does not list pods either: the set it could show
// never changes.
func (l *linkers) render(cfg *Config, job *daskAPI.DaskJob, execID pluginsCore.TaskExecutionID, tmpl *core.TaskTemplate) ([]*core.TaskLog, error) {
	cluster := clusterName(job)
	in := kit.LogInput{
		PodName:   runnerPodName(job),
		Namespace: job.Namespace,
		LogName:   runnerLogName,
		Start:     job.Status.StartTime.Time,
		Finish:    job.Status.EndTime.Time,
		Vars: []kit.Var{
			{Name: varClusterName, Value: cluster},
			{Name: varSchedulerService, Value: schedulerServiceName(cluster)},
		},
		TaskExecID:   execID,
		TaskTemplate: tmpl,
	}
	out, err := l.runner.Render(nil, &cfg.Logs, in)
	if err != nil {
		return nil, err
	}
	if cfg.DashboardURLTemplate == nil || !clusterUp(job.Status.JobStatus) {
		return out, nil
	}
	in.LogName = ""
	return l.dashboard.Render(out, l.dashboardConfig(cfg.DashboardURLTemplate), in)
}

// dashboardConfig is the log config holding just the dashboard template.
// The link is hidden once the task finishes: the operator deletes the
// cluster, and with it the dashboard, when the job ends.
func (l *linkers) dashboardConfig(t *tasklog.TemplateLogPlugin) *logs.LogConfig {
	if d := l.dashboardCfg.Load(); d != nil && d.tmpl == t {
		return d.cfg
	}
	link := *t
	link.HideOnceFinished = true
	if link.DisplayName == "" {
		link.DisplayName = "Dask Dashboard"
	}
	d := &dashboardConfig{tmpl: t, cfg: &logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{link}}}
	l.dashboardCfg.Store(d)
	return d.cfg
}

// clusterUp reports whether the job's cluster, and so its dashboard, exists.
func clusterUp(s daskAPI.JobStatus) bool {
	return s == daskAPI.DaskJobClusterCreated || s == daskAPI.DaskJobRunning
}

// clusterName is the job's cluster: the operator's report, else its naming
// rule (the cluster is named after the job).
func clusterName(job *daskAPI.DaskJob) string {
	if job.Status.ClusterName != "" {
		return job.Status.ClusterName
	}
	return job.Name
}

// runnerPodName is the job-runner pod: the operator's report, else its
// naming rule, so links are stable from the first round.
func runnerPodName(job *daskAPI.DaskJob) string {
	if job.Status.JobRunnerPodName != "" {
		return job.Status.JobRunnerPodName
	}
	if job.Name == "" {
		return ""
	}
	return job.Name + "-runner"
}

// schedulerServiceName is the Service the operator creates for a cluster's
// scheduler.
func schedulerServiceName(cluster string) string {
	if cluster == "" {
		return ""
	}
	return cluster + "-scheduler"
}

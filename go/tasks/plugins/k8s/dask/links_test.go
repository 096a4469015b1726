package dask_test

import (
	"context"
	"testing"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

const logTemplate = "https://logs/{{ .namespace }}/{{ .podName }}?from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}&cluster={{ .daskClusterName }}"

var dashboardTemplate = &tasklog.TemplateLogPlugin{
	DisplayName:  "Dask Dashboard",
	TemplateURIs: []string{"https://k8s/api/v1/namespaces/{{ .namespace }}/services/{{ .daskSchedulerService }}:dashboard/proxy/status"},
}

func linksConfig(dashboard *tasklog.TemplateLogPlugin) *dask.Config {
	return &dask.Config{
		Logs: logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{{
			DisplayName: "Logs", TemplateURIs: []string{logTemplate},
		}}},
		SchedulerServiceType: "NodePort",
		DashboardURLTemplate: dashboard,
	}
}

func taskLogs(t *testing.T, tmpl *core.TaskTemplate, job *daskAPI.DaskJob) []*core.TaskLog {
	t.Helper()
	task := daskTask(t, basicJob())
	if tmpl != nil {
		task.Template = tmpl
	}
	ph, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), job)
	require.NoError(t, err)
	return ph.Info().Logs
}

func byName(list []*core.TaskLog) map[string]*core.TaskLog {
	out := map[string]*core.TaskLog{}
	for _, l := range list {
		out[l.GetName()] = l
	}
	return out
}

// TestLinks: the configured log templates on the job-runner pod, and the
// dashboard while the cluster is up.
func TestLinks(t *testing.T) {
	setDask(t, linksConfig(dashboardTemplate))
	const runnerLink = "https://logs/flyteproject-development/" + jobName + "-runner?from=1700000000&to=0&cluster=" + jobName
	const dashboardLink = "https://k8s/api/v1/namespaces/flyteproject-development/services/" + jobName + "-scheduler:dashboard/proxy/status"
	tests := []struct {
		name      string
		job       func() *daskAPI.DaskJob
		runner    string
		dashboard string
	}{
		{"running", runningJob, runnerLink, dashboardLink},
		{"cluster created", func() *daskAPI.DaskJob { return jobWithStatus(daskAPI.DaskJobClusterCreated) }, runnerLink, dashboardLink},
		{"before the operator names the runner pod", func() *daskAPI.DaskJob {
			j := jobWithStatus(daskAPI.DaskJobCreated)
			j.Status = daskAPI.DaskJobStatus{JobStatus: daskAPI.DaskJobCreated}
			return j
		}, "https://logs/flyteproject-development/" + jobName + "-runner?from=0&to=0&cluster=" + jobName, ""},
		{"succeeded: the cluster is gone", func() *daskAPI.DaskJob { return jobWithStatus(daskAPI.DaskJobSuccessful) },
			"https://logs/flyteproject-development/" + jobName + "-runner?from=1700000000&to=1780317000&cluster=" + jobName, ""},
		{"failed", func() *daskAPI.DaskJob { return jobWithStatus(daskAPI.DaskJobFailed) },
			"https://logs/flyteproject-development/" + jobName + "-runner?from=1700000000&to=1780317000&cluster=" + jobName, ""},
		{"runner pod as the operator reports it", func() *daskAPI.DaskJob {
			j := runningJob()
			j.Status.JobRunnerPodName = "renamed-runner"
			j.Status.ClusterName = "other-cluster"
			return j
		}, "https://logs/flyteproject-development/renamed-runner?from=1700000000&to=0&cluster=other-cluster",
			"https://k8s/api/v1/namespaces/flyteproject-development/services/other-cluster-scheduler:dashboard/proxy/status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			links := byName(taskLogs(t, nil, tt.job()))
			require.Contains(t, links, "Logs(Dask Runner Logs)")
			assert.Equal(t, tt.runner, links["Logs(Dask Runner Logs)"].GetUri())
			if tt.dashboard == "" {
				assert.NotContains(t, links, "Dask Dashboard")
				assert.Len(t, links, 1)
				return
			}
			require.Contains(t, links, "Dask Dashboard")
			assert.Equal(t, tt.dashboard, links["Dask Dashboard"].GetUri())
			assert.True(t, links["Dask Dashboard"].GetHideOnceFinished(), "the dashboard goes with the cluster")
			assert.Len(t, links, 2)
		})
	}
}

func TestNoDashboardUnlessConfigured(t *testing.T) {
	setDask(t, linksConfig(nil))
	links := taskLogs(t, nil, runningJob())
	require.Len(t, links, 1)
	assert.Equal(t, "Logs(Dask Runner Logs)", links[0].GetName())
}

func TestDashboardWithoutDisplayName(t *testing.T) {
	setDask(t, linksConfig(&tasklog.TemplateLogPlugin{TemplateURIs: []string{"https://dash/{{ .daskClusterName }}"}}))
	links := byName(taskLogs(t, nil, runningJob()))
	require.Contains(t, links, "Dask Dashboard")
	assert.Equal(t, "https://dash/"+jobName, links["Dask Dashboard"].GetUri())
}

func TestDefaultConfigLinksTheRunnerInTheKubernetesDashboard(t *testing.T) {
	links := taskLogs(t, nil, runningJob())
	require.Len(t, links, 1)
	assert.Equal(t, "Kubernetes Logs(Dask Runner Logs)", links[0].GetName())
	assert.Equal(t, "http://localhost:30082/#!/log/flyteproject-development/"+jobName+"-runner/pod?namespace=flyteproject-development", links[0].GetUri())
}

func TestNoLinksWhenNoneConfigured(t *testing.T) {
	setDask(t, &dask.Config{})
	assert.Empty(t, taskLogs(t, nil, runningJob()))
}

// Task-config link_type dynamic links render on the runner pod.
func TestDynamicLinks(t *testing.T) {
	cfg := linksConfig(nil)
	cfg.Logs.DynamicLogLinks = map[string]tasklog.TemplateLogPlugin{
		"vscode": {DisplayName: "VS Code", TemplateURIs: []string{"https://{{ .podName }}.{{ .namespace }}:{{ .taskConfig.port }}/"}},
	}
	setDask(t, cfg)
	tmpl := daskTask(t, basicJob()).Template
	tmpl.Config = map[string]string{"link_type": "vscode", "port": "8080"}
	links := byName(taskLogs(t, tmpl, runningJob()))
	require.Contains(t, links, "VS Code(Dask Runner Logs)")
	assert.Equal(t, "https://"+jobName+"-runner.flyteproject-development:8080/", links["VS Code(Dask Runner Logs)"].GetUri())
}

package ray_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

func linkConfig(t *testing.T) {
	t.Helper()
	cfg := defaultConfig()
	cfg.Logs = logs.LogConfig{
		IsKubernetesEnabled:   true,
		KubernetesTemplateURI: "https://k8s/{{ .namespace }}/{{ .podName }}",
		Templates: []tasklog.TemplateLogPlugin{{
			DisplayName:  "Ray Logs",
			TemplateURIs: []tasklog.TemplateURI{"https://logs/{{ .rayClusterName }}/{{ .rayJobID }}?from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}"},
		}},
		DynamicLogLinks: map[string]tasklog.TemplateLogPlugin{
			"vscode": {DisplayName: "VS Code", TemplateURIs: []tasklog.TemplateURI{"https://vscode/{{ .namespace }}/{{ .taskConfig.port }}"}},
		},
	}
	cfg.DashboardURLTemplate = &tasklog.TemplateLogPlugin{
		DisplayName:  "Ray Dashboard",
		TemplateURIs: []tasklog.TemplateURI{"https://dashboard/{{ .namespace }}/{{ .rayClusterName }}/#/jobs/{{ .rayJobID }}"},
	}
	withConfig(t, cfg)
}

func linksOf(t *testing.T, task kittest.Task, job *rayv1.RayJob) map[string]string {
	t.Helper()
	phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), job)
	require.NoError(t, err)
	out := map[string]string{}
	for _, l := range phase.Info().Logs {
		out[l.GetName()] = l.GetUri()
	}
	return out
}

func TestLogLinks(t *testing.T) {
	linkConfig(t)
	created := metav1.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	ended := metav1.NewTime(created.Add(90 * time.Minute))

	t.Run("finished job", func(t *testing.T) {
		job := runningJob()
		job.CreationTimestamp = created
		job.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusComplete
		job.Status.JobStatus = rayv1.JobStatusSucceeded
		job.Status.EndTime = &ended
		links := linksOf(t, rayTask(t, basicJob()), job)
		assert.Equal(t, map[string]string{
			"Kubernetes Logs": "https://k8s/flyteproject-development/f8a1b2c3d4-n0-0-raycluster-xyz-head-abc",
			"Ray Logs": "https://logs/f8a1b2c3d4-n0-0-raycluster-xyz/f8a1b2c3d4-n0-0-abcde?from=" +
				strconv.FormatInt(created.Unix(), 10) + "&to=" + strconv.FormatInt(ended.Unix(), 10),
		}, links, "no dashboard once the job is over")
	})

	t.Run("running job", func(t *testing.T) {
		job := runningJob()
		job.CreationTimestamp = created
		links := linksOf(t, rayTask(t, basicJob()), job)
		assert.Equal(t, "https://dashboard/flyteproject-development/f8a1b2c3d4-n0-0-raycluster-xyz/#/jobs/f8a1b2c3d4-n0-0-abcde", links["Ray Dashboard"])
		ray := links["Ray Logs"]
		assert.Contains(t, ray, "from="+strconv.FormatInt(created.Unix(), 10))
		assert.NotContains(t, ray, "&to=0", "a running job's range ends now, not at 0")
	})

	t.Run("before KubeRay reports names", func(t *testing.T) {
		job := runningJob()
		job.Status = rayv1.RayJobStatus{JobDeploymentStatus: rayv1.JobDeploymentStatusInitializing}
		task := rayTask(t, basicJob())
		task.Template.Config = map[string]string{"link_type": "vscode", "port": "8080"}
		links := linksOf(t, task, job)
		assert.Equal(t, map[string]string{"VS Code": "https://vscode/flyteproject-development/8080"}, links,
			"links naming the head pod, cluster or job wait for KubeRay to report them; the others show at once")
	})

	t.Run("cluster known, head pod not yet", func(t *testing.T) {
		job := runningJob()
		job.Status.RayClusterStatus.Head.PodName = ""
		links := linksOf(t, rayTask(t, basicJob()), job)
		assert.Contains(t, links, "Ray Logs")
		assert.NotContains(t, links, "Kubernetes Logs", "its template names the head pod")
	})

	t.Run("dynamic link from the task config", func(t *testing.T) {
		task := rayTask(t, basicJob())
		task.Template.Config = map[string]string{"link_type": "vscode", "port": "8080"}
		links := linksOf(t, task, runningJob())
		assert.Equal(t, "https://vscode/flyteproject-development/8080", links["VS Code"])
	})
}

// The dashboard link needs the template, a RUNNING Ray job and a dashboard
// URL from KubeRay.
func TestDashboardLink(t *testing.T) {
	linkConfig(t)
	for _, tc := range []struct {
		name string
		edit func(*rayv1.RayJob)
		want bool
	}{
		{"running", func(*rayv1.RayJob) {}, true},
		{"pending", func(j *rayv1.RayJob) { j.Status.JobStatus = rayv1.JobStatusPending }, false},
		{"no dashboard URL", func(j *rayv1.RayJob) { j.Status.DashboardURL = "" }, false},
		{"succeeded", func(j *rayv1.RayJob) { j.Status.JobStatus = rayv1.JobStatusSucceeded }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := runningJob()
			tc.edit(job)
			_, ok := linksOf(t, rayTask(t, basicJob()), job)["Ray Dashboard"]
			assert.Equal(t, tc.want, ok)
		})
	}

	cfg := defaultConfig()
	cfg.DashboardURLTemplate = nil
	withConfig(t, cfg)
	assert.NotContains(t, linksOf(t, rayTask(t, basicJob()), runningJob()), "Ray Dashboard", "no template, no link")
}

// Links render on every status, failures included.
func TestLinksOnFailure(t *testing.T) {
	linkConfig(t)
	job := runningJob()
	job.Status.JobDeploymentStatus = rayv1.JobDeploymentStatusFailed
	job.Status.JobStatus = rayv1.JobStatusFailed
	job.Status.Reason = rayv1.AppFailed
	phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(rayTask(t, basicJob())), job)
	require.NoError(t, err)
	require.NotNil(t, phase.Info())
	names := make([]string, 0, len(phase.Info().Logs))
	for _, l := range phase.Info().Logs {
		names = append(names, l.GetName())
	}
	assert.Equal(t, "Kubernetes Logs,Ray Logs", strings.Join(names, ","))
}

package ray_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
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

// setLiveView sets the live-view bounds for one test.
func setLiveView(t testing.TB, maxPodLinks, maxPhaseVersions int) {
	t.Helper()
	prev := *queueing.GetConfig()
	cfg := prev
	cfg.LiveView = queueing.LiveViewConfig{MaxPodLinks: maxPodLinks, MaxPhaseVersions: maxPhaseVersions}
	require.NoError(t, queueing.SetConfig(&cfg))
	t.Cleanup(func() { _ = queueing.SetConfig(&prev) })
}

func withWorkers(desired, available int32) *rayv1.RayJob {
	job := runningJob()
	job.Status.RayClusterStatus.DesiredWorkerReplicas = desired
	job.Status.RayClusterStatus.AvailableWorkerReplicas = available
	return job
}

// The head keeps its links; the workers, which KubeRay's status counts but
// does not name, share one link on the cluster's name.
func TestPodLinks(t *testing.T) {
	linkConfig(t)
	const cluster = "f8a1b2c3d4-n0-0-raycluster-xyz"
	const head = cluster + "-head-abc"
	for _, tc := range []struct {
		name      string
		cap       int
		job       *rayv1.RayJob
		aggregate string
		reason    string
	}{
		{"no workers: no aggregate", 8, withWorkers(0, 0), "", "1 pod: " + head},
		{"workers: the aggregate", 8, withWorkers(4, 2), "Kubernetes Logs(all 5 pods of " + cluster + ")", "5 pods: " + head + " and 4 more"},
		{"no cap: still the aggregate", 0, withWorkers(2, 3), "Kubernetes Logs(all 4 pods of " + cluster + ")", "4 pods: " + head + " and 3 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setLiveView(t, tc.cap, 100000)
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(rayTask(t, basicJob())), tc.job)
			require.NoError(t, err)
			links := map[string]string{}
			for _, l := range phase.Info().Logs {
				links[l.GetName()] = l.GetUri()
			}
			assert.Equal(t, "https://k8s/flyteproject-development/"+head, links["Kubernetes Logs"], "the head's link as before")
			assert.Contains(t, links, "Ray Dashboard")
			if tc.aggregate == "" {
				assert.Len(t, links, 3)
			} else {
				assert.Len(t, links, 4)
				assert.Equal(t, "https://k8s/flyteproject-development/"+cluster, links[tc.aggregate])
			}
			assert.Equal(t, tc.reason, phase.Info().AdditionalReasons[0].Reason)
		})
	}
}

// Rounds the way propeller runs them: the version grows when the cluster's
// pods change, holds otherwise, never falls and stays within the bound.
func TestLiveViewVersions(t *testing.T) {
	linkConfig(t)
	rounds := []struct {
		name string
		job  *rayv1.RayJob
		bump bool
	}{
		{"head only", withWorkers(0, 0), false},
		{"same again", withWorkers(0, 0), false},
		{"workers wanted", withWorkers(2, 0), true},
		{"workers up (same count)", withWorkers(2, 2), false},
		{"scaled up", withWorkers(4, 2), true},
		{"same again", withWorkers(4, 2), false},
	}
	for _, bound := range []int{100000, 30} {
		setLiveView(t, 8, bound)
		var st k8s.PluginState
		var prev uint32
		for i, r := range rounds {
			task := rayTask(t, basicJob())
			task.State = st
			phase, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), r.job)
			require.NoError(t, err)
			v := phase.Version()
			assert.LessOrEqual(t, int(v), bound, r.name)
			if i > 0 {
				assert.GreaterOrEqual(t, v, prev, "%s: never falls", r.name)
				switch {
				case !r.bump:
					assert.Equal(t, prev, v, r.name)
				case bound >= 100000:
					assert.Greater(t, v, prev, r.name)
				}
			}
			prev = v
			st = k8s.PluginState{Phase: phase.Phase(), PhaseVersion: v, Reason: phase.Reason()}
		}
	}
}

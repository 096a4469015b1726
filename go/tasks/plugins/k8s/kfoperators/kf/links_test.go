package kf_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	"github.com/flyteorg/flyte/flytestdlib/config"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
)

// linkConfig is a plugins.logs section with a Kubernetes link, a templated
// one that uses the pod, container and time variables, and a dynamic link.
func linkConfig(t *testing.T) {
	t.Helper()
	withLogs(t, logs.LogConfig{
		IsKubernetesEnabled:   true,
		KubernetesTemplateURI: "https://k8s/{{ .namespace }}/{{ .podName }}",
		Templates: []tasklog.TemplateLogPlugin{{
			DisplayName:  "Grafana",
			TemplateURIs: []tasklog.TemplateURI{"https://grafana/{{ .podName }}/{{ .containerName }}?from={{ .podUnixStartTime }}&to={{ .podUnixFinishTime }}"},
		}},
		DynamicLogLinks: map[string]tasklog.TemplateLogPlugin{
			"tensorboard": {DisplayName: "TensorBoard", TemplateURIs: []tasklog.TemplateURI{"https://tb/{{ .namespace }}/{{ .podName }}?port={{ .taskConfig.port }}"}},
		},
	})
}

// link is one rendered link, for comparing lists.
type link struct{ name, uri string }

func linksOf(t *testing.T, p plugin, task kittest.Task, obj client.Object) []link {
	t.Helper()
	info := p.phase(t, task, obj)
	require.NotNil(t, info.Info())
	out := make([]link, 0, len(info.Info().Logs))
	for _, l := range info.Info().Logs {
		out = append(out, link{l.GetName(), l.GetUri()})
	}
	return out
}

// podLinks are the two static links of one replica pod.
func podLinks(label, pod, container string, start, finish int64) []link {
	return []link{
		{"Kubernetes Logs(" + label + ")", "https://k8s/" + namespace + "/" + pod},
		{"Grafana(" + label + ")", fmt.Sprintf("https://grafana/%s/%s?from=%d&to=%d", pod, container, start, finish)},
	}
}

var runningStatus = started(cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", ""))

// One link set per replica pod, named after the pod's replica and index, at
// the pod names the operator creates, in each plugin's replica order.
func TestLinksPerReplicaPod(t *testing.T) {
	linkConfig(t)
	start := created.Unix()
	job := jobName
	pt := allPlugins[0]
	tf := allPlugins[1]
	mp := allPlugins[2]
	for _, tc := range []struct {
		name  string
		p     plugin
		task  func(t *testing.T) kittest.Task
		links []string // label=pod, in order
	}{
		{"pytorch master and 4 workers", pt, func(t *testing.T) kittest.Task { return pt.workers(t, 4) },
			[]string{"master-0=" + job + "-master-0", "worker-0=" + job + "-worker-0", "worker-1=" + job + "-worker-1", "worker-2=" + job + "-worker-2", "worker-3=" + job + "-worker-3"}},
		{"pytorch master only", pt, func(t *testing.T) kittest.Task { return pt.workers(t, 0) },
			[]string{"master-0=" + job + "-master-0"}},
		{"pytorch elastic: workers only", pt, func(t *testing.T) kittest.Task {
			return pt.task(t, 1, &kfplugins.DistributedPyTorchTrainingTask{
				WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}},
				ElasticConfig:  &kfplugins.ElasticConfig{MinReplicas: 1, MaxReplicas: 2, NprocPerNode: 1, RdzvBackend: "c10d"},
			})
		}, []string{"worker-0=" + job + "-worker-0", "worker-1=" + job + "-worker-1"}},
		{"tensorflow chief, ps, workers, evaluator", tf, func(t *testing.T) kittest.Task {
			return tf.task(t, 0, &plugins.DistributedTensorflowTrainingTask{ChiefReplicas: 1, PsReplicas: 2, Workers: 2, EvaluatorReplicas: 1})
		}, []string{
			"chief-0=" + job + "-chief-0", "ps-0=" + job + "-ps-0", "ps-1=" + job + "-ps-1",
			"worker-0=" + job + "-worker-0", "worker-1=" + job + "-worker-1", "evaluator-0=" + job + "-evaluator-0",
		}},
		{"mpi launcher and workers", mp, func(t *testing.T) kittest.Task { return mp.workers(t, 2) },
			[]string{"launcher=" + job + "-launcher", "worker-0=" + job + "-worker-0", "worker-1=" + job + "-worker-1"}},
		{"mpi v0", mp, func(t *testing.T) kittest.Task {
			return mp.task(t, 0, &plugins.DistributedMPITrainingTask{NumWorkers: 3, Slots: 2})
		}, []string{"launcher=" + job + "-launcher", "worker-0=" + job + "-worker-0", "worker-1=" + job + "-worker-1", "worker-2=" + job + "-worker-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := tc.task(t)
			obj := tc.p.job(t, task, runningStatus)
			var want []link
			for _, l := range tc.links {
				label, pod, _ := strings.Cut(l, "=")
				want = append(want, podLinks(label, pod, tc.p.container, start, 0)...)
			}
			assert.Equal(t, want, linksOf(t, tc.p, task, obj))
		})
	}
}

// Links start at the job's creation; they end at 0 (still running) until
// the job is terminal, then at its completion time.
func TestLinkTimes(t *testing.T) {
	linkConfig(t)
	completion := metav1.NewTime(t3.Add(time.Minute))
	succeeded := started(cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t3, "", ""))
	succeeded.CompletionTime = &completion
	failed := started(cond(kubeflowv1.JobFailed, v1.ConditionTrue, t2, "JobFailed", "boom"))
	for _, tc := range []struct {
		name   string
		status kubeflowv1.JobStatus
		finish int64
	}{
		{"running", runningStatus, 0},
		{"restarting with a completion time", func() kubeflowv1.JobStatus {
			s := started(cond(kubeflowv1.JobRestarting, v1.ConditionTrue, t2, "", ""))
			s.CompletionTime = &completion
			return s
		}(), 0},
		{"succeeded", succeeded, completion.Unix()},
		{"failed, no completion time", failed, t2.Unix()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 1)
				task.GeneratedName = "times-" + p.id
				links := linksOf(t, p, task, p.job(t, task, tc.status))
				require.NotEmpty(t, links)
				for _, l := range links {
					if !strings.HasPrefix(l.uri, "https://grafana") {
						continue
					}
					assert.Contains(t, l.uri, "from="+strconv.FormatInt(created.Unix(), 10)+"&to="+strconv.FormatInt(tc.finish, 10), l.name)
				}
			})
		})
	}
}

// Each replica type links at most maxReplicaLinks pods; 0 means no cap.
func TestMaxReplicaLinks(t *testing.T) {
	linkConfig(t)
	count := func(t *testing.T, p plugin, task kittest.Task, label string) int {
		n := 0
		for _, l := range linksOf(t, p, task, p.job(t, task, runningStatus)) {
			if strings.HasPrefix(l.name, "Kubernetes Logs("+label) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name    string
		limit   int
		workers int32
		want    int
	}{
		{"default cap of 32", 32, 40, 32},
		{"cap of 2", 2, 5, 2},
		{"under the cap", 8, 5, 5},
		{"no cap", 0, 40, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The per-type cap alone; TestSharedPodCap has both.
			setLiveView(t, 0, 100000)
			withKF(t, kf.Config{Timeout: kf.GetConfig().Timeout, MaxReplicaLinks: tc.limit})
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, tc.workers)
				assert.Equal(t, tc.want, count(t, p, task, "worker-"))
			})
			// The cap is per replica type: TF's parameter servers get their own.
			tf := allPlugins[1]
			task := tf.task(t, 0, &plugins.DistributedTensorflowTrainingTask{PsReplicas: tc.workers, Workers: tc.workers})
			assert.Equal(t, tc.want, count(t, tf, task, "ps-"))
			assert.Equal(t, tc.want, count(t, tf, task, "worker-"))
		})
	}
	assert.Equal(t, 32, kf.GetConfig().MaxReplicaLinks, "the registered default")
}

// A task's config link_type adds the dynamic links it names, per pod, with
// the task config's variables.
func TestDynamicLinks(t *testing.T) {
	linkConfig(t)
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.workers(t, 1)
		task.Template.Config = map[string]string{"link_type": "tensorboard", "port": "6006"}
		var dynamic []link
		for _, l := range linksOf(t, p, task, p.job(t, task, runningStatus)) {
			if strings.HasPrefix(l.name, "TensorBoard") {
				dynamic = append(dynamic, l)
			}
		}
		first := map[string]string{pytorch.PluginID: "master-0", tensorflow.PluginID: "worker-0", mpi.PluginID: "launcher"}[p.id]
		firstPod := map[string]string{pytorch.PluginID: "-master-0", tensorflow.PluginID: "-worker-0", mpi.PluginID: "-launcher"}[p.id]
		require.NotEmpty(t, dynamic)
		assert.Equal(t, link{"TensorBoard(" + first + ")", "https://tb/" + namespace + "/" + jobName + firstPod + "?port=6006"}, dynamic[0])
		assert.Len(t, dynamic, map[string]int{pytorch.PluginID: 2, tensorflow.PluginID: 1, mpi.PluginID: 2}[p.id], "one per pod")

		// No link_type, no dynamic links.
		task.Template.Config = nil
		for _, l := range linksOf(t, p, task, p.job(t, task, runningStatus)) {
			assert.NotContains(t, l.name, "TensorBoard")
		}
	})
}

// Without a log config there are no links, and no error.
func TestNoLinkConfig(t *testing.T) {
	withLogs(t, logs.LogConfig{})
	eachPlugin(t, func(t *testing.T, p plugin) {
		task := p.workers(t, 3)
		assert.Empty(t, linksOf(t, p, task, p.job(t, task, runningStatus)))
	})
}

// Links render on every status, queued and failed included.
func TestLinksOnEveryStatus(t *testing.T) {
	linkConfig(t)
	withKF(t, kf.Config{Timeout: config.Duration{Duration: time.Minute}, MaxReplicaLinks: 32})
	for name, status := range map[string]kubeflowv1.JobStatus{
		"no status, overdue": {},
		"created":            started(cond(kubeflowv1.JobCreated, v1.ConditionTrue, t0, "", "")),
		"failed":             started(cond(kubeflowv1.JobFailed, v1.ConditionTrue, t2, "", "")),
		"unknown type":       started(cond("Quiescing", v1.ConditionTrue, t2, "", "")),
	} {
		t.Run(name, func(t *testing.T) {
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, 1)
				task.GeneratedName = "every-" + p.id
				pods := map[string]int{pytorch.PluginID: 2, tensorflow.PluginID: 1, mpi.PluginID: 2}[p.id]
				assert.Len(t, linksOf(t, p, task, p.job(t, task, status)), 2*pods, "two links a pod")
			})
		})
	}
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

// Two caps bound the per-pod links and the smaller wins: the per-type
// plugins.kf-operator.maxReplicaLinks and the job-wide
// plugins.queueing.liveView.maxPodLinks. Pods left out are reached through
// one aggregate link on the job's name.
func TestSharedPodCap(t *testing.T) {
	linkConfig(t)
	aggregate := func(n int) []link {
		return []link{
			{"Kubernetes Logs(all " + strconv.Itoa(n) + " pods of " + jobName + ")", "https://k8s/" + namespace + "/" + jobName},
			{"Grafana(all " + strconv.Itoa(n) + " pods of " + jobName + ")", ""},
		}
	}
	for _, tc := range []struct {
		name            string
		perType, shared int
		workers         int32
	}{
		{"both off", 0, 0, 6},
		{"shared cap smaller", 32, 4, 6},
		{"per-type cap smaller", 2, 8, 6},
		{"under both", 8, 8, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setLiveView(t, tc.shared, 100000)
			withKF(t, kf.Config{Timeout: kf.GetConfig().Timeout, MaxReplicaLinks: tc.perType})
			eachPlugin(t, func(t *testing.T, p plugin) {
				task := p.workers(t, tc.workers)
				links := linksOf(t, p, task, p.job(t, task, runningStatus))
				total := int(tc.workers)
				if p.id != "tensorflow" { // PyTorch's master, MPI's launcher
					total++
				}
				var perPod, agg []link
				for _, l := range links {
					if strings.Contains(l.name, "(all ") {
						agg = append(agg, l)
					} else {
						perPod = append(perPod, l)
					}
				}
				wantLinked := int(tc.workers)
				if tc.perType > 0 {
					wantLinked = min(wantLinked, tc.perType)
				}
				if p.id != "tensorflow" {
					wantLinked++ // the master or launcher, a type of its own
				}
				if tc.shared > 0 {
					wantLinked = min(wantLinked, tc.shared)
				}
				assert.Len(t, perPod, 2*wantLinked, "two links a linked pod")
				if wantLinked < total {
					require.Len(t, agg, 2)
					want := aggregate(total)
					assert.Equal(t, want[0], agg[0])
					assert.Equal(t, want[1].name, agg[1].name)
					assert.Contains(t, agg[1].uri, "https://grafana/"+jobName+"/")
				} else {
					assert.Empty(t, agg)
				}
			})
		})
	}
}

// Rounds the way propeller runs them: a Running job's version holds while
// nothing changes, grows when the reason does (a restart), never falls.
func TestLiveViewVersions(t *testing.T) {
	linkConfig(t)
	restarting := started(cond(kubeflowv1.JobRestarting, v1.ConditionTrue, t2, "JobRestarting", "worker-1 exited"))
	eachPlugin(t, func(t *testing.T, p plugin) {
		var st k8s.PluginState
		var prev uint32
		for i, r := range []struct {
			status kubeflowv1.JobStatus
			bump   bool
		}{{runningStatus, false}, {runningStatus, false}, {restarting, true}, {restarting, false}, {runningStatus, true}} {
			task := p.workers(t, 2)
			task.State = st
			info := p.phase(t, task, p.job(t, task, r.status))
			v := info.Version()
			if i > 0 {
				assert.GreaterOrEqual(t, v, prev, "round %d: never falls", i)
				if r.bump {
					assert.Greater(t, v, prev, "round %d: a new reason", i)
				} else {
					assert.Equal(t, prev, v, "round %d: nothing changed", i)
				}
			}
			prev = v
			st = k8s.PluginState{Phase: info.Phase(), PhaseVersion: v, Reason: info.Reason()}
		}
	})
}

package kit

import (
	"strings"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func linkNames(ls []*core.TaskLog) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.GetName()
	}
	return out
}

func TestRenderPods(t *testing.T) {
	cfg := &logs.LogConfig{
		IsKubernetesEnabled:   true,
		KubernetesTemplateURI: "https://k8s/{{ .namespace }}/{{ .podName }}",
		Templates: []tasklog.TemplateLogPlugin{
			// Names no pod: the job's own links carry it, never once per pod.
			{DisplayName: "Grafana", TemplateURIs: []string{"https://grafana/{{ .namespace }}"}},
		},
		DynamicLogLinks: map[string]tasklog.TemplateLogPlugin{
			"vscode": {DisplayName: "VS Code", TemplateURIs: []string{"https://vscode/{{ .podName }}"}},
		},
	}
	set := PodSet{Pods: []string{"job-exec-1", "job-exec-2", "job-exec-3"}, Prefix: "job", Job: "job"}
	in := LogInput{Namespace: "ns", TaskTemplate: &core.TaskTemplate{Config: map[string]string{"link_type": "vscode"}}}

	for _, tc := range []struct {
		name  string
		set   PodSet
		limit int
		want  []string
		uris  []string
	}{
		{"no cap", set, 0,
			[]string{"Kubernetes Logs(job-exec-1)", "Kubernetes Logs(job-exec-2)", "Kubernetes Logs(job-exec-3)"},
			[]string{"https://k8s/ns/job-exec-1", "https://k8s/ns/job-exec-2", "https://k8s/ns/job-exec-3"}},
		{"cap above the set", set, 5,
			[]string{"Kubernetes Logs(job-exec-1)", "Kubernetes Logs(job-exec-2)", "Kubernetes Logs(job-exec-3)"}, nil},
		{"cap: the rest through one aggregate", set, 2,
			[]string{"Kubernetes Logs(job-exec-1)", "Kubernetes Logs(job-exec-2)", "Kubernetes Logs(all 3 pods of job)"},
			[]string{"https://k8s/ns/job-exec-1", "https://k8s/ns/job-exec-2", "https://k8s/ns/job"}},
		{"unnamed pods counted", PodSet{Pods: []string{"head"}, Total: 4, Prefix: "rc", Job: "rc"}, 0,
			[]string{"Kubernetes Logs(head)", "Kubernetes Logs(all 4 pods of rc)"}, nil},
		{"linked pods count toward the cap", PodSet{Pods: set.Pods, Linked: 1, Prefix: "job", Job: "job"}, 2,
			[]string{"Kubernetes Logs(job-exec-1)", "Kubernetes Logs(all 4 pods of job)"}, nil},
		{"cap taken by linked pods: only the aggregate", PodSet{Pods: set.Pods, Linked: 1, Prefix: "job", Job: "job"}, 1,
			[]string{"Kubernetes Logs(all 4 pods of job)"}, nil},
		{"only linked pods, others unnamed", PodSet{Linked: 1, Total: 3, Prefix: "rc", Job: "rc"}, 0,
			[]string{"Kubernetes Logs(all 3 pods of rc)"}, nil},
		{"only linked pods", PodSet{Linked: 1, Prefix: "rc", Job: "rc"}, 0, []string{}, nil},
		{"no prefix, no aggregate", PodSet{Pods: []string{"a", "b"}}, 1,
			[]string{"Kubernetes Logs(a)"}, nil},
		{"no pods", PodSet{}, 0, []string{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l LogLinks
			got := l.RenderPods(nil, cfg, in, tc.set, tc.limit)
			assert.Equal(t, tc.want, linkNames(got))
			for i, u := range tc.uris {
				assert.Equal(t, u, got[i].GetUri())
			}
		})
	}
	var l LogLinks
	assert.Nil(t, l.RenderPods(nil, nil, in, set, 0))
}

func TestPodSetReason(t *testing.T) {
	many := make([]string, 12)
	for i := range many {
		many[i] = "spark-pi-exec-" + string(rune('a'+i))
	}
	long := []string{strings.Repeat("a", 200), strings.Repeat("b", 200)}
	for _, tc := range []struct {
		name  string
		pods  []string
		total int
		want  string
	}{
		{"none", nil, 0, ""},
		{"one", []string{"runner"}, 0, "1 pod: runner"},
		{"three", []string{"spark-pi-driver", "spark-pi-exec-1", "spark-pi-exec-2"}, 0,
			"3 pods: spark-pi-driver, spark-pi-exec-1, spark-pi-exec-2"},
		{"unnamed ones", []string{"rc-head"}, 3, "3 pods: rc-head and 2 more"},
		{"none named", nil, 3, "3 pods"},
		{"past the names cap", many, 0,
			"12 pods: spark-pi-exec-a, spark-pi-exec-b, spark-pi-exec-c, spark-pi-exec-d, spark-pi-exec-e, spark-pi-exec-f, spark-pi-exec-g, spark-pi-exec-h and 4 more (set "},
		{"past the length cap", long, 0, "2 pods: " + long[0] + " and 1 more (set "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PodSetReason(tc.pods, tc.total)
			if strings.HasSuffix(tc.want, "(set ") {
				assert.True(t, strings.HasPrefix(got, tc.want), got)
				assert.Len(t, got, len(tc.want)+9)
			} else {
				assert.Equal(t, tc.want, got)
			}
			assert.LessOrEqual(t, len(got), reasonBytes+40)
			assert.Equal(t, got, PodSetReason(tc.pods, tc.total), "deterministic")
		})
	}
	// A change among the unlisted names still changes the reason.
	other := append([]string(nil), many...)
	other[11] = "spark-pi-exec-z"
	assert.NotEqual(t, PodSetReason(many, 0), PodSetReason(other, 0))
}

func TestPodNameLess(t *testing.T) {
	ordered := []string{"a", "a-1", "a-2", "a-10", "a-10b", "a-010b", "a-b", "b"}
	for i, a := range ordered {
		for j, b := range ordered {
			assert.Equal(t, i < j, PodNameLess(a, b), "%q < %q", a, b)
			assert.Equal(t, compare(i, j), PodNameCompare(a, b))
		}
	}
}

func compare(i, j int) int {
	switch {
	case i < j:
		return -1
	case i > j:
		return 1
	}
	return 0
}

// The shared-buffer render of RenderPods gives what a render per pod gives.
func TestRenderPodsMatchesRender(t *testing.T) {
	cfg := &logs.LogConfig{
		IsKubernetesEnabled: true, KubernetesURL: "https://k8s",
		IsCloudwatchEnabled: true, CloudwatchRegion: "us-east-1", CloudwatchLogGroup: "g",
		Templates: []tasklog.TemplateLogPlugin{
			{DisplayName: "Kibana {{ .namespace }}", TemplateURIs: []string{"https://kibana/{{ .podName }}?from={{ .podUnixStartTime }}", "https://other/{{ .podName }}/{{ .logName }}"},
				ShowWhilePending: true, MessageFormat: core.TaskLog_CSV},
			{DisplayName: "Job", TemplateURIs: []string{"https://job/{{ .namespace }}"}},
			{DisplayName: "Cluster", TemplateURIs: []string{"https://c/{{ .podName }}/{{ .rayClusterName }}"}},
		},
	}
	in := LogInput{Namespace: "ns", Vars: []Var{{Name: "rayClusterName"}}}
	pods := []string{"p-1", "p-2"}
	var l LogLinks
	got := l.RenderPods(nil, cfg, in, PodSet{Pods: pods}, 0)
	var want []*core.TaskLog
	for _, p := range pods {
		one := in
		one.PodName, one.LogName, one.PodScoped = p, LogName(p), true
		want, _ = l.Render(want, cfg, one)
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, proto.Equal(want[i], got[i]), "%v != %v", want[i], got[i])
	}
	assert.Len(t, got, 8, "k8s, cloudwatch and two Kibana links a pod; the job link names no pod, the cluster link waits")
}

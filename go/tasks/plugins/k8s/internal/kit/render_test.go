package kit

import (
	"regexp"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

type execID struct{ id *core.TaskExecutionIdentifier }

func (e execID) GetGeneratedName() string { return "f8a1b2c3d4-n0-2" }
func (e execID) GetGeneratedNameWith(int, int) (string, error) {
	return "f8a1b2c3d4-n0-2", nil
}
func (e execID) GetID() core.TaskExecutionIdentifier {
	return core.TaskExecutionIdentifier{TaskId: e.id.GetTaskId(), NodeExecutionId: e.id.GetNodeExecutionId(), RetryAttempt: e.id.GetRetryAttempt()}
}
func (e execID) GetUniqueNodeID() string { return "n0-sub" }

// Every variable tasklog knows, in several spellings.
const allVars = "{{ .logName }}|{{.podName}}|{{ $podUID }}|{{ .namespace }}|{{ .containerName }}|{{ .containerId }}|" +
	"{{ .hostname }}|{{ .nodeName }}|{{ .podRFC3339StartTime }}|{{ .podRFC3339FinishTime }}|{{ .podUnixStartTime }}|" +
	"{{ .podUnixFinishTime }}|{{ .taskID }}|{{ .taskVersion }}|{{ .taskProject }}|{{ .taskDomain }}|" +
	"{{ .taskRetryAttempt }}|{{ .nodeID }}|{{ .executionName }}|{{ .executionProject }}|{{ .executionDomain }}|" +
	"{{ .generatedName }}|{{ .PODNAME }}|{{ .unknownVar }}|{{ podName }}|{{ .rayClusterName }}|{{ .taskConfig.project }}|{{ x"

// podPlaceholder is tasklog's {{ .podName }} as it stays in a link rendered
// without a pod name.
var podPlaceholder = regexp.MustCompile(`(?i){{\s*[.$]podname\s*}}`)

// The fast renderer must produce exactly what flyteplugins' tasklog does,
// except that a link naming the pod waits until there is one.
func TestRendererMatchesTasklog(t *testing.T) {
	configs := map[string]*logs.LogConfig{
		"kubernetes default": {IsKubernetesEnabled: true, KubernetesURL: "http://k8s"},
		"kubernetes template, cloudwatch, stackdriver defaults": {
			IsKubernetesEnabled: true, KubernetesTemplateURI: "https://k/{{ .namespace }}/{{ .podName }}",
			IsCloudwatchEnabled: true, CloudwatchRegion: "us-east-1", CloudwatchLogGroup: "/eks/flyte",
			IsStackDriverEnabled: true, GCPProjectName: "proj", StackdriverLogResourceName: "k8s_container",
		},
		"every variable": {Templates: []tasklog.TemplateLogPlugin{{
			DisplayName: "All {{ .taskID }} ", TemplateURIs: []string{allVars, "plain"}, MessageFormat: core.TaskLog_JSON,
			ShowWhilePending: true, HideOnceFinished: true,
		}}},
		"dynamic": {DynamicLogLinks: map[string]tasklog.TemplateLogPlugin{
			"wandb": {DisplayName: "W&B", TemplateURIs: []string{"https://wandb/{{ .taskConfig.project }}/{{ .podName }}/{{ .taskConfig.missing }}"}},
		}},
		"templates with their own dynamic links": {Templates: []tasklog.TemplateLogPlugin{
			{
				Name: "vscode", DisplayName: "VS Code", TemplateURIs: []string{"https://static/{{ .podName }}/{{ .taskConfig.port }}"},
				DynamicTemplateURIs: []string{"vscode://x:{{ .taskConfig.port }}/{{ .podName }}", "https://y/{{ .namespace }}"},
				MessageFormat:       core.TaskLog_JSON,
			},
			{DisplayName: "Other", TemplateURIs: []string{"https://other/{{ .namespace }}"}},
		}},
		"empty": {},
	}
	id := &core.TaskExecutionIdentifier{
		TaskId:          &core.Identifier{Project: "p", Domain: "d", Name: "t", Version: "v7"},
		NodeExecutionId: &core.NodeExecutionIdentifier{NodeId: "n0", ExecutionId: &core.WorkflowExecutionIdentifier{Project: "ep", Domain: "ed", Name: "en"}},
		RetryAttempt:    2,
	}
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	inputs := map[string]LogInput{
		"full": {
			PodName: "pod-a", Namespace: "ns", LogName: " (Driver Logs)", Start: start, Finish: start.Add(time.Minute),
			TaskExecID: execID{id}, Vars: []Var{{Name: "rayClusterName", Value: "rc-1"}},
			TaskTemplate: &core.TaskTemplate{Config: map[string]string{"link_type": "wandb,other,vscode", "project": "churn", "port": "8080"}},
		},
		"sparse":              {Namespace: "ns"},
		"no link type":        {PodName: "p", TaskTemplate: &core.TaskTemplate{}},
		"log name with a var": {PodName: "p", LogName: " {{ .podName }}", TaskExecID: execID{proto.Clone(id).(*core.TaskExecutionIdentifier)}},
	}
	for cname, cfg := range configs {
		for iname, in := range inputs {
			t.Run(cname+"/"+iname, func(t *testing.T) {
				p, err := logs.InitializeLogPlugins(cfg)
				require.NoError(t, err)
				start, finish := unix(in.Start), unix(in.Finish)
				want, err := p.GetTaskLogs(tasklog.Input{
					PodName: in.PodName, Namespace: in.Namespace, LogName: in.LogName,
					PodRFC3339StartTime:  time.Unix(start, 0).UTC().Format(time.RFC3339),
					PodRFC3339FinishTime: time.Unix(finish, 0).UTC().Format(time.RFC3339),
					PodUnixStartTime:     start, PodUnixFinishTime: finish,
					TaskExecutionID: in.TaskExecID, ExtraTemplateVars: tasklogVars(in.Vars), TaskTemplate: in.TaskTemplate,
				})
				require.NoError(t, err)
				if in.PodName == "" {
					// Deliberately unlike tasklog: a link that names the pod
					// waits for it instead of showing the placeholder.
					kept := want.TaskLogs[:0]
					for _, l := range want.TaskLogs {
						if !podPlaceholder.MatchString(l.GetUri()) && !podPlaceholder.MatchString(l.GetName()) {
							kept = append(kept, l)
						}
					}
					want.TaskLogs = kept
				}
				var l LogLinks
				got, err := l.Render(nil, cfg, in)
				require.NoError(t, err)
				require.Len(t, got, len(want.TaskLogs))
				for i := range got {
					assert.True(t, proto.Equal(want.TaskLogs[i], got[i]), "link %d\nwant %v\ngot  %v", i, want.TaskLogs[i], got[i])
				}
			})
		}
	}
}

func TestRenderTemplateAndCache(t *testing.T) {
	tmpl := &tasklog.TemplateLogPlugin{DisplayName: "Ray Dashboard", TemplateURIs: []string{"https://ray/{{ .namespace }}/{{ .rayClusterName }}"}}
	var l LogLinks
	in := LogInput{Namespace: "ns", Vars: []Var{{Name: "rayClusterName", Value: "rc"}}}
	got := l.RenderTemplate(nil, tmpl, in)
	require.Len(t, got, 1)
	assert.Equal(t, "https://ray/ns/rc", got[0].GetUri())
	assert.Equal(t, "Ray Dashboard", got[0].GetName())

	// A new config object is parsed anew.
	cfg1 := &logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{{TemplateURIs: []string{"one"}}}}
	cfg2 := &logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{{TemplateURIs: []string{"two"}}}}
	var links LogLinks
	a, _ := links.Render(nil, cfg1, in)
	b, _ := links.Render(nil, cfg2, in)
	assert.Equal(t, "one", a[0].GetUri())
	assert.Equal(t, "two", b[0].GetUri())
	in.ShowWhilePending = true
	c, _ := links.Render(nil, cfg2, in)
	assert.True(t, c[0].GetShowWhilePending())
}

func BenchmarkRender(b *testing.B) {
	cfg := &logs.LogConfig{IsKubernetesEnabled: true, KubernetesTemplateURI: "https://k8s/{{ .namespace }}/{{ .podName }}?since={{ .podUnixStartTime }}"}
	var l LogLinks
	in := LogInput{PodName: "pod", Namespace: "ns", LogName: " (Driver Logs)", Start: time.Unix(1e9, 0)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := l.Render(nil, cfg, in); err != nil {
			b.Fatal(err)
		}
	}
}

// tasklogVars are Vars in tasklog's form, for the comparison.
func tasklogVars(vars []Var) []tasklog.TemplateVar {
	var out []tasklog.TemplateVar
	for _, v := range vars {
		out = append(out, tasklog.TemplateVar{Regex: tasklog.MustCreateRegex(v.Name), Value: v.Value})
	}
	return out
}

// Without a pod name, links that name the pod are left out and the others
// render; with one, all render.
func TestLinksNamingThePodWaitForIt(t *testing.T) {
	cfg := &logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{
		{DisplayName: "Pod", TemplateURIs: []string{"https://logs/{{ .namespace }}/{{ .podName }}"}},
		{DisplayName: "Cluster", TemplateURIs: []string{"https://logs/{{ .namespace }}/{{ .rayClusterName }}"}},
		{DisplayName: "Pod {{ .podName }}", TemplateURIs: []string{"https://x"}},
	}}
	var l LogLinks
	in := LogInput{Namespace: "ns", Vars: []Var{{Name: "rayClusterName", Value: "rc"}}}
	got, _ := l.Render(nil, cfg, in)
	require.Len(t, got, 1)
	assert.Equal(t, "https://logs/ns/rc", got[0].GetUri())

	in.PodName = "head-0"
	got, _ = l.Render(nil, cfg, in)
	require.Len(t, got, 3)
	assert.Equal(t, "https://logs/ns/head-0", got[0].GetUri())
	assert.Equal(t, "Pod head-0", got[2].GetName())
}

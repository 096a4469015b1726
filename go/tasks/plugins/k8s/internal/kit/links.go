package kit

import (
	"sync/atomic"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
)

// LogInput is what one set of log links is rendered from.
type LogInput struct {
	PodName   string
	Namespace string
	// ContainerName is the pod's primary container, for {{ .containerName }}.
	ContainerName string
	// LogName is appended to each template's display name, e.g. " (Driver Logs)".
	LogName string
	// Start and Finish bound the time range log UIs show; a zero Finish
	// renders as 0 (still running).
	Start, Finish time.Time
	// Vars are plugin-specific template variables ({{ .rayClusterName }}).
	Vars []Var
	// TaskExecID and TaskTemplate feed the standard variables and the
	// task-config `link_type` dynamic links.
	TaskExecID   pluginsCore.TaskExecutionID
	TaskTemplate *core.TaskTemplate
	// ShowWhilePending marks every produced link as visible while queued.
	ShowWhilePending bool
	// PodScoped renders only the templates whose URI names {{ .podName }},
	// and no task-config links: the per-pod links of RenderPods, where the
	// other templates would repeat the job's own links once per pod.
	PodScoped bool
}

// LogLinks renders log links for one log config. The config is parsed once
// per config object and reused (propeller asks for links on every round);
// a config section that hands out a new object gets it re-parsed.
type LogLinks struct {
	cache atomic.Pointer[logCacheEntry]
}

type logCacheEntry struct {
	key      any
	compiled *compiledLogs
}

func (l *LogLinks) compiled(key any, compile func() *compiledLogs) *compiledLogs {
	if e := l.cache.Load(); e != nil && e.key == key {
		return e.compiled
	}
	c := compile()
	l.cache.Store(&logCacheEntry{key: key, compiled: c})
	return c
}

// Render appends the links cfg produces for in to dst: the same links
// flyteplugins' log plugins produce for that config (TestRendererMatchesTasklog).
func (l *LogLinks) Render(dst []*core.TaskLog, cfg *logs.LogConfig, in LogInput) ([]*core.TaskLog, error) {
	if cfg == nil {
		return dst, nil
	}
	c := l.compiled(cfg, func() *compiledLogs { return compileLogConfig(cfg) })
	return c.render(dst, &in), nil
}

// RenderTemplate appends the links of one template plugin (a dashboard link
// from a plugin's own config) to dst, parsed once per template object. Use
// one LogLinks per template.
func (l *LogLinks) RenderTemplate(dst []*core.TaskLog, t *tasklog.TemplateLogPlugin, in LogInput) []*core.TaskLog {
	if t == nil {
		return dst
	}
	c := l.compiled(t, func() *compiledLogs {
		return &compiledLogs{static: []linkTemplate{compileTemplatePlugin(*t, t.TemplateURIs)}}
	})
	return c.render(dst, &in)
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// LogName is the suffix a role's links get after each template's display
// name, upstream's rule for every plugin: "Kubernetes Logs" for the Dask
// runner reads "Kubernetes Logs(Dask Runner Logs)". Platforms match these
// names, so they are part of the drop-in surface.
func LogName(label string) string {
	if label == "" {
		return ""
	}
	return "(" + label + ")"
}

package kit

import (
	"regexp"
	"sync/atomic"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
)

// TemplateVar makes an extra log-template variable, `{{ .name }}` in a
// template. Build the regex once (a package var) and reuse it per call.
func TemplateVar(name string) *regexp.Regexp { return tasklog.MustCreateRegex(name) }

// LogInput is what one set of log links is rendered from.
type LogInput struct {
	PodName   string
	Namespace string
	// LogName is appended to each template's display name, e.g. " (Driver Logs)".
	LogName string
	// Start and Finish bound the time range log UIs show; a zero Finish
	// renders as 0 (still running).
	Start, Finish time.Time
	// ExtraVars are plugin-specific template variables.
	ExtraVars []tasklog.TemplateVar
	// TaskExecID and TaskTemplate feed the standard variables and the
	// task-config `link_type` dynamic links.
	TaskExecID   pluginsCore.TaskExecutionID
	TaskTemplate *core.TaskTemplate
	// ShowWhilePending marks every produced link as visible while queued.
	ShowWhilePending bool
}

// LogLinks renders log links for one logs.LogConfig. The log plugin is built
// once per config object and reused (propeller asks for links on every
// round), and rebuilt when the config section hands out a new object.
type LogLinks struct {
	cache atomic.Pointer[logCacheEntry]
}

type logCacheEntry struct {
	cfg    *logs.LogConfig
	plugin tasklog.Plugin
}

// Plugin returns the log plugin for cfg, nil when cfg enables no links.
func (l *LogLinks) Plugin(cfg *logs.LogConfig) (tasklog.Plugin, error) {
	if e := l.cache.Load(); e != nil && e.cfg == cfg {
		return e.plugin, nil
	}
	p, err := logs.InitializeLogPlugins(cfg)
	if err != nil {
		return nil, err
	}
	l.cache.Store(&logCacheEntry{cfg: cfg, plugin: p})
	return p, nil
}

// Render appends the links cfg produces for in to dst.
func (l *LogLinks) Render(dst []*core.TaskLog, cfg *logs.LogConfig, in LogInput) ([]*core.TaskLog, error) {
	if cfg == nil {
		return dst, nil
	}
	p, err := l.Plugin(cfg)
	if err != nil || p == nil {
		return dst, err
	}
	start, finish := unix(in.Start), unix(in.Finish)
	out, err := p.GetTaskLogs(tasklog.Input{
		PodName:              in.PodName,
		Namespace:            in.Namespace,
		LogName:              in.LogName,
		PodRFC3339StartTime:  time.Unix(start, 0).UTC().Format(time.RFC3339),
		PodRFC3339FinishTime: time.Unix(finish, 0).UTC().Format(time.RFC3339),
		PodUnixStartTime:     start,
		PodUnixFinishTime:    finish,
		TaskExecutionID:      in.TaskExecID,
		ExtraTemplateVars:    in.ExtraVars,
		TaskTemplate:         in.TaskTemplate,
	})
	if err != nil {
		return dst, err
	}
	for _, tl := range out.TaskLogs {
		if in.ShowWhilePending {
			tl.ShowWhilePending = true
		}
		dst = append(dst, tl)
	}
	return dst, nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

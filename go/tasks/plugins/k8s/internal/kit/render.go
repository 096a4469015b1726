package kit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
)

// This file renders log-link templates with the same variables and results
// as flyteplugins' tasklog, without its cost: tasklog runs one regular
// expression per variable over every string on every call, about a hundred
// allocations a link, on propeller's hottest path. Here a template is parsed
// once per config into literal and variable segments and rendered in one
// pass. TestRendererMatchesTasklog holds the two to the same output.

// segment is a literal run or a placeholder of a parsed template.
type segment struct {
	text string // the literal, or the placeholder as written
	name string // lower-cased variable name; "" for a literal
	// taskConfig marks {{ .taskConfig.<name> }}, resolved from the task
	// template's config in dynamic links only.
	taskConfig bool
}

type template []segment

// parseTemplate splits s at placeholders of the form {{ .name }} or
// {{ $name }} (spaces optional, as tasklog accepts).
func parseTemplate(s string) template {
	var out template
	for len(s) > 0 {
		open := strings.Index(s, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(s[open:], "}}")
		if end < 0 {
			break
		}
		end += open + 2
		inner := strings.TrimSpace(s[open+2 : end-2])
		if len(inner) < 2 || (inner[0] != '.' && inner[0] != '$') {
			out = append(out, segment{text: s[:open+2]})
			s = s[open+2:]
			continue
		}
		if open > 0 {
			out = append(out, segment{text: s[:open]})
		}
		name := strings.ToLower(inner[1:])
		seg := segment{text: s[open:end], name: name}
		if rest, ok := strings.CutPrefix(name, "taskconfig"); ok && len(rest) > 1 && (rest[0] == '.' || rest[0] == '$') {
			// tasklog captures the config key as written, so keep its case.
			seg.name, seg.taskConfig = inner[len("taskconfig")+2:], true
		}
		out = append(out, seg)
		s = s[end:]
	}
	if len(s) > 0 {
		out = append(out, segment{text: s})
	}
	return out
}

// linkTemplate is one log link of a config, parsed.
type linkTemplate struct {
	name string // dynamic link type; "" for static links
	// dynamicURIs are a logs.templates entry's own dynamic links
	// (dynamicTemplateUris), rendered for the link type name.
	dynamicURIs      []template
	displayName      template
	displayNameRaw   string
	uris             []template
	messageFormat    core.TaskLog_MessageFormat
	showWhilePending bool
	hideOnceFinished bool
}

// compiledLogs is a logs.LogConfig parsed for rendering.
type compiledLogs struct {
	static, dynamic []linkTemplate
}

// compileLogConfig lists a config's links in the order upstream's log
// plugins produce them: Kubernetes, CloudWatch, Stackdriver, then the
// templates; dynamic links sorted by type.
func compileLogConfig(cfg *logs.LogConfig) *compiledLogs {
	out := &compiledLogs{}
	add := func(display, uri string) {
		u := parseTemplate(uri)
		out.static = append(out.static, linkTemplate{
			displayName: parseTemplate(display), displayNameRaw: display,
			uris: []template{u}, messageFormat: core.TaskLog_JSON,
		})
	}
	if cfg.IsKubernetesEnabled {
		uri := cfg.KubernetesTemplateURI
		if uri == "" {
			uri = cfg.KubernetesURL + "/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}"
		}
		add("Kubernetes Logs", uri)
	}
	if cfg.IsCloudwatchEnabled {
		uri := cfg.CloudwatchTemplateURI
		if uri == "" {
			uri = fmt.Sprintf("https://console.aws.amazon.com/cloudwatch/home?region=%s#logEventViewer:group=%s;stream=var.log.containers.{{ .podName }}_{{ .namespace }}_{{ .containerName }}-{{ .containerId }}.log", cfg.CloudwatchRegion, cfg.CloudwatchLogGroup)
		}
		add("Cloudwatch Logs", uri)
	}
	if cfg.IsStackDriverEnabled {
		uri := cfg.StackDriverTemplateURI
		if uri == "" {
			uri = fmt.Sprintf("https://console.cloud.google.com/logs/viewer?project=%s&angularJsUrl=%%2Flogs%%2Fviewer%%3Fproject%%3D%s&resource=%s&advancedFilter=resource.labels.pod_name%%3D{{ .podName }}", cfg.GCPProjectName, cfg.GCPProjectName, cfg.StackdriverLogResourceName)
		}
		add("Stackdriver Logs", uri)
	}
	for _, t := range cfg.Templates {
		out.static = append(out.static, compileTemplatePlugin(t, t.TemplateURIs))
	}
	types := make([]string, 0, len(cfg.DynamicLogLinks))
	for k := range cfg.DynamicLogLinks {
		types = append(types, k)
	}
	sort.Strings(types)
	for _, k := range types {
		d := cfg.DynamicLogLinks[k]
		lt := compileTemplatePlugin(d, d.TemplateURIs)
		lt.name, lt.messageFormat = k, core.TaskLog_JSON
		out.dynamic = append(out.dynamic, lt)
	}
	return out
}

func compileTemplatePlugin(t tasklog.TemplateLogPlugin, uris []string) linkTemplate {
	lt := linkTemplate{
		name: t.Name, displayName: parseTemplate(t.DisplayName), displayNameRaw: t.DisplayName,
		messageFormat: t.MessageFormat, showWhilePending: t.ShowWhilePending, hideOnceFinished: t.HideOnceFinished,
	}
	for _, u := range uris {
		lt.uris = append(lt.uris, parseTemplate(u))
	}
	for _, u := range t.DynamicTemplateURIs {
		lt.dynamicURIs = append(lt.dynamicURIs, parseTemplate(u))
	}
	return lt
}

// vars resolves variables for one render; times are formatted on demand.
type vars struct {
	in            *LogInput
	execID        core.TaskExecutionIdentifier
	hasExecID     bool
	start, finish int64
	taskConfig    map[string]string
	// logName is the log name with its own placeholders resolved: tasklog
	// substitutes it first, so placeholders in it get the other variables.
	logName string
}

func newVars(in *LogInput) *vars {
	v := &vars{in: in, start: unix(in.Start), finish: unix(in.Finish), logName: in.LogName}
	if in.TaskExecID != nil {
		v.execID = in.TaskExecID.GetID() //nolint:govet // the interface returns the message by value
		v.hasExecID = true
	}
	return v
}

// value returns a variable's value; "" leaves the placeholder as written,
// as tasklog does. pending says the variable is one the plugin knows but
// has no value for yet (the pod name, a declared Var left empty): a link
// naming it waits rather than show the placeholder.
func (v *vars) value(seg segment) (val string, pending bool) {
	if seg.taskConfig {
		return v.taskConfig[seg.name], false
	}
	in := v.in
	for _, x := range in.Vars {
		if strings.EqualFold(x.Name, seg.name) {
			return x.Value, x.Value == ""
		}
	}
	if seg.name == "podname" {
		return in.PodName, in.PodName == ""
	}
	return v.builtin(seg), false
}

// builtin resolves tasklog's standard variables.
func (v *vars) builtin(seg segment) string {
	in := v.in
	switch seg.name {
	case "logname":
		return v.logName
	case "namespace":
		return in.Namespace
	case "containername":
		return in.ContainerName
	case "poduid", "containerid", "hostname", "nodename":
		return ""
	case "podrfc3339starttime":
		return time.Unix(v.start, 0).UTC().Format(time.RFC3339)
	case "podrfc3339finishtime":
		return time.Unix(v.finish, 0).UTC().Format(time.RFC3339)
	case "podunixstarttime":
		return strconv.FormatInt(v.start, 10)
	case "podunixfinishtime":
		return strconv.FormatInt(v.finish, 10)
	}
	if !v.hasExecID {
		return ""
	}
	id := &v.execID
	switch seg.name {
	case "nodeid":
		return in.TaskExecID.GetUniqueNodeID()
	case "generatedname":
		return in.TaskExecID.GetGeneratedName()
	case "taskretryattempt":
		return strconv.FormatUint(uint64(id.GetRetryAttempt()), 10)
	case "taskid":
		return id.GetTaskId().GetName()
	case "taskversion":
		return id.GetTaskId().GetVersion()
	case "taskproject":
		return id.GetTaskId().GetProject()
	case "taskdomain":
		return id.GetTaskId().GetDomain()
	case "executionname":
		return id.GetNodeExecutionId().GetExecutionId().GetName()
	case "executionproject":
		return id.GetNodeExecutionId().GetExecutionId().GetProject()
	case "executiondomain":
		return id.GetNodeExecutionId().GetExecutionId().GetDomain()
	}
	return ""
}

// render fills t's placeholders; ok is false when one of them is pending
// (see value).
func (v *vars) render(t template, b *strings.Builder) (out string, ok bool) {
	if len(t) == 1 && t[0].name == "" {
		return t[0].text, true
	}
	b.Reset()
	ok = true
	for _, seg := range t {
		if seg.name == "" {
			b.WriteString(seg.text)
			continue
		}
		val, pending := v.value(seg)
		ok = ok && !pending
		if val != "" {
			b.WriteString(val)
		} else {
			b.WriteString(seg.text)
		}
	}
	return b.String(), ok
}

// render appends the links of c for in to dst.
func (c *compiledLogs) render(dst []*core.TaskLog, in *LogInput) []*core.TaskLog {
	v := newVars(in)
	var b strings.Builder
	if strings.Contains(v.logName, "{{") {
		v.logName, _ = v.render(parseTemplate(v.logName), &b)
	}
	logName := v.logName
	var linkTypes []string
	if lt := in.TaskTemplate.GetConfig()["link_type"]; lt != "" {
		linkTypes = strings.Split(lt, ",")
	}
	for i := range c.static {
		lt := &c.static[i]
		if in.PodScoped && !lt.namesPod() {
			continue
		}
		if name, ok := v.render(lt.displayName, &b); ok {
			name += logName
			for _, u := range lt.uris {
				if uri, ok := v.render(u, &b); ok {
					dst = append(dst, lt.taskLog(uri, name, in))
				}
			}
		}
		// A template's own dynamic links follow its static ones, as tasklog
		// renders them.
		if len(lt.dynamicURIs) > 0 {
			dst = renderDynamic(dst, lt, lt.dynamicURIs, linkTypes, v, &b)
		}
	}
	for i := range c.dynamic {
		if in.PodScoped {
			break
		}
		lt := &c.dynamic[i]
		dst = renderDynamic(dst, lt, lt.uris, linkTypes, v, &b)
	}
	return dst
}

// renderDynamic appends lt's dynamic links, uris, once for each of the
// task's link types that names it; they see the task config's variables.
func renderDynamic(dst []*core.TaskLog, lt *linkTemplate, uris []template, linkTypes []string, v *vars, b *strings.Builder) []*core.TaskLog {
	for _, typ := range linkTypes {
		if lt.name != typ {
			continue
		}
		v.taskConfig = v.in.TaskTemplate.GetConfig()
		for _, u := range uris {
			if uri, ok := v.render(u, b); ok {
				dst = append(dst, lt.taskLog(uri, lt.displayNameRaw+v.in.LogName, v.in))
			}
		}
		v.taskConfig = nil
	}
	return dst
}

// namesPod reports whether a URI of the link names {{ .podName }}.
func (lt *linkTemplate) namesPod() bool {
	for _, u := range lt.uris {
		for _, seg := range u {
			if seg.name == "podname" && !seg.taskConfig {
				return true
			}
		}
	}
	return false
}

func (lt *linkTemplate) taskLog(uri, name string, in *LogInput) *core.TaskLog {
	return &core.TaskLog{
		Uri:              uri,
		Name:             name,
		MessageFormat:    lt.messageFormat,
		ShowWhilePending: lt.showWhilePending || in.ShowWhilePending,
		HideOnceFinished: lt.hideOnceFinished,
	}
}

// Var is an extra, plugin-specific log-template variable: {{ .Name }}. One
// with an empty Value is known but not yet reported (a cluster name the
// operator has not set): links that name it wait until it has a value.
type Var struct {
	Name  string
	Value string
}

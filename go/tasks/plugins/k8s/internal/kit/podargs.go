package kit

import (
	"context"
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	v1 "k8s.io/api/core/v1"
)

// Flyte renders every argument of the task container through about ten
// regular expressions and an inputs read, although only arguments with a
// "{{" placeholder can change (every placeholder Flyte knows starts with
// "{{"). A flytekit command line has five such arguments among thirty, so
// rendering is most of the cost of building a task pod. BuildTaskPod hands
// Flyte's pod building a task whose container keeps only the templated
// arguments, then puts the plain ones back around the rendered ones. When
// the built container's arguments are not exactly the rendered templated
// ones (a pod template that adds arguments of its own), it builds the pod
// again from the task as it is. TestBuildTaskPodMatchesFlytePodBuilding
// holds the result equal to flytek8s.ToK8sPodSpec's.

// templatedArgsTask returns a copy of tmpl whose container keeps only the
// templated arguments, and how many it kept; nil when nothing would be
// saved (not a container task, or every argument is templated).
func templatedArgsTask(tmpl *core.TaskTemplate) (*core.TaskTemplate, int) {
	c := tmpl.GetContainer()
	if c == nil {
		return nil, 0
	}
	n := 0
	for _, a := range c.GetArgs() {
		if isTemplated(a) {
			n++
		}
	}
	if n == len(c.GetArgs()) {
		return nil, 0
	}
	var args []string
	if n > 0 {
		args = make([]string, 0, n)
		for _, a := range c.GetArgs() {
			if isTemplated(a) {
				args = append(args, a)
			}
		}
	}
	container := &core.Container{
		Image:        c.GetImage(),
		Command:      c.GetCommand(),
		Args:         args,
		Resources:    c.GetResources(),
		Env:          c.GetEnv(),
		Config:       c.GetConfig(),
		Ports:        c.GetPorts(),
		DataConfig:   c.GetDataConfig(),
		Architecture: c.GetArchitecture(),
	}
	return &core.TaskTemplate{
		Id:                tmpl.GetId(),
		Type:              tmpl.GetType(),
		Metadata:          tmpl.GetMetadata(),
		Interface:         tmpl.GetInterface(),
		Custom:            tmpl.GetCustom(),
		Target:            &core.TaskTemplate_Container{Container: container},
		TaskTypeVersion:   tmpl.GetTaskTypeVersion(),
		SecurityContext:   tmpl.GetSecurityContext(),
		Config:            tmpl.GetConfig(),
		ExtendedResources: tmpl.GetExtendedResources(),
	}, n
}

func isTemplated(arg string) bool { return strings.Contains(arg, "{{") }

// overridesPodSpec reports whether the execution replaces the task's pod
// spec with a pod template of its own. Flyte then runs that template's
// containers with their own arguments, not the task container's, so there
// are no task arguments to put back (and a template whose argument count
// happens to equal the templated ones' would get them spliced in).
func overridesPodSpec(tCtx pluginsCore.TaskExecutionContext) bool {
	o := tCtx.TaskExecutionMetadata().GetOverrides()
	return o != nil && o.GetPodTemplate().GetPodSpec() != nil
}

// restoreArgs puts the plain arguments of original back around the
// rendered templated ones in the primary container. It reports false, and
// changes nothing, when the container does not hold exactly n rendered
// arguments.
func restoreArgs(spec *v1.PodSpec, primary string, original []string, n int) bool {
	var c *v1.Container
	for i := range spec.Containers {
		if spec.Containers[i].Name == primary {
			c = &spec.Containers[i]
			break
		}
	}
	if c == nil || len(c.Args) != n {
		return false
	}
	out := make([]string, len(original))
	j := 0
	for i, a := range original {
		if isTemplated(a) {
			out[i] = c.Args[j]
			j++
		} else {
			out[i] = a
		}
	}
	c.Args = out
	return true
}

// withTemplate is tCtx reading tmpl as its task template.
type withTemplate struct {
	pluginsCore.TaskExecutionContext
	reader templateReader
}

// TaskReader reads the reduced template.
func (w withTemplate) TaskReader() pluginsCore.TaskReader { return w.reader }

// templateReader returns a fixed template and the original's path.
type templateReader struct {
	pluginsCore.TaskReader
	tmpl *core.TaskTemplate
}

// Read returns the reduced template; Path stays the original's.
func (r templateReader) Read(context.Context) (*core.TaskTemplate, error) { return r.tmpl, nil }

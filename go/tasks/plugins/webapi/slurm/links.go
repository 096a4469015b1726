package slurm

import (
	"bytes"
	"fmt"
	"text/template"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"google.golang.org/protobuf/types/known/structpb"
)

// Link names.
const (
	StdoutLinkName = "Slurm stdout"
	StderrLinkName = "Slurm stderr"
)

// Template variables (and custom-info keys) for the job's output paths.
const (
	keyStdout = "stdout"
	keyStderr = "stderr"
)

// linkTemplates are the parsed plugins.slurm.logs templates.
type linkTemplates struct {
	stdout, stderr *template.Template
}

func parseLinks(l LogTemplates) (linkTemplates, error) {
	var out linkTemplates
	for _, x := range []struct {
		src string
		dst **template.Template
		key string
	}{{l.Stdout, &out.stdout, keyStdout}, {l.Stderr, &out.stderr, keyStderr}} {
		if x.src == "" {
			continue
		}
		t, err := template.New(x.key).Option("missingkey=error").Parse(x.src)
		if err != nil {
			return out, fmt.Errorf("plugins.slurm.logs.%s: %w", x.key, err)
		}
		*x.dst = t
	}
	return out, nil
}

// taskInfo is the job's links and state for Flyte to show.
func (l linkTemplates) taskInfo(cluster string, j *jobInfo, now time.Time) *core.TaskInfo {
	info := &core.TaskInfo{OccurredAt: &now}
	vars := map[string]string{"slurmJobID": j.ID, "slurmCluster": cluster, keyStdout: j.StdOut, keyStderr: j.StdErr}
	for _, x := range []struct {
		t    *template.Template
		name string
	}{{l.stdout, StdoutLinkName}, {l.stderr, StderrLinkName}} {
		if x.t == nil || j.ID == "" {
			continue
		}
		var b bytes.Buffer
		if x.t.Execute(&b, vars) != nil || b.Len() == 0 {
			continue
		}
		info.Logs = append(info.Logs, &idlcore.TaskLog{Name: x.name, Uri: b.String(), ShowWhilePending: true})
	}
	fields := map[string]*structpb.Value{}
	for k, v := range map[string]string{"slurmJobID": j.ID, "slurmCluster": cluster, "state": j.State, "reason": j.Reason,
		keyStdout: j.StdOut, keyStderr: j.StdErr} {
		if v != "" {
			fields[k] = structpb.NewStringValue(v)
		}
	}
	info.CustomInfo = &structpb.Struct{Fields: fields}
	return info
}

func structString(s string) *structpb.Value { return structpb.NewStringValue(s) }

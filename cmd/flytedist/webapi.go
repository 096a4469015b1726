package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"
	"github.com/flytedist/flyteplugins/internal/taskctx"
)

// setupContext is what the web-API plugin loader needs at load time.
type setupContext struct{}

func (setupContext) MetricsScope() promutils.Scope { return promutils.NewTestScope() }

// renderDatabricks prints the runs/submit request the Databricks plugin
// would send for a task: the workspace and the body, never a token.
func renderDatabricks(ctx context.Context, task taskctx.Task, out io.Writer) error {
	async, err := databricks.PluginEntry().PluginLoader(ctx, setupContext{})
	if err != nil {
		return fmt.Errorf("plugins.databricks: %w", err)
	}
	p, ok := async.(*databricks.Plugin)
	if !ok {
		return fmt.Errorf("plugins.databricks: unexpected plugin %T", async)
	}
	req, err := p.BuildSubmitRequest(ctx, taskctx.New(task))
	if err != nil {
		return err
	}
	var body any
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return err
	}
	raw, err := yaml.Marshal(map[string]any{
		"request": map[string]any{"method": "POST", "url": "https://" + req.Host + "/api/2.1/jobs/runs/submit"},
		"body":    body,
	})
	if err != nil {
		return err
	}
	_, err = out.Write(raw)
	return err
}

// renderSlurm prints the sbatch submission the Slurm plugin would make for
// a task: the cluster it goes to, the sbatch command line (SSH) or REST
// job fields, and the batch script — never a key or token.
func renderSlurm(ctx context.Context, task taskctx.Task, out io.Writer) error {
	async, err := slurm.PluginEntry().PluginLoader(ctx, setupContext{})
	if err != nil {
		return fmt.Errorf("plugins.slurm: %w", err)
	}
	p, ok := async.(*slurm.Plugin)
	if !ok {
		return fmt.Errorf("plugins.slurm: unexpected plugin %T", async)
	}
	defer p.Close()
	r, err := p.Render(ctx, taskctx.New(task))
	if err != nil {
		return err
	}
	raw, err := yaml.Marshal(r)
	if err != nil {
		return err
	}
	_, err = out.Write(raw)
	return err
}

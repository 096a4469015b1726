package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/taskctx"

	// The plugins, registered as propeller registers them.
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"
)

// execFlags are the execution details a user may set; propeller would take
// them from the workflow execution.
type execFlags struct {
	config, task, namespace, name, serviceAccount, plugin string
	interruptible                                         bool
}

func (f *execFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "propeller config file (plugins.*, logs sections)")
	fs.StringVar(&f.task, "task", "", "task template or TaskSpec, protobuf or JSON")
	fs.StringVar(&f.namespace, "namespace", "flytesnacks-development", "namespace of the execution")
	fs.StringVar(&f.name, "name", "f6b2c3d4e5a6b7c8d9e0-n0-0", "generated name of the task execution")
	fs.StringVar(&f.serviceAccount, "service-account", "", "Kubernetes service account of the execution")
	fs.BoolVar(&f.interruptible, "interruptible", false, "run the task as interruptible")
	fs.StringVar(&f.plugin, "plugin", "", `plugin for a task type two plugins handle ("databricks" for a spark task sent to Databricks)`)
}

func render(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	var f execFlags
	f.register(fs)
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	if f.task == "" {
		return fmt.Errorf("--task is required")
	}
	if err := loadConfig(ctx, f.config); err != nil {
		return err
	}
	tmpl, err := readTask(f.task)
	if err != nil {
		return err
	}
	task, err := f.taskFor(tmpl)
	if err != nil {
		return err
	}
	if f.plugin == "databricks" || (f.plugin == "" && tmpl.GetType() == databricks.TaskTypeDatabricks) {
		return renderDatabricks(ctx, task, out)
	}
	if t := tmpl.GetType(); t == slurm.TaskTypeScript || t == slurm.TaskTypeFunction {
		return renderSlurm(ctx, task, out)
	}
	entry, err := k8sPluginFor(tmpl.GetType())
	if err != nil {
		return err
	}
	obj, err := entry.Plugin.BuildResource(ctx, taskctx.New(task))
	if err != nil {
		return err
	}
	// Propeller names the resource after the execution and sets its
	// namespace before creating it.
	obj.SetName(f.name)
	obj.SetNamespace(f.namespace)
	return writeYAML(out, obj)
}

// taskFor turns the flags and template into the execution propeller would
// hand the plugin: resources resolved from the task's container.
func (f *execFlags) taskFor(tmpl *core.TaskTemplate) (taskctx.Task, error) {
	res := &v1.ResourceRequirements{}
	if c := tmpl.GetContainer(); c != nil && c.GetResources() != nil {
		r, err := flytek8s.ToK8sResourceRequirements(c.GetResources())
		if err != nil {
			return taskctx.Task{}, fmt.Errorf("task resources: %w", err)
		}
		res = r
	}
	return taskctx.Task{
		Template:       tmpl,
		GeneratedName:  f.name,
		Namespace:      f.namespace,
		ServiceAccount: f.serviceAccount,
		Interruptible:  f.interruptible,
		Resources:      res,
		MaxAttempts:    max(1, tmpl.GetMetadata().GetRetries().GetRetries()+1),
	}, nil
}

// k8sPluginFor finds the registered k8s plugin for a task type, as
// propeller's default-for-task-types would.
func k8sPluginFor(taskType string) (k8s.PluginEntry, error) {
	var known []string
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		for _, t := range e.RegisteredTaskTypes {
			if t == taskType {
				return e, nil
			}
			known = append(known, t)
		}
	}
	return k8s.PluginEntry{}, fmt.Errorf("no Kubernetes plugin handles task type %q (known: %s)", taskType, strings.Join(known, ", "))
}

// writeYAML prints obj kubectl-style, with apiVersion and kind set.
func writeYAML(out io.Writer, obj client.Object) error {
	if gvks, _, err := scheme.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = out.Write(raw)
	return err
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/taskctx"
)

func phase(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("phase", flag.ContinueOnError)
	var f execFlags
	f.register(fs)
	resourcePath := fs.String("resource", "", "the resource with its status, YAML or JSON")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	if *resourcePath == "" {
		return fmt.Errorf("--resource is required")
	}
	if err := loadConfig(ctx, f.config); err != nil {
		return err
	}
	entry, obj, err := readResource(*resourcePath)
	if err != nil {
		return err
	}
	tmpl := &core.TaskTemplate{Type: entry.RegisteredTaskTypes[0]}
	if f.task != "" {
		if tmpl, err = readTask(f.task); err != nil {
			return err
		}
	}
	task, err := f.taskFor(tmpl)
	if err != nil {
		return err
	}
	if obj.GetNamespace() != "" {
		task.Namespace = obj.GetNamespace()
	}
	info, err := entry.Plugin.GetTaskPhase(ctx, taskctx.New(task), obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "phase: %s\nversion: %d\n", info.Phase(), info.Version())
	if r := info.Reason(); r != "" {
		fmt.Fprintf(out, "reason: %s\n", r)
	}
	if ti := info.Info(); ti != nil {
		for _, r := range ti.AdditionalReasons {
			fmt.Fprintf(out, "reason: %s\n", r.Reason)
		}
	}
	if e := info.Err(); e != nil {
		fmt.Fprintf(out, "error:\n  code: %s\n  kind: %s\n  message: %s\n", e.GetCode(), e.GetKind(), e.GetMessage())
	}
	if ti := info.Info(); ti != nil {
		if len(ti.Logs) > 0 {
			fmt.Fprintln(out, "links:")
			for _, l := range ti.Logs {
				fmt.Fprintf(out, "  - name: %s\n    uri: %s\n", l.GetName(), l.GetUri())
			}
		}
		if fields := ti.CustomInfo.GetFields(); len(fields) > 0 {
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Fprintln(out, "custom:")
			for _, k := range keys {
				fmt.Fprintf(out, "  %s: %s\n", k, fields[k].GetStringValue())
			}
		}
	}
	return nil
}

// readResource decodes a resource and finds the plugin that watches its kind.
func readResource(path string) (k8s.PluginEntry, client.Object, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return k8s.PluginEntry{}, nil, fmt.Errorf("resource %s: %w", path, err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(raw, &head); err != nil {
		return k8s.PluginEntry{}, nil, fmt.Errorf("resource %s: not YAML or JSON: %w", path, err)
	}
	if head.APIVersion == "" || head.Kind == "" {
		return k8s.PluginEntry{}, nil, fmt.Errorf("resource %s: apiVersion and kind are required", path)
	}
	gv, err := schema.ParseGroupVersion(head.APIVersion)
	if err != nil {
		return k8s.PluginEntry{}, nil, fmt.Errorf("resource %s: apiVersion %q: %w", path, head.APIVersion, err)
	}
	want := gv.WithKind(head.Kind)
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		gvks, _, err := scheme.Scheme.ObjectKinds(e.ResourceToWatch)
		if err != nil || len(gvks) == 0 || gvks[0] != want {
			continue
		}
		obj := reflect.New(reflect.TypeOf(e.ResourceToWatch).Elem()).Interface().(client.Object)
		if err := yaml.UnmarshalStrict(raw, obj); err != nil {
			return k8s.PluginEntry{}, nil, fmt.Errorf("resource %s: not a valid %s: %w", path, head.Kind, err)
		}
		return e, obj, nil
	}
	return k8s.PluginEntry{}, nil, fmt.Errorf("resource %s: no plugin watches %s", path, want)
}

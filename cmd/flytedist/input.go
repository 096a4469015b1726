package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/admin"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/config/viper"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// loadConfig reads a propeller config file into the registered sections
// (plugins.*, logs, ...). Sections the CLI does not know are ignored, as a
// propeller config holds many.
func loadConfig(ctx context.Context, path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	accessor := viper.NewAccessor(config.Options{SearchPaths: []string{path}, StrictMode: false})
	if err := accessor.UpdateConfig(ctx); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// readTask reads a TaskTemplate, or the template of an admin TaskSpec, from
// protobuf or JSON.
func readTask(path string) (*core.TaskTemplate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", path, err)
	}
	tmpl, err := decodeTask(raw)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", path, err)
	}
	if tmpl.GetType() == "" {
		return nil, fmt.Errorf("task %s: the task template has no type", path)
	}
	return tmpl, nil
}

func decodeTask(raw []byte) (*core.TaskTemplate, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		lenient := protojson.UnmarshalOptions{DiscardUnknown: true}
		spec := &admin.TaskSpec{}
		if err := lenient.Unmarshal(raw, spec); err == nil && spec.GetTemplate() != nil {
			return spec.GetTemplate(), nil
		}
		tmpl := &core.TaskTemplate{}
		if err := lenient.Unmarshal(raw, tmpl); err != nil {
			return nil, fmt.Errorf("not a TaskTemplate or TaskSpec in JSON: %w", err)
		}
		return tmpl, nil
	}
	spec := &admin.TaskSpec{}
	if err := proto.Unmarshal(raw, spec); err == nil && spec.GetTemplate().GetType() != "" {
		return spec.GetTemplate(), nil
	}
	tmpl := &core.TaskTemplate{}
	if err := proto.Unmarshal(raw, tmpl); err != nil {
		return nil, fmt.Errorf("not a TaskTemplate or TaskSpec in JSON or protobuf: %w", err)
	}
	return tmpl, nil
}

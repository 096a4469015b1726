package kit

import (
	"context"
	"fmt"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
)

// ReadTemplate reads the task template for a build: a read that fails is
// MetadataAccessFailed (storage trouble, worth retrying), a missing
// template a BadTaskSpecification.
func ReadTemplate(ctx context.Context, r pluginsCore.TaskReader) (*core.TaskTemplate, error) {
	tmpl, err := r.Read(ctx)
	if err != nil {
		return nil, errors.Wrapf(errors.MetadataAccessFailed, err, "reading the task template")
	}
	if tmpl == nil {
		return nil, BadSpec("task template", "", "the task template is missing")
	}
	return tmpl, nil
}

// BadSpec is the permanent error for task input that can never succeed. It
// names the field and the offending value so a user can fix the task.
func BadSpec(field string, value any, reason string) error {
	return errors.Errorf(errors.BadTaskSpecification, "invalid %s %s: %s", field, quote(value), reason)
}

// BadSpecf is BadSpec with a formatted reason.
func BadSpecf(field string, value any, format string, args ...any) error {
	return BadSpec(field, value, fmt.Sprintf(format, args...))
}

// quote renders a value for an error message, truncated so a huge custom
// struct cannot flood the event stream.
func quote(v any) string {
	const maxLen = 256
	s := fmt.Sprintf("%v", v)
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return fmt.Sprintf("%q", s)
}

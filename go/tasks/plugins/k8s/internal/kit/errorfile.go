package kit

import (
	"context"
	stderrors "errors"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/ioutils"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
)

// ErrorFileOptions say how a failure of the user's code is classified by
// the task's error file.
type ErrorFileOptions struct {
	// Present is the rule when the task wrote an error file and marked it
	// RECOVERABLE; a NON_RECOVERABLE one turns it into a PermanentFailure.
	Present Rule
	// Absent is the rule when there is no error file (the process crashed
	// or was killed before writing one).
	Absent Rule
	// Strategy is the plugin's error aggregation strategy, so the file is
	// found where the task's replicas wrote it.
	Strategy k8s.ErrorAggregationStrategy
}

// ClassifyByErrorFile reads the task's error file the way propeller reads
// it and returns the rule it selects and a detail naming the task's error
// (code: message), empty when there is none. A read that fails is returned
// as an error (retry the round); a file too large to read never will be
// readable, so it is reported as a detail instead of looping.
func ClassifyByErrorFile(ctx context.Context, pluginContext k8s.PluginContext, opts ErrorFileOptions) (Rule, string, error) {
	reader, err := ioutils.NewRemoteFileOutputReaderWithErrorAggregationStrategy(ctx, pluginContext.DataStore(), pluginContext.OutputWriter(), 0, opts.Strategy)
	if err != nil {
		return opts.Absent, "", err
	}
	exists, err := reader.IsError(ctx)
	if stderrors.Is(err, ioutils.ErrRemoteFileExceedsMaxSize) {
		return opts.Present, "its error file is too large to read", nil
	}
	if err != nil {
		return opts.Absent, "", err
	}
	if !exists {
		return opts.Absent, "", nil
	}
	taskErr, err := reader.ReadError(ctx)
	if err != nil {
		return opts.Absent, "", err
	}
	rule := opts.Present
	if !taskErr.IsRecoverable {
		rule.Outcome = PermanentFailure
	}
	var detail string
	if e := taskErr.ExecutionError; e != nil {
		detail = e.GetCode()
		if msg := e.GetMessage(); msg != "" {
			if detail != "" {
				detail += ": "
			}
			detail += msg
		}
	}
	return rule, detail, nil
}

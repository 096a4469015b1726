package kit

import (
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
)

// TimeoutSeconds is the task's timeout in whole seconds, rounded up so a
// job is never cut short, or 0 when the task has none. Plugins give it to
// operators as the job's active deadline, so a job whose pods never start
// is torn down by the operator rather than left to propeller.
func TimeoutSeconds(tmpl *core.TaskTemplate) int64 {
	timeout := tmpl.GetMetadata().GetTimeout()
	if timeout == nil {
		return 0
	}
	d := timeout.AsDuration()
	if d <= 0 {
		return 0
	}
	secs := d / time.Second
	if d%time.Second != 0 {
		secs++
	}
	return int64(secs)
}

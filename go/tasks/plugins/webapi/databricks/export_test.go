package databricks

import (
	"context"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
)

// SetClock replaces a loaded plugin's clock, and its waits between tries
// with sleep, for tests that simulate minutes without sleeping them.
func SetClock(p webapi.AsyncPlugin, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	pl := p.(*Plugin)
	pl.now = now
	pl.client.now = now
	pl.client.sleep = sleep
}

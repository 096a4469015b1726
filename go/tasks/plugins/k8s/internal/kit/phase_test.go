package kit

import (
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
)

// Running keeps the default version whatever it shows (propeller's rule
// never bumps Running, and a version that could go down would have
// flyteadmin drop the event); an unknown state's reason carries a time.
func TestRunningVersionIsPropellers(t *testing.T) {
	logs := &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}}}
	withUI := &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}, {Uri: "https://ui"}}}
	for _, info := range []*pluginsCore.TaskInfo{nil, logs, withUI} {
		p := Rule{Outcome: Running}.Phase("", info)
		assert.Equal(t, pluginsCore.PhaseRunning, p.Phase())
		assert.Equal(t, pluginsCore.DefaultPhaseVersion, p.Version())
	}

	unknown := Lookup(map[string]Rule{}, "operator", "NEW_STATE").Phase("", &pluginsCore.TaskInfo{})
	assert.Equal(t, pluginsCore.PhaseRunning, unknown.Phase())
	assert.Contains(t, unknown.Info().AdditionalReasons[0].Reason, `"NEW_STATE"`)
	// Propeller's event transformer dereferences it.
	assert.NotNil(t, unknown.Info().AdditionalReasons[0].OccurredAt)
	assert.Equal(t, pluginsCore.DefaultPhaseVersion, unknown.Version())
}

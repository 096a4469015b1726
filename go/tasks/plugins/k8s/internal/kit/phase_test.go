package kit

import (
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
)

// A link that appears while running changes the phase version, so
// propeller sends the event that carries it.
func TestRunningVersionFollowsWhatTheConsoleShows(t *testing.T) {
	logs := &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}}}
	withUI := &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}, {Uri: "https://ui"}}}
	a := Rule{Outcome: Running}.Phase("", logs)
	b := Rule{Outcome: Running}.Phase("", withUI)
	assert.Equal(t, pluginsCore.PhaseRunning, b.Phase())
	assert.NotEqual(t, a.Version(), b.Version())
	assert.Equal(t, a.Version(), Rule{Outcome: Running}.Phase("", &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}}}).Version(), "same links, same version")

	unknown := Lookup(map[string]Rule{}, "operator", "NEW_STATE").Phase("", &pluginsCore.TaskInfo{})
	assert.Equal(t, pluginsCore.PhaseRunning, unknown.Phase())
	assert.Contains(t, unknown.Info().AdditionalReasons[0].Reason, `"NEW_STATE"`)
	// Propeller's event transformer dereferences it.
	assert.NotNil(t, unknown.Info().AdditionalReasons[0].OccurredAt)
	assert.Equal(t, uint32(1), unknown.Version())
	assert.Equal(t, uint32(0), RunningVersion(nil))
}

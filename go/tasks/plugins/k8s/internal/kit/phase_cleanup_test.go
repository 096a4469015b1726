package kit_test

import (
	"testing"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

func TestRuleCleanup(t *testing.T) {
	for _, o := range []kit.Outcome{kit.RetryableFailure, kit.SystemRetryableFailure, kit.PermanentFailure} {
		plain := kit.Rule{Outcome: o, Code: "C", Reason: "r"}.Phase("d", nil)
		clean := kit.Rule{Outcome: o, Code: "C", Reason: "r", Cleanup: true}.Phase("d", nil)
		assert.False(t, plain.CleanupOnFailure(), o.String())
		assert.True(t, clean.CleanupOnFailure(), o.String())
		assert.Equal(t, plain.Phase(), clean.Phase(), o.String())
		assert.Equal(t, plain.Err(), clean.Err(), o.String())
		assert.Equal(t, "r: d", clean.Err().GetMessage())
	}
	// Cleanup means nothing for a phase that is not a failure.
	assert.Equal(t, pluginsCore.PhaseSuccess, kit.Rule{Outcome: kit.Succeeded, Cleanup: true}.Phase("", nil).Phase())
}

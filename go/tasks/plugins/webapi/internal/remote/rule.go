package remote

import (
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/internal/staterule"
)

// The state-rule model is staterule's, the one the k8s plugins' kit uses
// too; remote re-exports it for the web-API plugins.
type (
	// Outcome is the kind of Flyte phase a remote state maps to.
	Outcome = staterule.Outcome
	// Rule is one row of a plugin's state table.
	Rule = staterule.Rule
)

// The outcomes a state table row can name.
const (
	Queued                 = staterule.Queued
	Initializing           = staterule.Initializing
	Running                = staterule.Running
	Succeeded              = staterule.Succeeded
	RetryableFailure       = staterule.RetryableFailure
	PermanentFailure       = staterule.PermanentFailure
	SystemRetryableFailure = staterule.SystemRetryableFailure
	SystemPermanentFailure = staterule.SystemPermanentFailure
)

// RunningWithReason is a Running phase that carries a reason.
func RunningWithReason(version uint32, reason string, info *core.TaskInfo) core.PhaseInfo {
	return staterule.RunningWithReason(version, reason, info)
}

// UnknownState is how a plugin treats a state its table does not know
// (typically one a newer server added): Running, with a reason naming it.
func UnknownState(kind, state string, version uint32) Rule {
	return staterule.UnknownState(kind, state, version)
}

// Lookup returns the rule for state and whether the table knows it; an
// unknown state gets UnknownState's rule.
func Lookup[S ~string](table map[S]Rule, kind string, state S, unknownVersion uint32) (Rule, bool) {
	if r, ok := table[state]; ok {
		return r, true
	}
	return UnknownState(kind, string(state), unknownVersion), false
}

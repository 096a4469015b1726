package kit

import (
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/internal/staterule"
)

// The state-rule model is staterule's, shared with the web-API plugins;
// the kit re-exports it for the k8s plugins.
type (
	// Outcome is the kind of Flyte phase an operator state maps to.
	Outcome = staterule.Outcome
	// Rule is one row of a plugin's state table.
	Rule = staterule.Rule
)

// The outcomes a state table row can name.
const (
	// Queued: accepted, nothing scheduled yet (or parked by a queueing system).
	Queued = staterule.Queued
	// Initializing: the operator is creating the job's pods.
	Initializing = staterule.Initializing
	// Running: the job runs.
	Running = staterule.Running
	// Succeeded: the job finished successfully.
	Succeeded = staterule.Succeeded
	// RetryableFailure: a user-kind failure that a retry may fix.
	RetryableFailure = staterule.RetryableFailure
	// SystemRetryableFailure: an infrastructure failure; retried on the system budget.
	SystemRetryableFailure = staterule.SystemRetryableFailure
	// PermanentFailure: a user-kind failure no retry can fix.
	PermanentFailure = staterule.PermanentFailure
)

// RunningWithReason is a Running phase that carries a reason, at the
// default version: the specs pin phase versions to propeller's rule
// (FinalizePhase), which never bumps Running. A version derived from what
// Running shows cannot be made monotonic without state propeller does not
// keep, and flyteadmin drops a same-phase event whose version does not grow.
func RunningWithReason(reason string, info *pluginsCore.TaskInfo) pluginsCore.PhaseInfo {
	return staterule.RunningWithReason(pluginsCore.DefaultPhaseVersion, reason, info)
}

// UnknownState is how every plugin treats a state its table does not know,
// typically one a newer operator added: Running, with a reason naming it.
// Never an error, which would make propeller retry the round forever.
func UnknownState(kind, state string) Rule {
	return staterule.UnknownState(kind, state, pluginsCore.DefaultPhaseVersion)
}

// Lookup returns the rule for state, or UnknownState's.
func Lookup[S ~string](table map[S]Rule, kind string, state S) Rule {
	if r, ok := table[state]; ok {
		return r
	}
	return UnknownState(kind, string(state))
}

// FinalizePhase applies propeller's phase-version rule
// (k8s.MaybeUpdatePhaseVersion) with the stored plugin state.
func FinalizePhase(pluginContext k8s.PluginContext, phase *pluginsCore.PhaseInfo) error {
	return k8s.MaybeUpdatePhaseVersionFromPluginContext(phase, &pluginContext)
}

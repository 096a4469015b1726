package kit

import (
	"fmt"
	"time"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
)

// Outcome is the kind of Flyte phase an operator state maps to.
type Outcome uint8

// The outcomes a state table row can name.
const (
	// Queued: accepted, nothing scheduled yet (or parked by a queueing system).
	Queued Outcome = iota + 1
	// Initializing: the operator is creating the job's pods.
	Initializing
	// Running: the job runs.
	Running
	// Succeeded: the job finished successfully.
	Succeeded
	// RetryableFailure: a user-kind failure that a retry may fix.
	RetryableFailure
	// SystemRetryableFailure: an infrastructure failure; retried on the system budget.
	SystemRetryableFailure
	// PermanentFailure: a user-kind failure no retry can fix.
	PermanentFailure
)

// String names the outcome for test output and reasons.
func (o Outcome) String() string {
	switch o {
	case Queued:
		return "Queued"
	case Initializing:
		return "Initializing"
	case Running:
		return "Running"
	case Succeeded:
		return "Succeeded"
	case RetryableFailure:
		return "RetryableFailure"
	case SystemRetryableFailure:
		return "SystemRetryableFailure"
	case PermanentFailure:
		return "PermanentFailure"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Rule is one row of a plugin's state table.
type Rule struct {
	Outcome Outcome
	// Reason is the phase reason (queued/initializing/running) or the
	// failure's message prefix.
	Reason string
	// Code is the failure's error code.
	Code string
	// Cleanup asks propeller to delete the resource when the rule is a
	// failure (PhaseInfo.CleanupOnFailure), so a failed job's pods do not
	// linger until the workflow ends.
	Cleanup bool
}

// Phase turns the rule into a PhaseInfo. detail is appended to the reason:
// the operator's error message for failures.
func (r Rule) Phase(detail string, info *pluginsCore.TaskInfo) pluginsCore.PhaseInfo {
	msg := r.Reason
	if detail != "" {
		if msg != "" {
			msg += ": "
		}
		msg += detail
	}
	switch r.Outcome {
	case Queued:
		return pluginsCore.PhaseInfoQueuedWithTaskInfo(pluginsCore.DefaultPhaseVersion, msg, info)
	case Initializing:
		return pluginsCore.PhaseInfoInitializing(pluginsCore.DefaultPhaseVersion, msg, info)
	case Running:
		return RunningWithReason(msg, info)
	case Succeeded:
		return pluginsCore.PhaseInfoSuccess(info)
	case RetryableFailure:
		if r.Cleanup {
			return pluginsCore.PhaseInfoRetryableFailureWithCleanup(r.Code, msg, info)
		}
		return pluginsCore.PhaseInfoRetryableFailure(r.Code, msg, info)
	case SystemRetryableFailure:
		if r.Cleanup {
			return pluginsCore.PhaseInfoSystemRetryableFailureWithCleanup(r.Code, msg, info)
		}
		return pluginsCore.PhaseInfoSystemRetryableFailure(r.Code, msg, info)
	case PermanentFailure:
		if r.Cleanup {
			return pluginsCore.PhaseInfoFailureWithCleanup(r.Code, msg, info)
		}
		return pluginsCore.PhaseInfoFailure(r.Code, msg, info)
	}
	return RunningWithReason(fmt.Sprintf("unmapped outcome %v", r.Outcome), info)
}

// RunningWithReason is a Running phase that carries a reason. PhaseInfo has
// no Running constructor with a reason, so it travels as an additional
// reason, which propeller puts on the task event.
//
// Its version is the default one: the specs pin phase versions to
// propeller's rule (FinalizePhase), which never bumps Running. A version
// derived from what Running shows cannot be made monotonic without state
// propeller does not keep, and flyteadmin drops a same-phase event whose
// version does not grow.
func RunningWithReason(reason string, info *pluginsCore.TaskInfo) pluginsCore.PhaseInfo {
	if info == nil {
		info = &pluginsCore.TaskInfo{}
	}
	if reason != "" {
		// Propeller dereferences OccurredAt when it turns reasons into the
		// task event; a nil one panics its reconcile loop.
		at := info.OccurredAt
		if at == nil {
			now := time.Now()
			at = &now
		}
		info.AdditionalReasons = append(info.AdditionalReasons, pluginsCore.ReasonInfo{Reason: reason, OccurredAt: at})
	}
	return pluginsCore.PhaseInfoRunning(pluginsCore.DefaultPhaseVersion, info)
}

// UnknownState is how every plugin treats a state its table does not know,
// typically one a newer operator added: Running, with a reason naming it.
// Never an error, which would make propeller retry the round forever.
func UnknownState(kind, state string) Rule {
	return Rule{Outcome: Running, Reason: fmt.Sprintf("%s reported state %q, which this plugin does not know; treating it as running", kind, state)}
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

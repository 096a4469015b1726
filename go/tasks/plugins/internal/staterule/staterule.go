// Package staterule is the state-table model every plugin shares, k8s
// (through kit) and web-API (through remote) alike: a row names the kind of
// Flyte phase a remote or operator state means, its reason and its error
// code, and turns into a PhaseInfo through one switch.
package staterule

import (
	"fmt"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
)

// Outcome is the kind of Flyte phase a state maps to. The zero value is
// no outcome (a row that forgot to say); every outcome from Succeeded on
// ends the task.
type Outcome uint8

// The outcomes a state table row can name.
const (
	// Queued: accepted, waiting (for resources, or parked by a queue).
	Queued Outcome = iota + 1
	// Initializing: being set up (pods being created, a cluster starting).
	Initializing
	// Running: running.
	Running
	// Succeeded: finished successfully.
	Succeeded
	// RetryableFailure: a user failure Flyte may retry.
	RetryableFailure
	// SystemRetryableFailure: a platform failure, retried on the system budget.
	SystemRetryableFailure
	// PermanentFailure: a user failure no retry can fix.
	PermanentFailure
	// SystemPermanentFailure: a platform failure no retry can fix.
	SystemPermanentFailure
)

var outcomeNames = [...]string{"", "Queued", "Initializing", "Running", "Succeeded",
	"RetryableFailure", "SystemRetryableFailure", "PermanentFailure", "SystemPermanentFailure"}

// String names the outcome for test output and reasons.
func (o Outcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Terminal reports whether the outcome ends the task.
func (o Outcome) Terminal() bool { return o >= Succeeded }

// Failure reports whether the outcome is a failure.
func (o Outcome) Failure() bool { return o > Succeeded }

// Rule is one row of a plugin's state table.
type Rule struct {
	Outcome Outcome
	// Reason is the phase reason (queued/initializing/running) or the
	// failure message's prefix.
	Reason string
	// Code is a failure's error code.
	Code string
	// Version tells apart states that share a phase, so that moving between
	// them reaches the console as an update (web-API plugins; k8s plugins
	// leave it 0 and the kit's rule, kit.FinalizePhase, counts versions up).
	Version uint32
	// Cleanup asks propeller to delete the resource when the rule is a
	// failure (PhaseInfo.CleanupOnFailure), so a failed job's pods do not
	// linger until the workflow ends.
	Cleanup bool
}

// Phase turns the rule into a PhaseInfo. detail is appended to the reason
// (a failure's message, a queue reason).
func (r Rule) Phase(detail string, info *core.TaskInfo) core.PhaseInfo {
	msg := r.Reason
	if detail != "" {
		if msg != "" {
			msg += ": "
		}
		msg += detail
	}
	switch r.Outcome {
	case Queued:
		return core.PhaseInfoQueuedWithTaskInfo(r.Version, msg, info)
	case Initializing:
		return core.PhaseInfoInitializing(r.Version, msg, info)
	case Running:
		return RunningWithReason(r.Version, msg, info)
	case Succeeded:
		return core.PhaseInfoSuccess(info)
	case RetryableFailure:
		if r.Cleanup {
			return core.PhaseInfoRetryableFailureWithCleanup(r.Code, msg, info)
		}
		return core.PhaseInfoRetryableFailure(r.Code, msg, info)
	case SystemRetryableFailure:
		if r.Cleanup {
			return core.PhaseInfoSystemRetryableFailureWithCleanup(r.Code, msg, info)
		}
		return core.PhaseInfoSystemRetryableFailure(r.Code, msg, info)
	case PermanentFailure:
		if r.Cleanup {
			return core.PhaseInfoFailureWithCleanup(r.Code, msg, info)
		}
		return core.PhaseInfoFailure(r.Code, msg, info)
	case SystemPermanentFailure:
		return core.PhaseInfoSystemFailure(r.Code, msg, info)
	}
	return RunningWithReason(r.Version, fmt.Sprintf("unmapped outcome %v", r.Outcome), info)
}

// RunningWithReason is a Running phase that carries a reason. PhaseInfo has
// no Running constructor with a reason, so it travels as an additional
// reason, which propeller puts on the task event.
func RunningWithReason(version uint32, reason string, info *core.TaskInfo) core.PhaseInfo {
	if info == nil {
		info = &core.TaskInfo{}
	}
	if reason != "" {
		// Propeller dereferences OccurredAt when it turns reasons into the
		// task event; a nil one panics its reconcile loop.
		at := info.OccurredAt
		if at == nil {
			now := time.Now()
			at = &now
		}
		info.AdditionalReasons = append(info.AdditionalReasons, core.ReasonInfo{Reason: reason, OccurredAt: at})
	}
	return core.PhaseInfoRunning(version, info)
}

// UnknownState is how every plugin treats a state its table does not know,
// typically one a newer operator or server added: Running, with a reason
// naming it. Never an error, which would make propeller retry the round
// forever.
func UnknownState(kind, state string, version uint32) Rule {
	return Rule{Outcome: Running, Version: version,
		Reason: fmt.Sprintf("%s reported state %q, which this plugin does not know; treating it as running", kind, state)}
}

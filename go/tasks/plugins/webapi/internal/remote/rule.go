package remote

import (
	"fmt"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
)

// Outcome is the kind of Flyte phase a remote state maps to. The order
// matters: every outcome from Succeeded on is terminal.
type Outcome uint8

// The outcomes a state table row can name.
const (
	// Queued: accepted, waiting for resources.
	Queued Outcome = iota
	// Initializing: being set up.
	Initializing
	// Running: running.
	Running
	// Succeeded: finished successfully.
	Succeeded
	// RetryableFailure: a user failure Flyte may retry.
	RetryableFailure
	// PermanentFailure: a user failure no retry can fix.
	PermanentFailure
	// SystemRetryableFailure: a platform failure, retried on the system budget.
	SystemRetryableFailure
	// SystemPermanentFailure: a platform failure no retry can fix.
	SystemPermanentFailure
)

var outcomeNames = [...]string{"Queued", "Initializing", "Running", "Succeeded",
	"RetryableFailure", "PermanentFailure", "SystemRetryableFailure", "SystemPermanentFailure"}

// String names the outcome.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
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
	// Code is a failure's error code: a readable word.
	Code string
	// Version tells apart states that share a phase, so that moving between
	// them is reported as an update.
	Version uint32
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
		return core.PhaseInfoRetryableFailure(r.Code, msg, info)
	case SystemRetryableFailure:
		return core.PhaseInfoSystemRetryableFailure(r.Code, msg, info)
	case SystemPermanentFailure:
		return core.PhaseInfoSystemFailure(r.Code, msg, info)
	case PermanentFailure:
		return core.PhaseInfoFailure(r.Code, msg, info)
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
		// task event; a nil one panics its loop.
		at := info.OccurredAt
		if at == nil {
			now := time.Now()
			at = &now
		}
		info.AdditionalReasons = append(info.AdditionalReasons, core.ReasonInfo{Reason: reason, OccurredAt: at})
	}
	return core.PhaseInfoRunning(version, info)
}

// UnknownState is how a plugin treats a state its table does not know
// (typically one a newer server added): Running, with a reason naming it.
func UnknownState(kind, state string, version uint32) Rule {
	return Rule{Outcome: Running, Version: version,
		Reason: fmt.Sprintf("%s reports state %q, which this plugin does not know; treating it as running", kind, state)}
}

// Lookup returns the rule for state and whether the table knows it; an
// unknown state gets UnknownState's rule.
func Lookup[S ~string](table map[S]Rule, kind string, state S, unknownVersion uint32) (Rule, bool) {
	if r, ok := table[state]; ok {
		return r, true
	}
	return UnknownState(kind, string(state), unknownVersion), false
}

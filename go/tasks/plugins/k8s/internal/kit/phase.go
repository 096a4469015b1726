package kit

import (
	"math/bits"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/internal/staterule"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
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
// default version. FinalizePhase then sets the version: a Running phase
// whose reason or link names differ from the last round's gets a higher
// one, so the console shows the change (see FinalizePhase).
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

// FinalizePhase sets the phase version by the live-view rule
// (spec/queueing.md, "While it runs"), counted from the plugin state
// propeller stored last round, read once here for every plugin.
func FinalizePhase(pluginContext k8s.PluginContext, phase *pluginsCore.PhaseInfo) error {
	var stored k8s.PluginState
	if _, err := pluginContext.PluginStateReader().Get(&stored); err != nil {
		return err
	}
	*phase = NextVersion(*phase, stored, queueing.GetConfig().LiveView.MaxPhaseVersions)
	return nil
}

// runningBits is how many low bits of a Running version carry the
// fingerprint of what it shows, at most 8 (one change in 256 goes unseen
// until the next one) and no more than half the bits of the bound, so a
// small bound still leaves room for changes. 0 turns Running bumps off.
func runningBits(limit uint64) uint {
	return min(8, uint(bits.Len64(limit))/2)
}

// NextVersion is the live-view phase-version rule, for a phase whose
// plugin state propeller stored as stored:
//
//   - a phase other than the stored one, or a terminal one, keeps the
//     version the plugin set (a Running phase at the default version gets
//     its fingerprint, below);
//   - the stored phase again keeps the stored version when it shows the
//     same, and goes one step higher when it shows something new, so the
//     version never falls below what propeller stored (flyteadmin drops a
//     same-phase event whose version does not grow);
//   - never above limit: at the bound the stored version stays, and the
//     phase sends no more events (propeller fails a task whose version
//     passes its tasks.max-plugin-phase-versions). limit <= 0 turns bumps
//     off.
//
// What a phase shows is its reason, compared with the stored one. Propeller
// stores PhaseInfo.Reason(), which a Running phase cannot set (its reason
// travels as an additional reason), so a Running version carries a
// fingerprint of its reasons and link names in its low bits instead, and
// grows when the fingerprint differs from the stored version's. Link names,
// not URIs: a URI may hold the current time (Ray's finish time while it
// runs), which would bump every round.
func NextVersion(phase pluginsCore.PhaseInfo, stored k8s.PluginState, limit int) pluginsCore.PhaseInfo {
	p := phase.Phase()
	if p.IsTerminal() || limit <= 0 {
		return phase
	}
	bound := uint64(limit)
	if p != stored.Phase {
		if p == pluginsCore.PhaseRunning && phase.Version() == pluginsCore.DefaultPhaseVersion {
			if fp := uint64(fingerprint(phase.Info())) & mask(runningBits(bound)); fp != 0 && fp <= bound {
				return phase.WithVersion(uint32(fp))
			}
		}
		return phase
	}
	prev := uint64(stored.PhaseVersion)
	next := prev
	if p == pluginsCore.PhaseRunning {
		k := runningBits(bound)
		if fp := uint64(fingerprint(phase.Info())) & mask(k); prev&mask(k) != fp {
			next = (prev>>k+1)<<k | fp
		}
	} else if phase.Reason() != stored.Reason {
		next = prev + 1
	}
	if next > bound {
		next = prev
	}
	if next == uint64(phase.Version()) {
		return phase
	}
	return phase.WithVersion(uint32(next)) //nolint:gosec // next <= max(prev, bound), prev a uint32
}

func mask(k uint) uint64 { return 1<<k - 1 }

// fingerprint is FNV-1a over a phase's reasons and link names, each
// terminated, so moving text between them changes it too.
func fingerprint(info *pluginsCore.TaskInfo) uint32 {
	h := fnv(2166136261)
	if info == nil {
		return uint32(h)
	}
	for i := range info.AdditionalReasons {
		h = h.add(info.AdditionalReasons[i].Reason)
	}
	h = h.add("")
	for _, l := range info.Logs {
		h = h.add(l.GetName())
	}
	return uint32(h)
}

type fnv uint32

func (h fnv) add(s string) fnv {
	for i := 0; i < len(s); i++ {
		h = (h ^ fnv(s[i])) * 16777619
	}
	return (h ^ 0xff) * 16777619
}

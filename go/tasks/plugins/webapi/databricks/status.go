package databricks

import (
	"fmt"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

// verdict is what a Databricks run state means for the Flyte task: the
// shared web-API outcome.
type verdict = remote.Outcome

const (
	verdictQueued       = remote.Queued
	verdictInitializing = remote.Initializing
	verdictRunning      = remote.Running
	verdictSuccess      = remote.Succeeded
	// verdictRetryable is a user failure Flyte may retry.
	verdictRetryable = remote.RetryableFailure
	// verdictPermanent is a user failure no retry can fix.
	verdictPermanent = remote.PermanentFailure
	// verdictSystemRetryable is a platform failure Flyte may retry.
	verdictSystemRetryable = remote.SystemRetryableFailure
	// verdictSystemPermanent is a platform failure no retry can fix.
	verdictSystemPermanent = remote.SystemPermanentFailure
)

// rule is one row of the state tables.
type rule struct {
	verdict verdict
	// code is the error code of a failure: a readable word.
	code string
	// version tells apart states that share a phase, so that moving between
	// them is reported as an update.
	version uint32
}

// shared is the rule in the shared web-API model.
func (r rule) shared() remote.Rule {
	return remote.Rule{Outcome: r.verdict, Code: r.code, Version: r.version}
}

// Jobs API life-cycle and result states the tables below name more than
// once. stateTerminated is the one whose meaning is in resultRules.
const (
	stateTerminated    = "TERMINATED"
	stateInternalError = "INTERNAL_ERROR"
	stateSkipped       = "SKIPPED"
	stateWaiting       = "WAITING_FOR_RETRY"
	resultSuccess      = "SUCCESS"
	resultFailed       = "FAILED"
	resultTimedOut     = "TIMEDOUT"
	resultCanceled     = "CANCELED"
)

// Queued versions, above the version 2 the web-API machinery reports
// "launched" with, growing along the way (flyteadmin ignores a same-phase
// event whose version does not grow).
const (
	versionUnconfirmed = 3
	versionQueued      = 4
)

// lifeCycleRules maps the Jobs API life_cycle_state to its meaning, except
// TERMINATED (see resultRules). A state missing here is newer than this
// plugin and maps to unknownStateRule.
var lifeCycleRules = map[string]rule{
	// Brings the run page link, so its event must not be dropped.
	"QUEUED":           {verdict: verdictQueued, version: versionQueued},
	"PENDING":          {verdict: verdictInitializing},
	"RUNNING":          {verdict: verdictRunning},
	"BLOCKED":          {verdict: verdictRunning, version: 1},
	stateWaiting:       {verdict: verdictRunning, version: 2},
	"TERMINATING":      {verdict: verdictRunning, version: 3},
	stateInternalError: {verdict: verdictSystemRetryable, code: "DatabricksInternalError"},
	stateSkipped:       {verdict: verdictPermanent, code: "DatabricksRunSkipped"},
}

// resultRules maps the result_state of a TERMINATED run to its meaning; any
// other result maps to otherResultRule.
var resultRules = map[string]rule{
	resultSuccess:  {verdict: verdictSuccess},
	resultFailed:   {verdict: verdictRetryable, code: "DatabricksRunFailed"},
	resultTimedOut: {verdict: verdictPermanent, code: "DatabricksRunTimedOut"},
	resultCanceled: {verdict: verdictPermanent, code: "DatabricksRunCanceled"},
}

var (
	// otherResultRule is a TERMINATED run with a result_state not in
	// resultRules (or none).
	otherResultRule = rule{verdict: verdictPermanent, code: "DatabricksRunUnsuccessful"}
	// unknownStateRule is a life-cycle state this plugin does not know.
	unknownStateRule = rule{verdict: verdictRunning, version: 4}
)

// ruleFor looks up the meaning of a run state; known is false for a
// life-cycle state not in the tables.
func ruleFor(lifeCycle, result string) (r rule, known bool) {
	if lifeCycle == stateTerminated {
		if r, ok := resultRules[result]; ok {
			return r, true
		}
		return otherResultRule, true
	}
	if r, ok := lifeCycleRules[lifeCycle]; ok {
		return r, true
	}
	return unknownStateRule, false
}

// v2States renames Jobs API 2.2 status.state values that differ from the 2.1
// life-cycle states; the rest share their names.
var v2States = map[string]string{
	"WAITING": stateWaiting,
}

// v2Terminations maps a 2.2 termination_details.code to the 2.1 life-cycle
// and result states it corresponds to. Codes missing here are failures of the
// run (2.1 reports those as TERMINATED/FAILED), unless their type says the
// platform failed (v2SystemTypes).
var v2Terminations = map[string][2]string{
	"SUCCESS":               {stateTerminated, resultSuccess},
	"SUCCESS_WITH_FAILURES": {stateTerminated, "SUCCESS_WITH_FAILURES"},
	"CANCELED":              {stateTerminated, resultCanceled},
	"USER_CANCELED":         {stateTerminated, resultCanceled},
	"TIMEDOUT":              {stateTerminated, resultTimedOut},
	"TIMED_OUT":             {stateTerminated, resultTimedOut},
	"SKIPPED":               {stateSkipped, ""},
	"INTERNAL_ERROR":        {stateInternalError, ""},
}

// v2SystemTypes are termination types that mean Databricks itself failed.
var v2SystemTypes = map[string]bool{"INTERNAL_ERROR": true, "CLOUD_FAILURE": true}

// legacyState reduces a runs/get answer to 2.1 (life-cycle, result, message),
// reading the 2.2 status object when the 2.1 state is absent.
func legacyState(run *apiRun) (lifeCycle, result, message string) {
	if s := run.State; s != nil && s.LifeCycleState != "" {
		lifeCycle, result, message = s.LifeCycleState, s.ResultState, s.StateMessage
		if message == "" && run.Status != nil && run.Status.TerminationDetails != nil {
			message = run.Status.TerminationDetails.Message
		}
		return lifeCycle, result, message
	}
	st := run.Status
	if st == nil || st.State == "" {
		return "", "", ""
	}
	lifeCycle = st.State
	if renamed, ok := v2States[lifeCycle]; ok {
		lifeCycle = renamed
	}
	if st.QueueDetails != nil {
		message = st.QueueDetails.Message
	}
	if lifeCycle != stateTerminated || st.TerminationDetails == nil {
		return lifeCycle, "", message
	}
	td := st.TerminationDetails
	message = td.Message
	if m, ok := v2Terminations[td.Code]; ok {
		return m[0], m[1], message
	}
	if v2SystemTypes[td.Type] {
		return stateInternalError, "", message
	}
	if message == "" {
		message = "termination code " + td.Code
	}
	return stateTerminated, resultFailed, message
}

// phaseFor is the Flyte phase of a run; info carries its links.
func phaseFor(res *runResource, info *core.TaskInfo) core.PhaseInfo {
	if f := res.failure; f != nil {
		return failurePhase(rule{verdict: f.verdict, code: f.code}, f.message, info)
	}
	if res.unconfirmed {
		return core.PhaseInfoQueuedWithTaskInfo(versionUnconfirmed, res.Message, info)
	}
	r, _ := ruleFor(res.LifeCycleState, res.ResultState)
	switch r.verdict {
	case verdictQueued:
		return core.PhaseInfoQueuedWithTaskInfo(r.version, orDefault(res.Message, "Databricks run queued"), info)
	case verdictInitializing:
		return core.PhaseInfoInitializing(r.version, orDefault(res.Message, "Databricks run pending"), info)
	case verdictRunning:
		// PhaseInfoRunning takes no reason: an unknown state's reason travels
		// in info.CustomInfo (see stateReason).
		return core.PhaseInfoRunning(r.version, info)
	case verdictSuccess:
		return core.PhaseInfoSuccess(info)
	default:
		return failurePhase(r, runFailureMessage(res), info)
	}
}

// failurePhase is the failed phase of a failure rule.
func failurePhase(r rule, msg string, info *core.TaskInfo) core.PhaseInfo {
	if !r.verdict.Failure() {
		r.verdict = verdictPermanent
	}
	return r.shared().Phase(msg, info)
}

// runFailureMessage says how a run ended.
func runFailureMessage(res *runResource) string {
	state := res.LifeCycleState
	if res.ResultState != "" {
		state += "/" + res.ResultState
	} else if state == stateTerminated {
		state += " without a result state"
	}
	msg := fmt.Sprintf("Databricks run %d ended %s", res.RunID, state)
	if res.Message != "" {
		msg += ": " + res.Message
	}
	return msg
}

// stateReason is the reason shown with a run's state; for a state this plugin
// does not know it names that state.
func stateReason(res *runResource) string {
	if res.failure != nil {
		return res.failure.message
	}
	if res.unconfirmed {
		return res.Message
	}
	if res.LifeCycleState == "" {
		return "Databricks answered without a run state; treating the run as running"
	}
	if _, known := ruleFor(res.LifeCycleState, res.ResultState); !known {
		return fmt.Sprintf("Databricks reports life-cycle state %q, which this plugin does not know; "+
			"treating the run as running", res.LifeCycleState)
	}
	return res.Message
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

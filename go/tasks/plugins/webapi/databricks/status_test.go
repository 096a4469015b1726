package databricks

import (
	"regexp"
	"sort"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expectation is a row of the spec's state table.
type expectation struct {
	phase core.Phase
	kind  idlcore.ExecutionError_ErrorKind
}

// specLifeCycle is the spec's table for life-cycle states other than
// TERMINATED.
var specLifeCycle = map[string]expectation{
	"QUEUED":            {phase: core.PhaseQueued},
	"PENDING":           {phase: core.PhaseInitializing},
	"RUNNING":           {phase: core.PhaseRunning},
	"BLOCKED":           {phase: core.PhaseRunning},
	"WAITING_FOR_RETRY": {phase: core.PhaseRunning},
	"TERMINATING":       {phase: core.PhaseRunning},
	"INTERNAL_ERROR":    {phase: core.PhaseRetryableFailure, kind: idlcore.ExecutionError_SYSTEM},
	"SKIPPED":           {phase: core.PhasePermanentFailure, kind: idlcore.ExecutionError_USER},
}

// specResult is the spec's table for TERMINATED runs by result_state.
var specResult = map[string]expectation{
	"SUCCESS":  {phase: core.PhaseSuccess},
	"FAILED":   {phase: core.PhaseRetryableFailure, kind: idlcore.ExecutionError_USER},
	"TIMEDOUT": {phase: core.PhasePermanentFailure, kind: idlcore.ExecutionError_USER},
	"CANCELED": {phase: core.PhasePermanentFailure, kind: idlcore.ExecutionError_USER},
}

var readableCode = regexp.MustCompile(`^[A-Z][A-Za-z]+$`)

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkPhase(t *testing.T, name string, res *runResource, want expectation) core.PhaseInfo {
	t.Helper()
	ph := phaseFor(res, taskInfo(res, "dbc.example.com", time.Unix(0, 0)))
	assert.Equal(t, want.phase, ph.Phase(), name)
	if ph.Phase().IsFailure() {
		require.NotNil(t, ph.Err(), name)
		assert.Regexp(t, readableCode, ph.Err().GetCode(), "%s: error codes are words", name)
		assert.Equal(t, want.kind, ph.Err().GetKind(), name)
		assert.Contains(t, ph.Err().GetMessage(), "run 42", name)
	}
	require.Len(t, ph.Info().Logs, 1, "%s: the console link is always there", name)
	return ph
}

// TestStateTableMatchesSpec walks both state tables exhaustively and both
// ways: every row of the spec is in the tables, every row of the tables is in
// the spec, and each maps to the spec's phase.
func TestStateTableMatchesSpec(t *testing.T) {
	assert.Equal(t, keys(specLifeCycle), keys(lifeCycleRules), "life-cycle table and spec have the same rows")
	assert.Equal(t, keys(specResult), keys(resultRules), "result table and spec have the same rows")

	for state, want := range specLifeCycle {
		res := &runResource{RunID: 42, LifeCycleState: state, Message: "msg"}
		checkPhase(t, state, res, want)
		assert.Equal(t, want.phase.IsTerminal(), res.IsTerminal(), state)
	}
	for result, want := range specResult {
		res := &runResource{RunID: 42, LifeCycleState: stateTerminated, ResultState: result, Message: "msg"}
		checkPhase(t, "TERMINATED/"+result, res, want)
		assert.True(t, res.IsTerminal())
	}

	// Any other result of a TERMINATED run is a permanent failure naming it.
	for _, result := range []string{"", "SUCCESS_WITH_FAILURES", "UPSTREAM_FAILED", "EXCLUDED", "SOMETHING_NEW"} {
		res := &runResource{RunID: 42, LifeCycleState: stateTerminated, ResultState: result}
		ph := checkPhase(t, "TERMINATED/"+result, res, expectation{phase: core.PhasePermanentFailure, kind: idlcore.ExecutionError_USER})
		assert.Contains(t, ph.Err().GetMessage(), "TERMINATED"+map[bool]string{true: " without a result state", false: "/" + result}[result == ""])
	}

	// A state from the future is Running, with a reason that names it.
	for _, state := range []string{"HIBERNATING", "QUEUED_FOR_APPROVAL", ""} {
		res := &runResource{RunID: 42, LifeCycleState: state}
		ph := checkPhase(t, state, res, expectation{phase: core.PhaseRunning})
		reason := ph.Info().CustomInfo.GetFields()["reason"].GetStringValue()
		if state != "" {
			assert.Contains(t, reason, state)
		} else {
			assert.Contains(t, reason, "without a run state")
		}
		assert.False(t, res.IsTerminal())
	}
}

// launchedVersion is the phase version flyteplugins' web-API machinery
// reports Queued with once a run is created ("launched").
const launchedVersion = 2

// flyteadmin drops an event in the phase it has unless the version grows:
// QUEUED (with the run page link) must come after "launched" with a higher
// version, or the link only shows from PENDING on.
func TestQueuedOutranksTheLaunchedEvent(t *testing.T) {
	unconfirmed := phaseFor(&runResource{unconfirmed: true, Message: "busy"}, &core.TaskInfo{})
	queued := phaseFor(&runResource{RunID: 42, LifeCycleState: "QUEUED", RunPageURL: "https://x/run/42"}, &core.TaskInfo{})
	assert.Equal(t, core.PhaseQueued, unconfirmed.Phase())
	assert.Equal(t, core.PhaseQueued, queued.Phase())
	assert.Greater(t, unconfirmed.Version(), uint32(launchedVersion))
	assert.Greater(t, queued.Version(), unconfirmed.Version(), "an unconfirmed submission comes before QUEUED")
}

func TestRunningStatesHaveDistinctVersions(t *testing.T) {
	seen := map[uint32]string{}
	rules := map[string]rule{"(unknown)": unknownStateRule}
	for k, r := range lifeCycleRules {
		rules[k] = r
	}
	for state, r := range rules {
		if r.verdict != verdictRunning {
			continue
		}
		prev, dup := seen[r.version]
		assert.False(t, dup, "%s and %s share phase version %d", state, prev, r.version)
		seen[r.version] = state
	}
}

func TestFailureCodesAreWords(t *testing.T) {
	all := []rule{otherResultRule}
	for _, r := range lifeCycleRules {
		all = append(all, r)
	}
	for _, r := range resultRules {
		all = append(all, r)
	}
	for _, r := range all {
		if r.verdict >= verdictRetryable {
			assert.Regexp(t, readableCode, r.code)
		}
	}
	for _, c := range []string{codeBadTaskSpec, codeTokenRefused, codeRequestRejected, codeRunNotFound} {
		assert.Regexp(t, readableCode, c)
	}
}

// TestV22StatusMapping: a 2.2 status object alone gives the same answers as
// the 2.1 state object.
func TestV22StatusMapping(t *testing.T) {
	type td = struct {
		Code    string `json:"code"`
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	status := func(state string, term *td) *apiRun {
		s := &apiRunStatus{State: state}
		s.TerminationDetails = term
		return &apiRun{Status: s}
	}
	cases := []struct {
		run             *apiRun
		lifeCycle, want string
	}{
		{status("QUEUED", nil), "QUEUED", ""},
		{status("PENDING", nil), "PENDING", ""},
		{status("RUNNING", nil), "RUNNING", ""},
		{status("BLOCKED", nil), "BLOCKED", ""},
		{status("WAITING", nil), "WAITING_FOR_RETRY", ""},
		{status("TERMINATING", nil), "TERMINATING", ""},
		{status("TERMINATED", &td{Code: "RUN_EXECUTION_ERROR", Type: "CLIENT_ERROR"}), stateTerminated, "FAILED"},
		{status("TERMINATED", &td{Code: "DRIVER_ERROR", Type: "CLIENT_ERROR"}), stateTerminated, "FAILED"},
		{status("TERMINATED", &td{Code: "CLUSTER_ERROR", Type: "CLOUD_FAILURE"}), "INTERNAL_ERROR", ""},
		{status("TERMINATED", &td{Code: "SOMETHING", Type: "INTERNAL_ERROR"}), "INTERNAL_ERROR", ""},
		{status("FUTURE", nil), "FUTURE", ""},
		{&apiRun{}, "", ""},
	}
	for code, m := range v2Terminations {
		cases = append(cases, struct {
			run             *apiRun
			lifeCycle, want string
		}{status("TERMINATED", &td{Code: code, Type: "SUCCESS", Message: "m"}), m[0], m[1]})
	}
	for _, c := range cases {
		lc, result, _ := legacyState(c.run)
		assert.Equal(t, c.lifeCycle, lc)
		assert.Equal(t, c.want, result)
	}
	for v2, v1 := range v2States {
		_, known := lifeCycleRules[v1]
		assert.True(t, known, "%s maps to a known state", v2)
	}

	// With both objects the 2.1 state wins, the 2.2 message fills a gap.
	both := status("TERMINATED", &td{Code: "CANCELED", Message: "from status"})
	both.State = &apiRunState{LifeCycleState: stateTerminated, ResultState: "FAILED"}
	lc, result, msg := legacyState(both)
	assert.Equal(t, []string{stateTerminated, "FAILED", "from status"}, []string{lc, result, msg})
}

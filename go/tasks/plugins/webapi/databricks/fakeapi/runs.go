package fakeapi

import (
	"strings"
	"time"
)

// Life-cycle states of a run, as the Jobs API 2.1 reports them in
// state.life_cycle_state.
const (
	StateQueued          = "QUEUED"
	StatePending         = "PENDING"
	StateRunning         = "RUNNING"
	StateTerminating     = "TERMINATING"
	StateTerminated      = "TERMINATED"
	StateSkipped         = "SKIPPED"
	StateInternalError   = "INTERNAL_ERROR"
	StateBlocked         = "BLOCKED"
	StateWaitingForRetry = "WAITING_FOR_RETRY"
)

// Outcome is how a run ends.
type Outcome string

// The outcomes a run can be given. The first four end in TERMINATED with the
// outcome as result_state; OutcomeInternalError ends in the INTERNAL_ERROR
// life-cycle state and OutcomeSkipped in SKIPPED.
const (
	OutcomeSuccess       Outcome = "SUCCESS"
	OutcomeFailed        Outcome = "FAILED"
	OutcomeTimedOut      Outcome = "TIMEDOUT"
	OutcomeCanceled      Outcome = "CANCELED"
	OutcomeInternalError Outcome = "INTERNAL_ERROR"
	OutcomeSkipped       Outcome = "SKIPPED"
)

// Outcomes lists every Outcome the server knows.
var Outcomes = []Outcome{
	OutcomeSuccess, OutcomeFailed, OutcomeTimedOut, OutcomeCanceled, OutcomeInternalError, OutcomeSkipped,
}

// MarkerKey chooses a run's outcome from inside the submitted body: a key
// MarkerKey whose value is an Outcome (for example in new_cluster.spark_conf or
// a notebook's base_parameters), or a string "fakeapi.result_state=<OUTCOME>"
// in a list (for example spark_python_task.parameters).
const MarkerKey = "fakeapi.result_state"

// ParseOutcome returns the Outcome named by s (case-insensitive).
func ParseOutcome(s string) (Outcome, bool) {
	u := Outcome(strings.ToUpper(strings.TrimSpace(s)))
	for _, o := range Outcomes {
		if o == u {
			return o, true
		}
	}
	return "", false
}

// Durations says how long a run stays in each state that the clock moves it
// out of. A zero duration passes through the state at once, so with all zero a
// run is finished by the time anyone looks at it.
type Durations struct {
	Queued      time.Duration
	Pending     time.Duration
	Running     time.Duration
	Terminating time.Duration
}

// Uniform returns Durations with every state lasting d.
func Uniform(d time.Duration) Durations {
	return Durations{Queued: d, Pending: d, Running: d, Terminating: d}
}

func (d Durations) of(lifeCycle string) time.Duration {
	switch lifeCycle {
	case StateQueued:
		return d.Queued
	case StatePending:
		return d.Pending
	case StateRunning:
		return d.Running
	case StateTerminating:
		return d.Terminating
	default:
		return 0
	}
}

// RunState is the Jobs API 2.1 state object of a run.
type RunState struct {
	LifeCycleState          string `json:"life_cycle_state"`
	ResultState             string `json:"result_state,omitempty"`
	StateMessage            string `json:"state_message"`
	UserCancelledOrTimedout bool   `json:"user_cancelled_or_timedout"`
}

// terminal reports whether no further state follows s.
func (s RunState) terminal() bool {
	switch s.LifeCycleState {
	case StateTerminated, StateSkipped, StateInternalError:
		return true
	}
	return false
}

// stagesFor is the path a run with outcome o walks, last stage terminal.
func stagesFor(o Outcome) []RunState {
	queued := RunState{LifeCycleState: StateQueued, StateMessage: "Queued: waiting for the run to be scheduled."}
	pending := RunState{LifeCycleState: StatePending, StateMessage: "Waiting for cluster."}
	running := RunState{LifeCycleState: StateRunning, StateMessage: "In run."}
	terminating := RunState{LifeCycleState: StateTerminating, StateMessage: "Run is finishing."}
	switch o {
	case OutcomeSkipped:
		return []RunState{queued, {LifeCycleState: StateSkipped,
			StateMessage: "Run skipped: an earlier run of this job is still active."}}
	case OutcomeInternalError:
		return []RunState{queued, pending, running, {LifeCycleState: StateInternalError, ResultState: string(OutcomeFailed),
			StateMessage: "Run encountered an unexpected internal error; the cluster was lost."}}
	case OutcomeFailed:
		return []RunState{queued, pending, running, terminating, {LifeCycleState: StateTerminated,
			ResultState: string(OutcomeFailed), StateMessage: "Task failed with error: Workload failed, see run output for details."}}
	case OutcomeTimedOut:
		return []RunState{queued, pending, running, terminating, {LifeCycleState: StateTerminated,
			ResultState: string(OutcomeTimedOut), StateMessage: "Run timed out.", UserCancelledOrTimedout: true}}
	case OutcomeCanceled:
		return []RunState{queued, pending, running, terminating, canceledState()}
	default:
		return []RunState{queued, pending, running, terminating, {LifeCycleState: StateTerminated,
			ResultState: string(OutcomeSuccess)}}
	}
}

func canceledState() RunState {
	return RunState{LifeCycleState: StateTerminated, ResultState: string(OutcomeCanceled),
		StateMessage: "Run cancelled.", UserCancelledOrTimedout: true}
}

// RunStatus is the Jobs API 2.2 status object of a run.
type RunStatus struct {
	State              string              `json:"state"`
	QueueDetails       *StatusDetails      `json:"queue_details,omitempty"`
	TerminationDetails *TerminationDetails `json:"termination_details,omitempty"`
}

// StatusDetails is the queue_details object of a 2.2 status.
type StatusDetails struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TerminationDetails is the termination_details object of a 2.2 status.
type TerminationDetails struct {
	Code    string `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// statusOf derives the 2.2 status object from a 2.1 state.
func statusOf(s RunState) *RunStatus {
	st := &RunStatus{State: s.LifeCycleState}
	term := func(code, typ string) *TerminationDetails {
		return &TerminationDetails{Code: code, Type: typ, Message: s.StateMessage}
	}
	switch s.LifeCycleState {
	case StateQueued:
		st.QueueDetails = &StatusDetails{Code: "ACTIVE_RUNS_LIMIT_REACHED", Message: s.StateMessage}
	case StateWaitingForRetry:
		st.State = "WAITING"
	case StateSkipped:
		st.State = StateTerminated
		st.TerminationDetails = term("SKIPPED", "SUCCESS")
	case StateInternalError:
		st.State = StateTerminated
		st.TerminationDetails = term("INTERNAL_ERROR", "INTERNAL_ERROR")
	case StateTerminated:
		switch Outcome(s.ResultState) {
		case OutcomeSuccess:
			st.TerminationDetails = term("SUCCESS", "SUCCESS")
		case OutcomeCanceled:
			st.TerminationDetails = term("CANCELED", "SUCCESS")
		case OutcomeTimedOut:
			st.TerminationDetails = term("TIMED_OUT", "CLIENT_ERROR")
		case OutcomeFailed:
			st.TerminationDetails = term("RUN_EXECUTION_ERROR", "CLIENT_ERROR")
		default:
			st.TerminationDetails = term(s.ResultState, "CLIENT_ERROR")
		}
	}
	return st
}

// Run is a snapshot of one run, as tests and GET /fakeapi/runs see it.
type Run struct {
	RunID            int64          `json:"run_id"`
	JobID            int64          `json:"job_id"`
	RunName          string         `json:"run_name"`
	IdempotencyToken string         `json:"idempotency_token,omitempty"`
	Outcome          Outcome        `json:"outcome"`
	State            RunState       `json:"state"`
	Host             string         `json:"host"`
	APIVersion       string         `json:"api_version"`
	Submissions      int            `json:"submissions"`
	CancelRequests   int            `json:"cancel_requests"`
	Body             map[string]any `json:"body"`
}

// run is the server's record of one run; guarded by Server.mu.
type run struct {
	id, jobID   int64
	name        string
	token       string
	outcome     Outcome
	host        string
	apiVersion  string
	body        map[string]any
	stages      []RunState
	stage       int
	enteredAt   time.Time
	createdAt   time.Time
	endedAt     time.Time
	forced      *RunState
	submissions int
	cancels     int
}

// current is the run's state after letting the clock move it on to now.
func (r *run) current(d Durations, manual bool, now time.Time) RunState {
	if r.forced != nil {
		return *r.forced
	}
	for !manual && r.stage < len(r.stages)-1 {
		dur := d.of(r.stages[r.stage].LifeCycleState)
		if now.Sub(r.enteredAt) < dur {
			break
		}
		r.enteredAt = r.enteredAt.Add(dur)
		r.stage++
	}
	s := r.stages[r.stage]
	if s.terminal() && r.endedAt.IsZero() {
		r.endedAt = now
	}
	return s
}

// advance moves the run steps stages on (at most to its last one).
func (r *run) advance(steps int, now time.Time) {
	r.forced = nil
	for i := 0; i < steps && r.stage < len(r.stages)-1; i++ {
		r.stage++
	}
	r.enteredAt = now
}

// cancel ends a run that has not finished as CANCELED; a finished run is left
// as it is.
func (r *run) cancel(d Durations, manual bool, now time.Time) {
	r.cancels++
	if r.current(d, manual, now).terminal() {
		return
	}
	r.forced = nil
	r.stages = append(r.stages[:r.stage+1:r.stage+1], canceledState())
	r.stage++
	r.enteredAt = now
	r.endedAt = now
}

func (r *run) snapshot(s RunState) Run {
	return Run{
		RunID:            r.id,
		JobID:            r.jobID,
		RunName:          r.name,
		IdempotencyToken: r.token,
		Outcome:          r.outcome,
		State:            s,
		Host:             r.host,
		APIVersion:       r.apiVersion,
		Submissions:      r.submissions,
		CancelRequests:   r.cancels,
		Body:             r.body,
	}
}

// markerOutcome looks for MarkerKey anywhere in a decoded JSON value.
func markerOutcome(v any) (Outcome, bool) {
	switch t := v.(type) {
	case map[string]any:
		if s, ok := t[MarkerKey].(string); ok {
			if o, ok := ParseOutcome(s); ok {
				return o, true
			}
		}
		for _, child := range t {
			if o, ok := markerOutcome(child); ok {
				return o, true
			}
		}
	case []any:
		for _, child := range t {
			if o, ok := markerOutcome(child); ok {
				return o, true
			}
		}
	case string:
		if rest, ok := strings.CutPrefix(t, MarkerKey+"="); ok {
			return ParseOutcome(rest)
		}
	}
	return "", false
}

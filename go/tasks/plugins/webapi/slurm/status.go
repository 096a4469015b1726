package slurm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

// Queued versions above the web-API machinery's "launched" version 2,
// growing as a pending job's reason changes kind.
const (
	versionPending = 3
	versionUnknown = 1
)

// State names the plugin refers to outside the table.
const (
	stateFailed      = "FAILED"
	stateOutOfMemory = "OUT_OF_MEMORY"
	stateCancelled   = "CANCELLED"
)

// stateRules is THE state table: every Slurm job state (squeue/scontrol
// long names) and what it means for the task. A state missing here maps to
// remote.UnknownState: Running, with a reason naming it.
var stateRules = map[string]remote.Rule{
	"PENDING":        {Outcome: remote.Queued, Reason: "Slurm job pending", Version: versionPending},
	"CONFIGURING":    {Outcome: remote.Initializing, Reason: "Slurm job configuring its nodes"},
	"RUNNING":        {Outcome: remote.Running},
	"COMPLETING":     {Outcome: remote.Running, Reason: "Slurm job completing", Version: 1},
	"SUSPENDED":      {Outcome: remote.Running, Reason: "Slurm job suspended", Version: 2},
	"STOPPED":        {Outcome: remote.Running, Reason: "Slurm job stopped (SIGSTOP)", Version: 3},
	"RESIZING":       {Outcome: remote.Running, Reason: "Slurm job resizing", Version: 4},
	"SIGNALING":      {Outcome: remote.Running, Reason: "Slurm job being signalled", Version: 5},
	"REQUEUE_FED":    {Outcome: remote.Queued, Reason: "Slurm job requeued by the federation", Version: versionPending},
	"REQUEUE_HOLD":   {Outcome: remote.Queued, Reason: "Slurm job requeued and held", Version: versionPending},
	"SPECIAL_EXIT":   {Outcome: remote.Queued, Reason: "Slurm job requeued in special exit state (held)", Version: versionPending},
	"COMPLETED":      {Outcome: remote.Succeeded},
	stateFailed:      {Outcome: remote.PermanentFailure, Code: "SlurmJobFailed", Reason: "Slurm job failed"},
	stateOutOfMemory: {Outcome: remote.PermanentFailure, Code: "SlurmJobOutOfMemory", Reason: "Slurm job ran out of memory"},
	"TIMEOUT":        {Outcome: remote.PermanentFailure, Code: "SlurmJobTimeout", Reason: "Slurm job reached its time limit"},
	"DEADLINE":       {Outcome: remote.PermanentFailure, Code: "SlurmJobDeadline", Reason: "Slurm job reached its deadline"},
	"NODE_FAIL":      {Outcome: remote.SystemRetryableFailure, Code: "SlurmNodeFail", Reason: "a node of the Slurm job failed"},
	"BOOT_FAIL":      {Outcome: remote.SystemRetryableFailure, Code: "SlurmBootFail", Reason: "a node of the Slurm job failed to boot"},
	"PREEMPTED":      {Outcome: remote.SystemRetryableFailure, Code: "SlurmJobPreempted", Reason: "Slurm job preempted"},
	"REQUEUED":       {Outcome: remote.SystemRetryableFailure, Code: "SlurmJobRequeued", Reason: "Slurm job requeued"},
	"REVOKED":        {Outcome: remote.SystemRetryableFailure, Code: "SlurmJobRevoked", Reason: "Slurm job revoked (ran on another federated cluster)"},
	stateCancelled:   {Outcome: remote.PermanentFailure, Code: "SlurmJobCancelled", Reason: "Slurm job cancelled"},
}

// shortStates maps squeue's compact codes to state names.
var shortStates = map[string]string{
	"PD": "PENDING", "CF": "CONFIGURING", "R": "RUNNING", "CG": "COMPLETING", "S": "SUSPENDED",
	"ST": "STOPPED", "RS": "RESIZING", "SI": "SIGNALING", "CD": "COMPLETED", "F": "FAILED",
	"OOM": "OUT_OF_MEMORY", "TO": "TIMEOUT", "DL": "DEADLINE", "NF": "NODE_FAIL", "BF": "BOOT_FAIL",
	"PR": "PREEMPTED", "RQ": "REQUEUED", "RV": "REVOKED", "CA": "CANCELLED", "RF": "REQUEUE_FED",
	"RH": "REQUEUE_HOLD", "SE": "SPECIAL_EXIT",
}

// normalizeState reduces what Slurm prints ("CANCELLED by 1000",
// "completed", "CD", a list of flags) to a state name.
func normalizeState(s string) (state, detail string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s, detail = s[:i], strings.TrimSpace(s[i+1:])
	}
	s = strings.ToUpper(strings.TrimSuffix(s, "+"))
	if long, ok := shortStates[s]; ok {
		s = long
	}
	return s, detail
}

// ruleFor is the rule for a job state; known is false for a state not in
// the table.
func ruleFor(state string) (remote.Rule, bool) {
	return remote.Lookup(stateRules, "Slurm", state, versionUnknown)
}

// jobInfo is what a transport learns about a job.
type jobInfo struct {
	ID     string
	State  string
	Reason string
	// ExitCode and Signal are from Slurm's "code:signal" or a raw wait
	// status.
	ExitCode, Signal int
	StdOut, StdErr   string
	Name, Comment    string
	// CancelledBy is the user (or uid) Slurm says cancelled the job.
	CancelledBy string
	// FromRecord: the controller had purged the job; this is its jobcomp
	// record (or the last state seen).
	FromRecord string
}

// parseExitCode reads "3:0" (code:signal) or a plain number.
func parseExitCode(s string) (code, sig int) {
	s = strings.TrimSpace(s)
	a, b, ok := strings.Cut(s, ":")
	code, _ = strconv.Atoi(a)
	if ok {
		sig, _ = strconv.Atoi(b)
	}
	return code, sig
}

// fromWaitStatus splits a raw wait status (what REST v0.0.38 reports).
func fromWaitStatus(ws int) (code, sig int) {
	if ws&0x7f != 0 {
		return 0, ws & 0x7f
	}
	return (ws >> 8) & 0xff, 0
}

// phaseOf maps a job to a phase. aborted says our own abort cancelled it.
func phaseOf(j *jobInfo, aborted bool, info *core.TaskInfo) core.PhaseInfo {
	r, known := ruleFor(j.State)
	if !known && j.State == "" {
		r = remote.Rule{Outcome: remote.Running, Reason: "Slurm answered without a job state; treating the job as running"}
	}
	switch {
	case r.Outcome == remote.Queued:
		detail := j.Reason
		if detail == "None" {
			detail = ""
		}
		if detail != "" {
			r.Reason = "" // Slurm's own reason (Priority, Resources, ...) is the phase reason
			detail = "Slurm: " + detail
		}
		return r.Phase(detail, info)
	case r.Outcome.Failure():
		return r.Phase(failureDetail(j, aborted), info)
	}
	return r.Phase("", info)
}

// failureDetail says how a job ended: its ID, exit code or signal, who
// cancelled it, where its output is.
func failureDetail(j *jobInfo, aborted bool) string {
	parts := []string{"job " + j.ID}
	if j.Signal != 0 {
		parts = append(parts, fmt.Sprintf("killed by signal %d", j.Signal))
	} else if j.State != stateCancelled {
		parts = append(parts, fmt.Sprintf("exit code %d", j.ExitCode))
	}
	if j.State == stateCancelled {
		switch {
		case aborted:
			parts = append(parts, "cancelled by Flyte's abort")
		case j.CancelledBy != "":
			parts = append(parts, "cancelled by "+j.CancelledBy)
		}
	}
	if j.Reason != "" && j.Reason != "None" {
		parts = append(parts, "reason "+j.Reason)
	}
	if j.StdErr != "" {
		parts = append(parts, "stderr "+j.StdErr)
	} else if j.StdOut != "" {
		parts = append(parts, "stdout "+j.StdOut)
	}
	if j.FromRecord != "" {
		parts = append(parts, j.FromRecord)
	}
	return strings.Join(parts, ", ")
}

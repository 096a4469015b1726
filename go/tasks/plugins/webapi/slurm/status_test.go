package slurm

import (
	"fmt"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

// TestStateTableIsExhaustive walks every Slurm state, each short code, and
// unknown strings: each maps to the phase the spec's table names.
func TestStateTableIsExhaustive(t *testing.T) {
	want := map[string]core.Phase{
		"PENDING": core.PhaseQueued, "CONFIGURING": core.PhaseInitializing,
		"RUNNING": core.PhaseRunning, "COMPLETING": core.PhaseRunning, "SUSPENDED": core.PhaseRunning,
		"STOPPED": core.PhaseRunning, "RESIZING": core.PhaseRunning, "SIGNALING": core.PhaseRunning,
		"REQUEUE_FED": core.PhaseQueued, "REQUEUE_HOLD": core.PhaseQueued, "SPECIAL_EXIT": core.PhaseQueued,
		"COMPLETED": core.PhaseSuccess,
		"FAILED":    core.PhasePermanentFailure, "OUT_OF_MEMORY": core.PhasePermanentFailure,
		"TIMEOUT": core.PhasePermanentFailure, "DEADLINE": core.PhasePermanentFailure,
		"NODE_FAIL": core.PhaseRetryableFailure, "BOOT_FAIL": core.PhaseRetryableFailure,
		"PREEMPTED": core.PhaseRetryableFailure, "REQUEUED": core.PhaseRetryableFailure, "REVOKED": core.PhaseRetryableFailure,
		"CANCELLED": core.PhasePermanentFailure,
	}
	require.Len(t, stateRules, len(want), "every table row is checked")
	for state, phase := range want {
		ph := phaseOf(&jobInfo{ID: "7", State: state, Reason: "Priority", ExitCode: 3}, false, &core.TaskInfo{})
		assert.Equal(t, phase, ph.Phase(), state)
		if ph.Phase().IsFailure() {
			assert.Contains(t, ph.Err().GetMessage(), "job 7", state)
			assert.NotEmpty(t, ph.Err().GetCode())
		}
	}
	for short, long := range shortStates {
		s, _ := normalizeState(short)
		assert.Equal(t, long, s)
		_, known := ruleFor(long)
		assert.True(t, known, long)
	}
	for _, odd := range []string{"WHATEVER", "RUNNING_V2", "", " ", "pending+", "\x00"} {
		s, _ := normalizeState(odd)
		ph := phaseOf(&jobInfo{ID: "1", State: s}, false, &core.TaskInfo{})
		if _, known := ruleFor(s); known {
			continue
		}
		assert.Equal(t, core.PhaseRunning, ph.Phase(), "%q", odd)
		if s != "" {
			require.NotEmpty(t, ph.Info().AdditionalReasons)
			assert.Contains(t, ph.Info().AdditionalReasons[0].Reason, fmt.Sprintf("%q", s))
		}
	}
}

func TestPhaseDetails(t *testing.T) {
	ph := phaseOf(&jobInfo{ID: "4", State: "PENDING", Reason: "Resources"}, false, &core.TaskInfo{})
	assert.Equal(t, "Slurm: Resources", ph.Reason())
	ph = phaseOf(&jobInfo{ID: "4", State: "FAILED", ExitCode: 3}, false, &core.TaskInfo{})
	assert.Contains(t, ph.Err().GetMessage(), "exit code 3")
	ph = phaseOf(&jobInfo{ID: "4", State: "FAILED", Signal: 9}, false, &core.TaskInfo{})
	assert.Contains(t, ph.Err().GetMessage(), "signal 9")
	ph = phaseOf(&jobInfo{ID: "4", State: "CANCELLED", CancelledBy: "1000"}, false, &core.TaskInfo{})
	assert.Contains(t, ph.Err().GetMessage(), "cancelled by 1000")
	ph = phaseOf(&jobInfo{ID: "4", State: "CANCELLED"}, true, &core.TaskInfo{})
	assert.Contains(t, ph.Err().GetMessage(), "Flyte's abort")
	ph = phaseOf(&jobInfo{ID: "4", State: "TIMEOUT"}, false, &core.TaskInfo{})
	assert.Contains(t, ph.Err().GetMessage(), "time limit")
	assert.Equal(t, remote.PermanentFailure, stateRules["TIMEOUT"].Outcome)
}

func TestParsers(t *testing.T) {
	kv := parseKV("JobId=12 JobName=flyte-a-1 UserId=root(0) JobState=CANCELLED by 0 Reason=None ExitCode=0:15 StdOut=/tmp/slurm 12.out Comment=x")
	assert.Equal(t, "12", kv["JobId"])
	assert.Equal(t, "CANCELLED by 0", kv["JobState"])
	assert.Equal(t, "/tmp/slurm 12.out", kv["StdOut"])
	j := jobFromKV(kv)
	assert.Equal(t, "CANCELLED", j.State)
	assert.Equal(t, "0", j.CancelledBy)
	assert.Equal(t, 15, j.Signal)
	c, s := fromWaitStatus(768)
	assert.Equal(t, 3, c)
	assert.Zero(t, s)
	_, s = fromWaitStatus(9)
	assert.Equal(t, 9, s)
	assert.Equal(t, "RUNNING", stateOf([]byte(`["RUNNING","COMPLETING"]`)))
	assert.Equal(t, "PENDING", stateOf([]byte(`"PENDING"`)))
	c, s = exitOf([]byte(`{"status":["EXITED"],"return_code":{"set":true,"number":3},"signal":{"id":{"set":false,"number":0}}}`))
	assert.Equal(t, 3, c)
	assert.Zero(t, s)
	for in, want := range map[string]int{"5": 5, "1:30": 2, "1:00:00": 60, "1-0": 1440, "2-01:30": 2970, "0:01": 1} {
		got, err := minutesOf(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := minutesOf("soon")
	assert.Error(t, err)
	assert.Equal(t, "/o/5-x.out", expandPattern("/o/%j-%x.out", "5", "x", "u"))
}

func TestControllerUnreachableIsTransient(t *testing.T) {
	assert.True(t, controllerUnreachable("sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)"))
	assert.True(t, controllerUnreachable("sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying"))
	assert.False(t, controllerUnreachable("sbatch: error: Batch job submission failed: Invalid partition name specified"))
}

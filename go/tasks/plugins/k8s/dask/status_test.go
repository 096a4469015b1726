package dask_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

const jobName = "f8a1b2c3d4-n0-0"

var endTime = metav1.NewTime(time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC))

func jobWithStatus(status daskAPI.JobStatus) *daskAPI.DaskJob {
	job := runningJob()
	job.Status.JobStatus = status
	if status == daskAPI.DaskJobSuccessful || status == daskAPI.DaskJobFailed {
		job.Status.EndTime = endTime
	}
	return job
}

func taskPhase(t testing.TB, job *daskAPI.DaskJob, state k8s.PluginState) pluginsCore.PhaseInfo {
	t.Helper()
	task := daskTask(t, basicJob())
	task.State = state
	ph, err := registered(t).GetTaskPhase(context.Background(), kittest.New(task), job)
	require.NoError(t, err)
	return ph
}

// reasons are the phase's reason plus the additional reasons a Running
// phase carries its reason in.
func reasons(ph pluginsCore.PhaseInfo) string {
	out := []string{ph.Reason()}
	if info := ph.Info(); info != nil {
		for _, r := range info.AdditionalReasons {
			out = append(out, r.Reason)
		}
	}
	return strings.Join(out, "|")
}

// TestGetTaskPhase walks the spec's status table: every status the
// operator writes, the empty one, and a string a newer operator might
// write.
func TestGetTaskPhase(t *testing.T) {
	tests := []struct {
		status     daskAPI.JobStatus
		phase      pluginsCore.Phase
		reason     string // substring of the reasons
		errCode    string
		errMessage []string
	}{
		{status: "", phase: pluginsCore.PhaseInitializing, reason: "unknown"},
		{status: daskAPI.DaskJobCreated, phase: pluginsCore.PhaseInitializing, reason: "job created"},
		{status: daskAPI.DaskJobClusterCreated, phase: pluginsCore.PhaseInitializing, reason: "cluster created"},
		{status: daskAPI.DaskJobRunning, phase: pluginsCore.PhaseRunning},
		{status: daskAPI.DaskJobSuccessful, phase: pluginsCore.PhaseSuccess},
		{
			status: daskAPI.DaskJobFailed, phase: pluginsCore.PhaseRetryableFailure, errCode: "DownstreamSystemError",
			errMessage: []string{`DaskJob "` + jobName + `"`, `cluster "my-cluster"`, "2026-06-01T12:30:00Z"},
		},
		{status: "Suspended", phase: pluginsCore.PhaseRunning, reason: strconv.Quote("Suspended")},
		{status: "jobCreated", phase: pluginsCore.PhaseRunning, reason: strconv.Quote("jobCreated")},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			job := jobWithStatus(tt.status)
			job.Status.ClusterName = "my-cluster"
			ph := taskPhase(t, job, k8s.PluginState{})
			assert.Equal(t, tt.phase, ph.Phase())
			assert.Contains(t, reasons(ph), tt.reason)
			assert.NotNil(t, ph.Info())
			assert.NotNil(t, ph.Info().OccurredAt)
			if tt.errCode == "" {
				assert.Nil(t, ph.Err())
				return
			}
			require.NotNil(t, ph.Err())
			assert.Equal(t, tt.errCode, ph.Err().GetCode())
			assert.Equal(t, core.ExecutionError_USER, ph.Err().GetKind())
			for _, s := range tt.errMessage {
				assert.Contains(t, ph.Err().GetMessage(), s)
			}
		})
	}
}

func TestFailureMessageWithoutClusterOrEndTime(t *testing.T) {
	job := jobWithStatus(daskAPI.DaskJobFailed)
	job.Status.ClusterName = ""
	job.Status.EndTime = metav1.Time{}
	msg := taskPhase(t, job, k8s.PluginState{}).Err().GetMessage()
	assert.Contains(t, msg, `cluster "`+jobName+`"`, "the operator names the cluster after the job")
	assert.Contains(t, msg, "unknown time")
}

// TestPhaseVersion follows the live-view rule (spec/queueing.md,
// superseding propeller's): counted from the stored version, one step up
// when the phase repeats with another reason, Running included; never
// lower.
func TestPhaseVersion(t *testing.T) {
	tests := []struct {
		name    string
		status  daskAPI.JobStatus
		state   k8s.PluginState
		version uint32
		// above: only known to exceed version (Running's carries a
		// fingerprint of what it shows).
		above bool
	}{
		{"new reason in the same phase", daskAPI.DaskJobClusterCreated,
			k8s.PluginState{Phase: pluginsCore.PhaseInitializing, PhaseVersion: 2, Reason: "job created"}, 3, false},
		{"same reason: the stored version", daskAPI.DaskJobClusterCreated,
			k8s.PluginState{Phase: pluginsCore.PhaseInitializing, PhaseVersion: 2, Reason: "cluster created"}, 2, false},
		{"new phase", daskAPI.DaskJobClusterCreated,
			k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 2, Reason: "x"}, pluginsCore.DefaultPhaseVersion, false},
		{"running counts up from the stored version", daskAPI.DaskJobRunning,
			k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 2, Reason: "x"}, 2, true},
		{"an unknown status is running, counted up the same way", "Quiescing",
			k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 2, Reason: "x"}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := taskPhase(t, jobWithStatus(tt.status), tt.state).Version()
			if tt.above {
				assert.Greater(t, v, tt.version)
			} else {
				assert.Equal(t, tt.version, v)
			}
		})
	}
}

func TestIsTerminalAndCompletionTime(t *testing.T) {
	p, ok := registered(t).(flyte2)
	require.True(t, ok, "the plugin implements Flyte 2's IsTerminal and GetCompletionTime")

	start := metav1.NewTime(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	created := metav1.NewTime(time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC))
	tests := []struct {
		name     string
		status   daskAPI.JobStatus
		end      metav1.Time
		start    metav1.Time
		terminal bool
		want     time.Time
	}{
		{"running", daskAPI.DaskJobRunning, metav1.Time{}, start, false, time.Time{}},
		{"unknown status", "Suspended", endTime, start, false, time.Time{}},
		{"created", daskAPI.DaskJobCreated, metav1.Time{}, metav1.Time{}, false, time.Time{}},
		{"succeeded", daskAPI.DaskJobSuccessful, endTime, start, true, endTime.Time},
		{"failed", daskAPI.DaskJobFailed, endTime, start, true, endTime.Time},
		{"failed without an end time", daskAPI.DaskJobFailed, metav1.Time{}, start, true, start.Time},
		{"failed with no times", daskAPI.DaskJobFailed, metav1.Time{}, metav1.Time{}, true, created.Time},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := runningJob()
			job.CreationTimestamp = created
			job.Status.JobStatus, job.Status.EndTime, job.Status.StartTime = tt.status, tt.end, tt.start
			terminal, err := p.IsTerminal(context.Background(), job)
			require.NoError(t, err)
			assert.Equal(t, tt.terminal, terminal)
			got, err := p.GetCompletionTime(job)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "completion time %v, want %v", got, tt.want)
		})
	}
}

func TestOtherObjectsAreRejected(t *testing.T) {
	p := registered(t)
	pod := &v1.Pod{}
	_, err := p.GetTaskPhase(context.Background(), kittest.New(daskTask(t, basicJob())), pod)
	assert.ErrorContains(t, err, "*v1.Pod")
	f2 := p.(flyte2)
	_, err = f2.IsTerminal(context.Background(), pod)
	assert.Error(t, err)
	_, err = f2.GetCompletionTime(pod)
	assert.Error(t, err)
	var nilJob *daskAPI.DaskJob
	_, err = f2.IsTerminal(context.Background(), nilJob)
	assert.Error(t, err)
}

package ray

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// kubeRayConstants reads the string constants of type typeName from the
// KubeRay module this build uses, so a KubeRay upgrade that adds a status
// or reason fails this test until the tables know it.
func kubeRayConstants(t *testing.T, typeName string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to locate the KubeRay module")
	}
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/ray-project/kuberay/ray-operator").Output()
	require.NoError(t, err)
	file := filepath.Join(strings.TrimSpace(string(out)), "apis", "ray", "v1", "rayjob_types.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	var values []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok)
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				values = append(values, s)
			}
		}
	}
	require.NotEmpty(t, values, typeName)
	return values
}

// Every JobDeploymentStatus KubeRay declares has a row, and every row is one
// KubeRay declares.
func TestDeploymentTableIsExhaustive(t *testing.T) {
	declared := kubeRayConstants(t, "JobDeploymentStatus")
	assert.Len(t, declared, 10, "KubeRay v1.5 declares ten deployment statuses")
	for _, s := range declared {
		_, ok := deploymentTable[rayv1.JobDeploymentStatus(s)]
		assert.True(t, ok, "no row for KubeRay status %q", s)
	}
	assert.Len(t, deploymentTable, len(declared), "a row for a status KubeRay does not declare")
}

// Every JobFailedReason KubeRay declares has a row in the failure table.
func TestFailureTableIsExhaustive(t *testing.T) {
	declared := kubeRayConstants(t, "JobFailedReason")
	for _, s := range declared {
		_, ok := failureTable[rayv1.JobFailedReason(s)]
		assert.True(t, ok, "no failure row for KubeRay reason %q", s)
	}
	assert.Len(t, failureTable, len(declared))
}

// Walk every row: each maps to a defined phase of the expected kind, and
// failures carry the code and ask for cleanup.
func TestTablesWalk(t *testing.T) {
	want := map[rayv1.JobDeploymentStatus]pluginsCore.Phase{
		rayv1.JobDeploymentStatusNew:              pluginsCore.PhaseQueued,
		rayv1.JobDeploymentStatusWaiting:          pluginsCore.PhaseQueued,
		rayv1.JobDeploymentStatusSuspending:       pluginsCore.PhaseQueued,
		rayv1.JobDeploymentStatusSuspended:        pluginsCore.PhaseQueued,
		rayv1.JobDeploymentStatusInitializing:     pluginsCore.PhaseInitializing,
		rayv1.JobDeploymentStatusRunning:          pluginsCore.PhaseRunning,
		rayv1.JobDeploymentStatusRetrying:         pluginsCore.PhaseRunning,
		rayv1.JobDeploymentStatusComplete:         pluginsCore.PhaseSuccess,
		rayv1.JobDeploymentStatusValidationFailed: pluginsCore.PhasePermanentFailure,
		rayv1.JobDeploymentStatusFailed:           pluginsCore.PhaseRetryableFailure,
	}
	for status, rule := range deploymentTable {
		phase := rule.Phase("detail", nil)
		assert.Equal(t, want[status], phase.Phase(), string(status))
		if phase.Phase().IsFailure() {
			assert.Equal(t, "TaskFailedWithError", phase.Err().GetCode(), string(status))
			assert.True(t, phase.CleanupOnFailure(), string(status))
		}
	}

	stages := map[jobStage][]rayv1.JobStatus{}
	for _, s := range append(rayv1.AllJobStatuses, "SOME_FUTURE_JOB_STATUS") {
		stages[stageOf(s)] = append(stages[stageOf(s)], s)
	}
	assert.Equal(t, []rayv1.JobStatus{rayv1.JobStatusNew, rayv1.JobStatusPending}, stages[stageNotStarted])
	assert.Equal(t, []rayv1.JobStatus{rayv1.JobStatusFailed}, stages[stageFailed])

	for reason, row := range failureTable {
		for stage := jobStage(0); stage < numStages; stage++ {
			f := row[stage]
			if f.userJob {
				continue
			}
			phase := f.rule.Phase("detail", nil)
			assert.True(t, phase.Phase().IsFailure(), "%s/%d", reason, stage)
			assert.Equal(t, "TaskFailedWithError", phase.Err().GetCode())
			assert.True(t, phase.CleanupOnFailure())
			assert.NotEmpty(t, f.rule.Reason)
		}
		assert.True(t, row[stageFailed].userJob || reason == rayv1.JobDeploymentStatusTransitionGracePeriodExceeded || reason == rayv1.ValidationFailed,
			"a FAILED Ray job is the user's failure unless KubeRay says otherwise (%s)", reason)
	}
	for stage := jobStage(0); stage < numStages; stage++ {
		assert.True(t, unknownReasonRow[stage].userJob)
	}

	// A status nobody knows yet is running, with a reason that names it.
	rule := kit.Lookup(deploymentTable, operator, "Pausing")
	assert.Equal(t, kit.Running, rule.Outcome)
	assert.Contains(t, rule.Reason, "Pausing")
}

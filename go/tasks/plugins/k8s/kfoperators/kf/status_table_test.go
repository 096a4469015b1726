package kf

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
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// declaredConditionTypes reads the JobConditionType constants from the
// training-operator module this build uses, so an upgrade that adds a
// condition type fails this test until the table knows it.
func declaredConditionTypes(t *testing.T) []kubeflowv1.JobConditionType {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to locate the training-operator module")
	}
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/kubeflow/training-operator").Output()
	require.NoError(t, err)
	file := filepath.Join(strings.TrimSpace(string(out)), "pkg", "apis", "kubeflow.org", "v1", "common_types.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	var types []kubeflowv1.JobConditionType
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "JobConditionType" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok)
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				types = append(types, kubeflowv1.JobConditionType(s))
			}
		}
	}
	require.NotEmpty(t, types)
	return types
}

// Every condition type the operator declares has a row, and every row
// (besides "no condition") is one the operator declares.
func TestConditionTableIsExhaustive(t *testing.T) {
	declared := declaredConditionTypes(t)
	assert.ElementsMatch(t, []kubeflowv1.JobConditionType{
		kubeflowv1.JobCreated, kubeflowv1.JobRunning, kubeflowv1.JobRestarting,
		kubeflowv1.JobSucceeded, kubeflowv1.JobSuspended, kubeflowv1.JobFailed,
	}, declared, "training-operator's condition types changed: review conditionTable")
	for _, c := range declared {
		_, ok := conditionTable[c]
		assert.True(t, ok, "no row for condition type %q", c)
	}
	assert.Len(t, conditionTable, len(declared)+1, "a row for a condition type the operator does not declare")
	_, ok := conditionTable[noCondition]
	assert.True(t, ok, "no row for a job without a True condition")
}

// Walk every row: each maps to the spec's phase, and failures carry a code
// and are system-retryable until the error file says otherwise.
func TestConditionTableWalk(t *testing.T) {
	want := map[kubeflowv1.JobConditionType]pluginsCore.Phase{
		noCondition:              pluginsCore.PhaseQueued,
		kubeflowv1.JobCreated:    pluginsCore.PhaseQueued,
		kubeflowv1.JobSuspended:  pluginsCore.PhaseQueued,
		kubeflowv1.JobRunning:    pluginsCore.PhaseRunning,
		kubeflowv1.JobRestarting: pluginsCore.PhaseRunning,
		kubeflowv1.JobSucceeded:  pluginsCore.PhaseSuccess,
		kubeflowv1.JobFailed:     pluginsCore.PhaseRetryableFailure,
	}
	for c, rule := range conditionTable {
		phase := rule.Phase("detail", nil)
		assert.Equal(t, want[c], phase.Phase(), "condition %q", c)
		if phase.Phase().IsFailure() {
			assert.NotEmpty(t, rule.Code, "condition %q", c)
			assert.Equal(t, kit.SystemRetryableFailure, rule.Outcome, "condition %q", c)
		}
	}
	assert.Equal(t, conditionTable[kubeflowv1.JobFailed], failure.Absent)
	assert.Equal(t, kit.RetryableFailure, failure.Present.Outcome, "an error file makes it the user's")
	assert.Equal(t, kit.SystemRetryableFailure, notPickedUp.Outcome)

	// A type nobody knows yet is running, with a reason that names it.
	rule := kit.Lookup(conditionTable, operator, "Quiescing")
	assert.Equal(t, kit.Running, rule.Outcome)
	assert.Contains(t, rule.Reason, "Quiescing")
}

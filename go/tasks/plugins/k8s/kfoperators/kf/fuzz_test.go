package kf_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

var (
	fuzzTypes = []kubeflowv1.JobConditionType{
		kubeflowv1.JobCreated, kubeflowv1.JobRunning, kubeflowv1.JobRestarting, kubeflowv1.JobSucceeded,
		kubeflowv1.JobSuspended, kubeflowv1.JobFailed, "", "Quiescing",
	}
	fuzzStatuses = []v1.ConditionStatus{v1.ConditionTrue, v1.ConditionFalse, v1.ConditionUnknown, ""}
)

// FuzzGetTaskPhase maps any status the operator could report, for each of
// the three plugins: conditions (3 bytes each: type, status, transition
// offset in minutes, any order and repeats; a type of 0xff is newType),
// start and completion times, suspension, the job's age. GetTaskPhase
// must never panic or return an error (propeller would retry the round
// forever), must give a defined phase (failures with an error), leave the
// conditions as they were, and agree with IsTerminal and
// GetCompletionTime. Seeds are in testdata/fuzz/FuzzGetTaskPhase.
func FuzzGetTaskPhase(f *testing.F) {
	f.Add(uint8(0), []byte{1, 0, 1}, "", "", "", true, false, false, int64(30))
	f.Add(uint8(1), []byte{0, 0, 0, 5, 0, 2}, "JobFailed", "worker-0 exited 1", "", true, true, false, int64(600))
	f.Add(uint8(2), []byte{}, "", "", "", false, false, true, int64(86400))
	f.Add(uint8(0), []byte{0xff, 0, 3, 1, 0, 2}, "", "", "Quiescing", true, false, false, int64(100))
	tasks := make([]kittest.Task, len(allPlugins))
	for i, p := range allPlugins {
		tasks[i] = p.workers(f, 2)
		tasks[i].GeneratedName = "fuzz-status-" + p.id
	}
	f.Fuzz(func(t *testing.T, which uint8, conds []byte, reason, message, newType string, hasStart, hasCompletion, suspend bool, ageSeconds int64) {
		p := allPlugins[int(which)%len(allPlugins)]
		task := tasks[int(which)%len(allPlugins)]
		obj := p.job(t, task, kubeflowv1.JobStatus{})
		now := time.Now()
		age := time.Duration(ageSeconds%(10*365*86400)) * time.Second
		createdAt := now.Add(-age)
		obj.SetCreationTimestamp(metav1.NewTime(createdAt))
		status := parts(obj).status
		for i := 0; i+2 < len(conds) && i < 3*16; i += 3 {
			typ := fuzzTypes[int(conds[i])%len(fuzzTypes)]
			if conds[i] == 0xff {
				typ = kubeflowv1.JobConditionType(newType)
			}
			at := createdAt.Add(time.Duration(conds[i+2]) * time.Minute)
			status.Conditions = append(status.Conditions, cond(typ, fuzzStatuses[int(conds[i+1])%len(fuzzStatuses)], at, reason, message))
		}
		if hasStart {
			status.StartTime = &metav1.Time{Time: createdAt.Add(time.Second)}
		}
		if hasCompletion {
			status.CompletionTime = &metav1.Time{Time: createdAt.Add(time.Hour)}
		}
		if suspend {
			parts(obj).runPolicy.Suspend = &suspend
		}
		before := append([]kubeflowv1.JobCondition(nil), status.Conditions...)

		plug := p.registered(t)
		info, err := plug.GetTaskPhase(context.Background(), kittest.New(task), obj)
		if err != nil {
			t.Fatalf("%s %+v: error %v", p.id, status, err)
		}
		phase := info.Phase()
		if phase == pluginsCore.PhaseUndefined {
			t.Fatalf("%s %+v: undefined phase", p.id, status)
		}
		if phase.IsFailure() && info.Err() == nil {
			t.Fatalf("%s %+v: failure without an error", p.id, status)
		}
		if !reflect.DeepEqual(before, status.Conditions) {
			t.Fatalf("%s: conditions changed", p.id)
		}
		terminal, err := plug.(flyte2).IsTerminal(context.Background(), obj)
		if err != nil {
			t.Fatal(err)
		}
		finished, err := plug.(flyte2).GetCompletionTime(obj)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case phase == pluginsCore.PhaseSuccess && !terminal:
			t.Fatalf("%s %+v: succeeded but not terminal", p.id, status)
		case terminal && !phase.IsTerminal():
			t.Fatalf("%s %+v: terminal but phase %v", p.id, status, phase)
		case terminal == finished.IsZero():
			t.Fatalf("%s %+v: terminal=%v, finished %v", p.id, status, terminal, finished)
		}
		if suspend && len(before) == 0 && phase != pluginsCore.PhaseQueued {
			t.Fatalf("%s: a suspended job without conditions is %v", p.id, phase)
		}
	})
}

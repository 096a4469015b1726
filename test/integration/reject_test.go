package integration_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	k8smgr "github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task/k8s"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestSchemaRejectionReportedThroughPropeller creates Spark tasks whose
// SparkApplication sparkapplications.sparkoperator.k8s.io's schema rejects
// (our plugin refuses the ones it can tell apart itself: a missing
// mainApplicationFile, zero executor instances), and checks that
// propeller's manager reports each as a permanent BadTaskFormat failure
// naming the field, creates nothing, and finalizes cleanly.
func TestSchemaRejectionReportedThroughPropeller(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name  string
		job   func() *plugins.SparkJob
		wrap  func(k8s.Plugin) k8s.Plugin
		field string
	}{
		{
			// Test-only: the plugin's output with an enum value the CRD
			// does not allow, injected by a wrapper (our plugin only ever
			// sets the restart policy OnFailure).
			name:  "restart policy the schema does not know (injected)",
			job:   sparkJob,
			wrap:  mutate(t, func(u map[string]any) { setPath(u, "Sometimes", "spec", "restartPolicy", "type") }),
			field: "spec.restartPolicy.type",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := h.newExecutionWith(t, "spark", sparkTask(t, tc.job()), tc.wrap)
			tr := e.handle()
			t.Logf("propeller's manager reports: %v: %s", tr.Info().Phase(), reasonOf(tr.Info()))
			check(t, "launch", tr, round{phase: pluginsCore.PhasePermanentFailure, code: "BadTaskFormat", reason: tc.field})
			if err := tr.Info().Err(); err != nil && err.GetKind() != core.ExecutionError_USER {
				t.Errorf("error kind %v, want USER", err.GetKind())
			}
			if e.rec.last() == nil {
				t.Error("the plugin refused the task itself; this case is about the API server rejecting it")
			}
			if u := e.server(); u != nil {
				t.Errorf("%s exists though the API server rejected it", e.key())
			}
			if s := e.managerState(); s.Phase != k8smgr.PluginPhaseNotStarted {
				t.Errorf("manager state %+v, want not started", s)
			}
			// Propeller finalizes a failed task; nothing to clean up is fine.
			e.finalize()
		})
	}
}

// TestReadBackCheckCatchesPruning proves checkStored can fail: a test-only
// wrapper adds a field the CRD does not declare to what the plugin built;
// the API server accepts the object and prunes the field, and the read-back
// comparison reports exactly that field.
func TestReadBackCheckCatchesPruning(t *testing.T) {
	h := newHarness(t)
	e := h.newExecutionWith(t, "spark", sparkTask(t, sparkJob()),
		mutate(t, func(u map[string]any) { setPath(u, "yes", "spec", "driver", "flyteUndeclaredField") }))
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})
	lost, _ := e.lost()
	if len(lost) != 1 || !strings.HasPrefix(lost[0], "spec.driver.flyteUndeclaredField: sent \"yes\", pruned") {
		t.Errorf("lost = %q, want exactly the undeclared field reported as pruned", lost)
	}
	e.abortAndFinalize()
}

// mutate wraps a plugin so that BuildResource returns its object as
// unstructured, edited by edit: a test-only way to send what our plugins
// never build.
func mutate(t *testing.T, edit func(map[string]any)) func(k8s.Plugin) k8s.Plugin {
	return func(p k8s.Plugin) k8s.Plugin { return mutating{Plugin: p, t: t, edit: edit} }
}

type mutating struct {
	k8s.Plugin
	t    *testing.T
	edit func(map[string]any)
}

func (m mutating) BuildResource(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (client.Object, error) {
	o, err := m.Plugin.BuildResource(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	m.edit(obj)
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
	return u, nil
}

// setPath sets obj[path...] = v, making the maps on the way.
func setPath(obj map[string]any, v any, path ...string) {
	for _, k := range path[:len(path)-1] {
		next, ok := obj[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[k] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}

package kit_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// An execution's pod-template override replaces the task's pod spec, its
// container's arguments included: BuildTaskPod must build exactly Flyte's
// pod, also when the override's argument count equals the task's templated
// ones (which once had the task's plain arguments spliced into them).
func TestBuildTaskPodWithExecutionPodTemplateOverride(t *testing.T) {
	for name, args := range map[string][]string{
		"as many args as the task's templated ones": {"pyflyte-execute", "--from-template"},
		"other args":     {"run", "{{.input}}", "x"},
		"templated args": {"{{.input}}", "{{.outputPrefix}}"},
		"no args":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			tmpl := kittest.ContainerTemplate("test", nil, "img:1", "pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}")
			override := &core.K8SPod{
				PrimaryContainerName: "main",
				PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{
					{Name: "main", Image: "img:2", Args: args},
				}}),
			}
			tCtx := kittest.New(kittest.Task{Template: tmpl, PodTemplate: override})

			wantSpec, wantMeta, wantPrimary, err := flytek8s.ToK8sPodSpec(context.Background(),
				flytek8s.NewPluginTaskExecutionContext(tCtx, flytek8s.WithInterruptible(false)))
			require.NoError(t, err)
			got, err := kit.BuildTaskPod(context.Background(), tCtx)
			require.NoError(t, err)
			assert.Equal(t, wantPrimary, got.PrimaryName)
			assert.Equal(t, wantMeta, got.Meta)
			assert.Equal(t, wantSpec, got.Spec)
		})
	}
}

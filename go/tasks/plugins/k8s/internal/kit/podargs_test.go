package kit_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// flytekitArgs is the command line flytekit registers for a task.
var flytekitArgs = []string{
	"pyflyte-fast-execute", "--additional-distribution", "s3://bucket/fast/abc.tar.gz", "--dest-dir", ".", "--",
	"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
	"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}", "--checkpoint-path", "{{.checkpointOutputPrefix}}",
	"--prev-checkpoint", "{{.prevCheckpointPrefix}}", "--resolver", "default_task_resolver", "--",
	"vars", "", "task-module", "wf", "task-name", "t", "{{ .Namespace }}-{{.perRetryUniqueKey}}", "{{.TaskTemplatePath}}",
}

// BuildTaskPod renders only the templated arguments; the pod must be
// exactly the one Flyte builds from the whole command line, including when
// a pod template brings arguments of its own (then it builds it in full).
func TestBuildTaskPodMatchesFlytePodBuilding(t *testing.T) {
	withCommand := kittest.ContainerTemplate("test", nil, "img:1", flytekitArgs...)
	withCommand.GetContainer().Command = []string{"/bin/run", "{{.outputPrefix}}"}
	k8sPod := kittest.ContainerTemplate("test", nil, "img:1")
	k8sPod.Target = &core.TaskTemplate_K8SPod{K8SPod: &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
		Containers: []v1.Container{{Name: "main", Image: "img:1", Args: []string{"run", "{{.input}}"}}},
	})}}
	k8sPod.Config = map[string]string{flytek8s.PrimaryContainerKey: "main"}

	templates := map[string]*core.TaskTemplate{
		"flytekit args":     kittest.ContainerTemplate("test", nil, "img:1", flytekitArgs...),
		"plain args":        kittest.ContainerTemplate("test", nil, "img:1", "python", "main.py", "", "a b"),
		"templated args":    kittest.ContainerTemplate("test", nil, "img:1", "{{.input}}", "{{.outputPrefix}}"),
		"no args":           kittest.ContainerTemplate("test", nil, "img:1"),
		"templated command": withCommand,
		"k8s pod target":    k8sPod,
	}
	podTemplates := map[string]*v1.PodTemplate{
		"no pod template": nil,
		"pod template with args": {
			ObjectMeta: metav1.ObjectMeta{Name: "with-args", Namespace: "flyteproject-development"},
			Template: v1.PodTemplateSpec{Spec: v1.PodSpec{Containers: []v1.Container{
				{Name: "primary", Args: []string{"--from-template", "{{.input}}"}},
			}}},
		},
		"pod template without args": {
			ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "flyteproject-development"},
			Template: v1.PodTemplateSpec{Spec: v1.PodSpec{Containers: []v1.Container{
				{Name: "default", Env: []v1.EnvVar{{Name: "FROM_TEMPLATE", Value: "1"}}},
			}}},
		},
	}
	for ptName, pt := range podTemplates {
		for name, tmpl := range templates {
			t.Run(ptName+"/"+name, func(t *testing.T) {
				platform := &config.K8sPluginConfig{}
				if pt != nil {
					platform.DefaultPodTemplateName = pt.Name
					flytek8s.DefaultPodTemplateStore.Store(pt)
					t.Cleanup(func() { flytek8s.DefaultPodTemplateStore.Delete(pt) })
				}
				kittest.SetPlatform(t, platform)
				tCtx := kittest.New(kittest.Task{Template: tmpl})

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
}

// The reduced template must carry every field of the task template and
// its container: a field added to flyteidl must be added to the copy.
func TestTemplatedArgsTaskCopiesEveryField(t *testing.T) {
	// Nine fields and the three members of the target oneof.
	assert.Equal(t, 12, (&core.TaskTemplate{}).ProtoReflect().Descriptor().Fields().Len(),
		"core.TaskTemplate changed: update templatedArgsTask")
	assert.Equal(t, 9, (&core.Container{}).ProtoReflect().Descriptor().Fields().Len(),
		"core.Container changed: update templatedArgsTask")
}

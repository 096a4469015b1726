package spark_test

import (
	"context"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
)

// flyte2 is what Flyte 2's executor needs beyond the v1 interface.
type flyte2 interface {
	IsTerminal(ctx context.Context, obj client.Object) (bool, error)
	GetCompletionTime(obj client.Object) (time.Time, error)
}

// registered returns the plugin as propeller gets it: from the registry by ID.
func registered(t testing.TB) k8s.Plugin {
	t.Helper()
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == spark.PluginID {
			return e.Plugin
		}
	}
	t.Fatalf("plugin %q is not registered", spark.PluginID)
	return nil
}

func TestRegistration(t *testing.T) {
	var entry *k8s.PluginEntry
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == "spark" {
			e := e
			entry = &e
		}
	}
	require.NotNil(t, entry, "plugin spark must be registered")
	assert.Equal(t, []string{"spark"}, entry.RegisteredTaskTypes)
	assert.IsType(t, &sparkv1beta2.SparkApplication{}, entry.ResourceToWatch)
	assert.False(t, entry.IsDefault)
	assert.Implements(t, (*flyte2)(nil), entry.Plugin)
	assert.Equal(t, k8s.PluginProperties{}, entry.Plugin.GetProperties())
}

func TestBuildIdentityResource(t *testing.T) {
	obj, err := registered(t).BuildIdentityResource(context.Background(), kittest.New(pythonTask(t)).TaskExecutionMetadata())
	require.NoError(t, err)
	app, ok := obj.(*sparkv1beta2.SparkApplication)
	require.True(t, ok)
	assert.Equal(t, "SparkApplication", app.Kind)
	assert.Equal(t, "sparkoperator.k8s.io/v1beta2", app.APIVersion)
	assert.Equal(t, sparkv1beta2.SparkApplicationSpec{}, app.Spec)
}

func TestIsTerminalAndCompletionTime(t *testing.T) {
	p := registered(t).(flyte2)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ended := created.Add(time.Hour)
	for _, tc := range []struct {
		state    sparkv1beta2.ApplicationStateType
		terminal bool
	}{
		{sparkv1beta2.ApplicationStateNew, false},
		{sparkv1beta2.ApplicationStateSubmitted, false},
		{sparkv1beta2.ApplicationStateRunning, false},
		{sparkv1beta2.ApplicationStateSucceeding, false},
		{sparkv1beta2.ApplicationStateFailing, false},
		{sparkv1beta2.ApplicationStateSuspended, false},
		{"SOME_FUTURE_STATE", false},
		{sparkv1beta2.ApplicationStateCompleted, true},
		{sparkv1beta2.ApplicationStateFailed, true},
		{sparkv1beta2.ApplicationStateFailedSubmission, true},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			app := application(tc.state)
			app.CreationTimestamp.Time = created
			app.Status.TerminationTime.Time = ended
			got, err := p.IsTerminal(context.Background(), app)
			require.NoError(t, err)
			assert.Equal(t, tc.terminal, got)
			done, err := p.GetCompletionTime(app)
			require.NoError(t, err)
			if tc.terminal {
				assert.Equal(t, ended, done)
			} else {
				assert.True(t, done.IsZero())
			}
		})
	}
	_, err := p.IsTerminal(context.Background(), nil)
	assert.Error(t, err)
	_, err = p.GetCompletionTime(&sparkv1beta2.ScheduledSparkApplication{})
	assert.Error(t, err)
}

// pythonTask is a typical pyspark task as flytekit serialises it.
func pythonTask(t testing.TB) kittest.Task {
	job := &plugins.SparkJob{
		ApplicationType:     plugins.SparkApplication_PYTHON,
		MainApplicationFile: "local:///usr/local/bin/entrypoint.py",
		ExecutorPath:        "/usr/bin/python3",
		SparkConf: map[string]string{
			"spark.driver.memory":      "1000M",
			"spark.executor.memory":    "2000M",
			"spark.driver.cores":       "1",
			"spark.executor.cores":     "2",
			"spark.executor.instances": "3",
		},
		HadoopConf: map[string]string{"fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem"},
	}
	tmpl := kittest.ContainerTemplate("spark", kittest.Struct(t, job), "ghcr.io/org/spark-task:v1",
		"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}")
	return kittest.Task{Template: tmpl, ServiceAccount: "task-sa", MaxAttempts: 4}
}

func withJob(t testing.TB, task kittest.Task, edit func(*plugins.SparkJob)) kittest.Task {
	job := &plugins.SparkJob{}
	require.NoError(t, protoFromStruct(task.Template.GetCustom(), job))
	edit(job)
	task.Template = cloneTemplate(task.Template)
	task.Template.Custom = kittest.Struct(t, job)
	return task
}

func cloneTemplate(tmpl *core.TaskTemplate) *core.TaskTemplate {
	return protoClone(tmpl).(*core.TaskTemplate)
}

func application(state sparkv1beta2.ApplicationStateType) *sparkv1beta2.SparkApplication {
	app := &sparkv1beta2.SparkApplication{}
	app.Name = "f8a1b2c3d4-n0-0"
	app.Namespace = "flyteproject-development"
	app.Status.AppState.State = state
	return app
}

func build(t testing.TB, task kittest.Task) *sparkv1beta2.SparkApplication {
	t.Helper()
	obj, err := registered(t).BuildResource(context.Background(), kittest.New(task))
	require.NoError(t, err)
	return obj.(*sparkv1beta2.SparkApplication)
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

const examples = "../../examples/"

func TestRenderSpark(t *testing.T) {
	out, errOut, code := cli(t, "render", "--config", examples+"propeller.yaml", "--task", examples+"spark-task.json",
		"--namespace", "ml-prod", "--name", "abc-n0-0", "--interruptible")
	require.Equal(t, 0, code, errOut)
	app := &sparkv1beta2.SparkApplication{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(out), app), "render prints a valid SparkApplication")
	assert.Equal(t, "SparkApplication", app.Kind)
	assert.Equal(t, "ml-prod", app.Namespace)
	assert.Equal(t, "abc-n0-0", app.Name)
	// The config file's sections reach the plugin.
	assert.Equal(t, "50", app.Spec.SparkConf["spark.kubernetes.allocation.batch.size"])
	assert.Equal(t, "com.amazonaws.auth.WebIdentityTokenCredentialsProvider", app.Spec.SparkConf["spark.hadoop.fs.s3a.aws.credentials.provider"])
	assert.Equal(t, "data-platform", app.Spec.Driver.Labels["team"])
	assert.Equal(t, "executor", app.Spec.Executor.Labels["role"])
	assert.Equal(t, "spot", app.Spec.Executor.NodeSelector["lifecycle"], "--interruptible puts executors on spot")
	assert.NotContains(t, app.Spec.Driver.NodeSelector, "lifecycle", "never the driver")
	assert.Equal(t, int32(3), *app.Spec.Executor.Instances)
}

// The Kubeflow examples render as the operator's kinds with the config
// file's sections applied.
func TestRenderKubeflow(t *testing.T) {
	for task, kind := range map[string]string{"pytorch-task.json": "kind: PyTorchJob", "tensorflow-task.json": "kind: TFJob", "mpi-task.json": "kind: MPIJob"} {
		out, errOut, code := cli(t, "render", "--config", examples+"propeller.yaml", "--task", examples+task, "--interruptible")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, kind)
		assert.Contains(t, out, "team: data-platform", "platform default labels on the job and its pods")
		assert.Contains(t, out, "activeDeadlineSeconds: 3600", "the task timeout is the job's deadline")
	}
}

// A suspended application waits in its queue: Queued, not Running.
func TestPhaseSuspendedSparkIsQueued(t *testing.T) {
	out, errOut, code := cli(t, "phase", "--config", examples+"propeller.yaml", "--resource", examples+"spark-application-suspended.yaml")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "phase: PhaseQueued")
	assert.Contains(t, out, "reason: job suspended")
}

func TestPhaseKubeflow(t *testing.T) {
	out, errOut, code := cli(t, "phase", "--config", examples+"propeller.yaml", "--resource", examples+"pytorch-job-running.yaml")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "phase: PhaseRunning")
	for _, pod := range []string{"master-0", "worker-0", "worker-1"} {
		assert.Contains(t, out, "Kubernetes Logs("+pod+")")
		assert.Contains(t, out, "f6b2c3d4e5a6b7c8d9e0-n0-0-"+pod+"/pod?container=pytorch")
	}
}

func TestRenderAcceptsTaskSpecProtobuf(t *testing.T) {
	tmpl, err := readTask(examples + "spark-task.json")
	require.NoError(t, err)
	raw, err := protoMarshalSpec(tmpl)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "0_task_1.pb")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	out, errOut, code := cli(t, "render", "--task", path)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "kind: SparkApplication")
}

func TestPhase(t *testing.T) {
	out, errOut, code := cli(t, "phase", "--config", examples+"propeller.yaml", "--resource", examples+"spark-application-running.yaml")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "phase: PhaseRunning")
	assert.Contains(t, out, "uri: https://spark-ui.example.com/f6b2c3d4e5a6b7c8d9e0-n0-0")
	assert.Contains(t, out, "Kubernetes Logs(Driver Logs)")
	assert.Contains(t, out, "sparkDriverUI: https://spark-ui.example.com/f6b2c3d4e5a6b7c8d9e0-n0-0")
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"render without task", []string{"render"}, "--task is required"},
		{"missing task file", []string{"render", "--task", filepath.Join(dir, "nope.json")}, "no such file"},
		{"task that is not a task", []string{"render", "--task", write("bad.json", `{"type": 42}`)}, "not a TaskTemplate"},
		{"binary garbage", []string{"render", "--task", write("bad.pb", "\xff\xff\xff")}, "not a TaskTemplate"},
		{"task type nobody handles", []string{"render", "--task", write("t.json", `{"type":"sql"}`)}, `no Kubernetes plugin handles task type "sql"`},
		{"task the plugin rejects", []string{"render", "--task", write("s.json", `{"type":"spark","custom":{},"container":{"image":"x"}}`)}, "custom.mainApplicationFile"},
		{"missing config", []string{"render", "--task", examples + "spark-task.json", "--config", filepath.Join(dir, "none.yaml")}, "config"},
		{"phase without resource", []string{"phase"}, "--resource is required"},
		{"unknown flag", []string{"render", "--tsak", "x"}, "flag provided but not defined: -tsak"},
		{"stray argument", []string{"render", "--task", "t.json", "extra"}, `unexpected argument "extra"`},
		{"resource without kind", []string{"phase", "--resource", write("r.yaml", "metadata: {name: x}\n")}, "apiVersion and kind are required"},
		{"resource nobody watches", []string{"phase", "--resource", write("p.yaml", "apiVersion: v1\nkind: Pod\n")}, "no plugin watches"},
		{"resource with a bad field", []string{"phase", "--resource", write("a.yaml", "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nstatus: {applicationState: [1, 2]}\n")}, "not a valid SparkApplication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := cli(t, tc.args...)
			assert.NotEqual(t, 0, code)
			assert.True(t, strings.Contains(errOut, tc.want), "stderr %q lacks %q", errOut, tc.want)
		})
	}
}

// -h prints a command's flags and succeeds.
func TestCommandHelp(t *testing.T) {
	for _, cmd := range []string{"render", "phase"} {
		out, _, code := cli(t, cmd, "-h")
		assert.Equal(t, 0, code, cmd)
		assert.Contains(t, out, "usage: flytedist "+cmd)
		assert.Contains(t, out, "-task")
	}
}

func TestRenderDatabricks(t *testing.T) {
	out, errOut, code := cli(t, "render", "--config", examples+"propeller.yaml", "--task", examples+"databricks-task.json", "--name", "dbx-n0-0")
	require.Equal(t, 0, code, errOut)
	var got struct {
		Request struct{ Method, URL string } `json:"request"`
		Body    map[string]any               `json:"body"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &got))
	assert.Equal(t, "POST", got.Request.Method)
	assert.Equal(t, "https://dbc-a53b7a3c-614c.cloud.databricks.com/api/2.1/jobs/runs/submit", got.Request.URL)
	assert.Equal(t, "dbx-n0-0", got.Body["run_name"])
	assert.NotEmpty(t, got.Body["idempotency_token"])
	assert.Contains(t, got.Body, "spark_python_task")

	// A spark task goes to Databricks only when asked.
	out, errOut, code = cli(t, "render", "--config", examples+"propeller.yaml", "--task", examples+"spark-task.json", "--plugin", "databricks")
	assert.NotEqual(t, 0, code, out)
	assert.Contains(t, errOut, "databricksConf")
}

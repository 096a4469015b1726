package databricks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

func TestRegistration(t *testing.T) {
	var found bool
	for _, e := range pluginmachinery.PluginRegistry().GetCorePlugins() {
		if e.ID == "databricks" {
			found = true
			assert.ElementsMatch(t, []core.TaskType{"spark", "databricks"}, e.RegisteredTaskTypes)
		}
	}
	assert.True(t, found, "plugin databricks is registered")
	entry := databricks.PluginEntry()
	assert.Equal(t, "databricks", entry.ID)
	assert.False(t, entry.IsDefault)
}

func TestConfigKeysAndDefaults(t *testing.T) {
	raw, err := json.Marshal(baseline)
	require.NoError(t, err)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &keys))
	// Upstream flyteplugins v1.16.8's keys, all still there.
	for _, k := range []string{"webApi", "resourceConstraints", "defaultWarehouse", "databricksTokenKey", "databricksInstance", "entrypointFile"} {
		assert.Contains(t, keys, k)
	}
	// Upstream's defaults.
	assert.Equal(t, "FLYTE_DATABRICKS_API_TOKEN", baseline.TokenKey)
	assert.Equal(t, "COMPUTE_CLUSTER", baseline.DefaultWarehouse)
	assert.Equal(t, 1000, baseline.WebAPI.ResourceQuotas["default"])
	assert.Equal(t, 10.0, baseline.WebAPI.ReadRateLimiter.QPS)
	assert.Equal(t, 100, baseline.WebAPI.ReadRateLimiter.Burst)
	assert.Equal(t, 10.0, baseline.WebAPI.WriteRateLimiter.QPS)
	assert.Equal(t, 500000, baseline.WebAPI.Caching.Size)
	assert.Equal(t, 30*time.Second, baseline.WebAPI.Caching.ResyncInterval.Duration)
	assert.Equal(t, 10, baseline.WebAPI.Caching.Workers)
	assert.Equal(t, 5, baseline.WebAPI.Caching.MaxSystemFailures)
	assert.EqualValues(t, 100, baseline.ResourceConstraints.ProjectScopeResourceConstraint.Value)
	assert.EqualValues(t, 50, baseline.ResourceConstraints.NamespaceScopeResourceConstraint.Value)
	// New keys.
	for _, k := range []string{"allowedInstances", "namespaceTokenKeys", "httpTimeout", "retry"} {
		assert.Contains(t, keys, k)
	}
}

func TestLoadRejectsBadConfig(t *testing.T) {
	for name, mutate := range map[string]func(*databricks.Config){
		"no attempts":        func(c *databricks.Config) { c.Retry.MaxAttempts = 0 },
		"backoff order":      func(c *databricks.Config) { c.Retry.BaseBackoff.Duration = time.Hour },
		"no timeout":         func(c *databricks.Config) { c.HTTPTimeout.Duration = 0 },
		"instance with path": func(c *databricks.Config) { c.DatabricksInstance = "host.example.com/evil" },
		"allowlist scheme":   func(c *databricks.Config) { c.AllowedInstances = []string{"http://x.example.com"} },
		"no token key":       func(c *databricks.Config) { c.TokenKey = "" },
		"empty ns key":       func(c *databricks.Config) { c.NamespaceTokenKeys = map[string]string{"ns": ""} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("dbc.example.com", mutate)
			require.NoError(t, databricks.SetConfig(&cfg))
			_, err := databricks.PluginEntry().PluginLoader(context.Background(), nil)
			assert.Error(t, err)
		})
	}
}

// steps walks a run through every state by hand and checks each phase.
func TestNewClusterHappyPath(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	k := newTask(t, taskSpec{
		conf:      newClusterConf(map[string]any{"run_name": "users-name", "idempotency_token": "users-token"}),
		sparkConf: map[string]string{"spark.executor.memory": "4g"},
		outputs:   true,
		timeout:   90*time.Minute + 500*time.Millisecond,
	})
	meta := e.create(k)
	assert.Equal(t, e.host, meta.Instance)
	assert.Equal(t, databricks.DefaultTokenKey, meta.TokenKey)
	assert.Equal(t, fakeapi.FirstID, meta.RunID, "run IDs above 2^53 survive")

	run := e.onlyRun()
	body := run.Body
	cluster := body["new_cluster"].(map[string]any)
	assert.Equal(t, map[string]any{"url": "ghcr.io/example/spark-task:v1"}, cluster["docker_image"])
	assert.Equal(t, map[string]any{"spark.executor.memory": "4g"}, cluster["spark_conf"])
	assert.Equal(t, json.Number("2"), cluster["num_workers"])
	task := body["spark_python_task"].(map[string]any)
	assert.Equal(t, entrypoint, task["python_file"])
	assert.Equal(t, []any{"pyflyte-execute", "--inputs", "s3://bucket/inputs/" + k.name + "/inputs.pb",
		"--output-prefix", string(k.outPath), "--x", "3"}, task["parameters"])
	assert.Equal(t, k.name, body["run_name"], "run_name comes from the task execution")
	assert.Equal(t, json.Number("5401"), body["timeout_seconds"], "the task timeout, rounded up")
	tok, _ := body["idempotency_token"].(string)
	assert.Len(t, tok, 64)
	assert.NotEqual(t, "users-token", tok)
	assert.Equal(t, "2.1", run.APIVersion)

	want := []struct {
		phase core.Phase
		state string
	}{
		{core.PhaseQueued, "QUEUED"},
		{core.PhaseInitializing, "PENDING"},
		{core.PhaseRunning, "RUNNING"},
		{core.PhaseRunning, "TERMINATING"},
		{core.PhaseSuccess, "TERMINATED"},
	}
	for i, w := range want {
		if i > 0 {
			e.api.Advance(meta.RunID, 1)
		}
		ph := e.phase(k, meta)
		assert.Equal(t, w.phase, ph.Phase(), w.state)
		require.NotNil(t, ph.Info())
		require.Len(t, ph.Info().Logs, 1, "the console link is there from %s on", w.state)
		link := ph.Info().Logs[0]
		assert.Equal(t, databricks.ConsoleLinkName, link.GetName())
		assert.Equal(t, fmt.Sprintf("https://%s/?o=1234567890#job/%d/run/%d", e.host, meta.RunID, meta.RunID), link.GetUri())
		assert.True(t, link.GetShowWhilePending())
		assert.Equal(t, w.state, ph.Info().CustomInfo.GetFields()["lifeCycleState"].GetStringValue())
		assert.Equal(t, fmt.Sprint(meta.RunID), ph.Info().CustomInfo.GetFields()["runId"].GetStringValue())
	}

	// The outputs Flyte gets are the ones under the task's output prefix.
	require.NoError(t, k.store.WriteProtobuf(context.Background(), k.outPath+"/outputs.pb", storage.Options{},
		&idlcore.LiteralMap{Literals: map[string]*idlcore.Literal{"o0": intLiteral(42)}}))
	reader := k.outputs.GetReader()
	require.NotNil(t, reader, "outputs handed over on success")
	outs, execErr, err := reader.Read(context.Background())
	require.NoError(t, err)
	require.Nil(t, execErr)
	assert.Equal(t, int64(42), outs.GetLiterals()["o0"].GetScalar().GetPrimitive().GetInteger())
}

func TestNoOutputsNoHandOver(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())
	assert.Nil(t, k.outputs.GetReader())
}

func TestExistingCluster(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{
		conf:      map[string]any{"existing_cluster_id": "0923-164208-meows279"},
		sparkConf: map[string]string{"spark.executor.memory": "4g"},
	})
	meta := e.create(k)
	body := e.onlyRun().Body
	assert.Equal(t, "0923-164208-meows279", body["existing_cluster_id"])
	assert.NotContains(t, body, "new_cluster", "no cluster is made up")
	assert.Equal(t, entrypoint, body["spark_python_task"].(map[string]any)["python_file"])
	assert.NotContains(t, body, "timeout_seconds", "no task timeout, none sent")
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())
}

func TestUserDockerImageAndSparkConfWin(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	conf := newClusterConf(nil)
	cluster := conf["new_cluster"].(map[string]any)
	cluster["docker_image"] = map[string]any{"basic_auth": map[string]any{"username": "u"}}
	cluster["spark_conf"] = map[string]any{"spark.user": "mine"}
	k := newTask(t, taskSpec{conf: conf, sparkConf: map[string]string{"spark.task": "theirs"}})
	e.create(k)
	got := e.onlyRun().Body["new_cluster"].(map[string]any)
	assert.Equal(t, map[string]any{"url": "ghcr.io/example/spark-task:v1", "basic_auth": map[string]any{"username": "u"}},
		got["docker_image"], "url filled in, the rest kept")
	assert.Equal(t, map[string]any{"spark.user": "mine"}, got["spark_conf"])
}

// A spark_conf the user sent as null is filled like a missing one.
func TestNullSparkConfIsDefaulted(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	conf := newClusterConf(nil)
	conf["new_cluster"].(map[string]any)["spark_conf"] = nil
	k := newTask(t, taskSpec{conf: conf, sparkConf: map[string]string{"spark.task": "theirs"}})
	e.create(k)
	got := e.onlyRun().Body["new_cluster"].(map[string]any)
	assert.Equal(t, map[string]any{"spark.task": "theirs"}, got["spark_conf"])
}

func TestUsersOwnTask(t *testing.T) {
	cases := map[string]map[string]any{
		"notebook":    {"notebook_task": map[string]any{"notebook_path": "/Users/me/nb", "base_parameters": map[string]any{"a": "1"}}},
		"python file": {"spark_python_task": map[string]any{"python_file": "dbfs:///mine.py", "parameters": []any{"x"}}},
		"git source": {"git_source": map[string]any{"git_url": "https://github.com/me/repo", "git_provider": "gitHub", "git_branch": "main"},
			"notebook_task": map[string]any{"notebook_path": "nb", "source": "GIT"}},
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, fakeapi.Options{})
			k := newTask(t, taskSpec{conf: newClusterConf(extra)})
			meta := e.create(k)
			body := e.onlyRun().Body
			for key, v := range extra {
				want, _ := json.Marshal(v)
				got, _ := json.Marshal(body[key])
				assert.JSONEq(t, string(want), string(got), key)
			}
			if _, ok := extra["spark_python_task"]; !ok {
				assert.NotContains(t, body, "spark_python_task", "no entrypoint task next to the user's own")
			}
			assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())
		})
	}
}

func TestDatabricksTaskType(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{taskType: "databricks", conf: map[string]any{
		"existing_cluster_id": "c-1",
		"notebook_task":       map[string]any{"notebook_path": "/nb"},
	}})
	meta := e.create(k)
	assert.Equal(t, "/nb", e.onlyRun().Body["notebook_task"].(map[string]any)["notebook_path"])
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())
}

func TestTerminalStates(t *testing.T) {
	cases := []struct {
		outcome fakeapi.Outcome
		phase   core.Phase
		code    string
		kind    idlcore.ExecutionError_ErrorKind
		msg     string
	}{
		{fakeapi.OutcomeSuccess, core.PhaseSuccess, "", 0, ""},
		{fakeapi.OutcomeFailed, core.PhaseRetryableFailure, "DatabricksRunFailed", idlcore.ExecutionError_USER, "Workload failed"},
		{fakeapi.OutcomeTimedOut, core.PhasePermanentFailure, "DatabricksRunTimedOut", idlcore.ExecutionError_USER, "timed out"},
		{fakeapi.OutcomeCanceled, core.PhasePermanentFailure, "DatabricksRunCanceled", idlcore.ExecutionError_USER, "cancelled"},
		{fakeapi.OutcomeInternalError, core.PhaseRetryableFailure, "DatabricksInternalError", idlcore.ExecutionError_SYSTEM, "internal error"},
		{fakeapi.OutcomeSkipped, core.PhasePermanentFailure, "DatabricksRunSkipped", idlcore.ExecutionError_USER, "skipped"},
	}
	require.Len(t, cases, len(fakeapi.Outcomes))
	for _, statusOnly := range []bool{false, true} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/statusOnly=%v", c.outcome, statusOnly), func(t *testing.T) {
				e := newEnv(t, fakeapi.Options{StatusOnly: statusOnly})
				k := newTask(t, taskSpec{conf: newClusterConf(nil),
					sparkConf: map[string]string{fakeapi.MarkerKey: string(c.outcome)}})
				meta := e.create(k)
				ph := e.phase(k, meta)
				assert.Equal(t, c.phase, ph.Phase())
				if c.code == "" {
					return
				}
				require.NotNil(t, ph.Err())
				assert.Equal(t, c.code, ph.Err().GetCode())
				assert.Equal(t, c.kind, ph.Err().GetKind())
				assert.Contains(t, ph.Err().GetMessage(), c.msg)
				assert.Contains(t, ph.Err().GetMessage(), fmt.Sprint(meta.RunID))
				require.NotEmpty(t, ph.Info().Logs, "failed runs keep their console link")
			})
		}
	}
}

func TestStatesTheFakeNeverProduces(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	for _, c := range []struct {
		state fakeapi.RunState
		phase core.Phase
	}{
		{fakeapi.RunState{LifeCycleState: "BLOCKED"}, core.PhaseRunning},
		{fakeapi.RunState{LifeCycleState: "WAITING_FOR_RETRY"}, core.PhaseRunning},
		{fakeapi.RunState{LifeCycleState: "HIBERNATING", StateMessage: "zzz"}, core.PhaseRunning},
		{fakeapi.RunState{LifeCycleState: "TERMINATED", ResultState: "SUCCESS_WITH_FAILURES"}, core.PhasePermanentFailure},
		{fakeapi.RunState{LifeCycleState: "TERMINATED", ResultState: "UPSTREAM_FAILED"}, core.PhasePermanentFailure},
	} {
		require.True(t, e.api.Force(meta.RunID, c.state))
		ph := e.phase(k, meta)
		assert.Equal(t, c.phase, ph.Phase(), c.state.LifeCycleState+"/"+c.state.ResultState)
		if c.state.LifeCycleState == "HIBERNATING" {
			reason := ph.Info().CustomInfo.GetFields()["reason"].GetStringValue()
			assert.Contains(t, reason, "HIBERNATING", "the reason names the unknown state")
		}
		if c.phase == core.PhasePermanentFailure {
			assert.Equal(t, "DatabricksRunUnsuccessful", ph.Err().GetCode())
			assert.Contains(t, ph.Err().GetMessage(), c.state.ResultState)
		}
	}
}

func TestAbort(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	e.api.Advance(meta.RunID, 2)

	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
	run := e.onlyRun()
	assert.Equal(t, "TERMINATED", run.State.LifeCycleState)
	assert.Equal(t, "CANCELED", run.State.ResultState)
	ph := e.phase(k, meta)
	assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
	assert.Equal(t, "DatabricksRunCanceled", ph.Err().GetCode())

	// Cancelling a finished run, a run Databricks does not know, or nothing
	// at all is a success.
	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(meta)))
	missing := meta
	missing.RunID = 12345
	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(missing)))
	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(nil)))
	require.NoError(t, e.plugin.Delete(context.Background(), deleteCtx(&meta)))
	assert.Equal(t, 3, e.onlyRun().CancelRequests)
}

func TestRunGoneWhilePolling(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	meta.RunID++
	ph := e.phase(k, meta)
	assert.Equal(t, core.PhaseRetryableFailure, ph.Phase())
	assert.Equal(t, "DatabricksRunNotFound", ph.Err().GetCode())
	assert.Equal(t, idlcore.ExecutionError_SYSTEM, ph.Err().GetKind())
}

func TestBadTaskSpecifications(t *testing.T) {
	notAStruct, err := structpb.NewStruct(map[string]any{"databricksConf": "nope"})
	require.NoError(t, err)
	cases := []struct {
		name string
		spec taskSpec
		cfg  func(*databricks.Config)
		want string
	}{
		{"no custom", taskSpec{noCustom: true}, nil, "no custom field"},
		{"custom not a SparkJob", taskSpec{custom: notAStruct}, nil, "not a SparkJob"},
		{"no databricksConf", taskSpec{}, nil, "databricksConf is empty"},
		{"new_cluster not an object", taskSpec{conf: map[string]any{"new_cluster": "big"}}, nil,
			`databricksConf.new_cluster must be an object, got the string "big"`},
		{"docker_image not an object", taskSpec{conf: map[string]any{"new_cluster": map[string]any{"docker_image": 3}}}, nil,
			"databricksConf.new_cluster.docker_image must be an object, got the number 3"},
		{"no entrypoint", taskSpec{conf: map[string]any{"existing_cluster_id": "c"}},
			func(c *databricks.Config) { c.EntrypointFile = "" }, "entrypointFile is empty"},
		{"no instance anywhere", taskSpec{conf: map[string]any{"existing_cluster_id": "c"}},
			func(c *databricks.Config) { c.DatabricksInstance = "" }, "databricksInstance is empty"},
		{"rejected by Databricks", taskSpec{conf: map[string]any{"notebook_task": map[string]any{}}}, nil,
			"Databricks rejected the request (INVALID_PARAMETER_VALUE): One of new_cluster or existing_cluster_id must be specified."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mutate []func(*databricks.Config)
			if c.cfg != nil {
				mutate = append(mutate, c.cfg)
			}
			e := newEnv(t, fakeapi.Options{}, mutate...)
			k := newTask(t, c.spec)
			meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
			require.NoError(t, err, "a bad task is a failed phase, not an error to retry")
			assert.Nil(t, meta)
			require.NotNil(t, res)
			ph, err := e.plugin.Status(context.Background(), k.statusCtx(meta, res))
			require.NoError(t, err)
			assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
			assert.Equal(t, "BadTaskSpecification", ph.Err().GetCode())
			assert.Contains(t, ph.Err().GetMessage(), c.want)
			assert.Empty(t, e.api.Runs())
		})
	}
}

func TestTokenRefused(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Token: "dapi-the-right-one"})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta, res, err := e.plugin.Create(context.Background(), k.createCtx())
	require.NoError(t, err)
	require.NotNil(t, res)
	ph, err := e.plugin.Status(context.Background(), k.statusCtx(meta, res))
	require.NoError(t, err)
	assert.Equal(t, core.PhasePermanentFailure, ph.Phase())
	assert.Equal(t, "DatabricksTokenRefused", ph.Err().GetCode())
	assert.Contains(t, ph.Err().GetMessage(), "refused the token from secret \"FLYTE_DATABRICKS_API_TOKEN\"")
	assert.NotContains(t, ph.Err().GetMessage(), platformToken)
	assert.Empty(t, e.api.Runs())

	// Refused while polling: also final.
	got, err := e.plugin.Get(context.Background(), getCtx(databricks.RunMeta{RunID: 1, Instance: e.host, TokenKey: databricks.DefaultTokenKey}))
	require.NoError(t, err)
	ph, err = e.plugin.Status(context.Background(), k.statusCtx(databricks.RunMeta{RunID: 1, Instance: e.host}, got))
	require.NoError(t, err)
	assert.Equal(t, "DatabricksTokenRefused", ph.Err().GetCode())
}

func TestSecretErrors(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	k.secrets = secretsFor(map[string]string{})
	_, _, err := e.plugin.Create(context.Background(), k.createCtx())
	require.Error(t, err, "a missing secret is worth retrying")
	assert.Contains(t, err.Error(), `secret "FLYTE_DATABRICKS_API_TOKEN"`)
	k.secrets = secretsFor(map[string]string{databricks.DefaultTokenKey: ""})
	_, _, err = e.plugin.Create(context.Background(), k.createCtx())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is empty")
	assert.Empty(t, e.api.Runs())

	// A fresh plugin that never created anything has no token for Get.
	fresh := load(t, e.cfg, nil)
	_, err = fresh.Get(context.Background(), getCtx(databricks.RunMeta{RunID: 1, Instance: e.host, TokenKey: databricks.DefaultTokenKey}))
	require.Error(t, err)
}

func TestNamespaceTokenKeys(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Token: "dapi-team-a"}, func(c *databricks.Config) {
		c.NamespaceTokenKeys = map[string]string{"team-a-development": "TEAM_A_DATABRICKS_TOKEN"}
	})
	k := newTask(t, taskSpec{conf: newClusterConf(nil), namespace: "team-a-development"})
	k.secrets = secretsFor(map[string]string{databricks.DefaultTokenKey: platformToken, "TEAM_A_DATABRICKS_TOKEN": "dapi-team-a"})
	meta := e.create(k)
	assert.Equal(t, "TEAM_A_DATABRICKS_TOKEN", meta.TokenKey)
	k.secrets.AssertCalled(t, "Get", mock.Anything, "TEAM_A_DATABRICKS_TOKEN")
	k.secrets.AssertNotCalled(t, "Get", mock.Anything, databricks.DefaultTokenKey)
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase())

	// Another namespace uses the default key, which this workspace refuses.
	other := newTask(t, taskSpec{conf: newClusterConf(nil), namespace: "team-b-development"})
	_, res, err := e.plugin.Create(context.Background(), other.createCtx())
	require.NoError(t, err)
	require.NotNil(t, res)
}

func TestGetAndDeleteReadTheSecretAfterRestart(t *testing.T) {
	e := newEnv(t, fakeapi.Options{Manual: true})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	meta := e.create(k)
	// A new propeller process: the plugin is loaded again with the platform's
	// secret manager and goes straight to polling.
	restarted := load(t, e.cfg, secretsFor(map[string]string{databricks.DefaultTokenKey: platformToken}))
	res, err := restarted.Get(context.Background(), getCtx(meta))
	require.NoError(t, err)
	ph, err := restarted.Status(context.Background(), k.statusCtx(meta, res))
	require.NoError(t, err)
	assert.Equal(t, core.PhaseQueued, ph.Phase())
	require.NoError(t, restarted.Delete(context.Background(), deleteCtx(meta)))
	assert.Equal(t, "CANCELED", e.onlyRun().State.ResultState)
}

func TestIdempotencyTokenPerAttempt(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	first := e.create(newTask(t, taskSpec{conf: newClusterConf(nil), retry: 0}))
	again := e.create(newTask(t, taskSpec{conf: newClusterConf(nil), retry: 0}))
	retry := e.create(newTask(t, taskSpec{conf: newClusterConf(nil), retry: 1}))
	assert.Equal(t, first.RunID, again.RunID, "the same attempt finds its run")
	assert.NotEqual(t, first.RunID, retry.RunID, "a new attempt gets a new run")
	runs := e.api.Runs()
	require.Len(t, runs, 2)
	assert.Equal(t, 2, runs[0].Submissions)
	assert.NotEqual(t, runs[0].IdempotencyToken, runs[1].IdempotencyToken)
}

func TestInlineTokenIgnored(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil), inlineToken: "dapi-from-the-task"}) // #nosec G101 -- a test token
	meta := e.create(k)
	assert.Equal(t, core.PhaseSuccess, e.phase(k, meta).Phase(), "the platform token was used")
}

func TestStatusRejectsForeignState(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	k := newTask(t, taskSpec{conf: newClusterConf(nil)})
	_, err := e.plugin.Status(context.Background(), k.statusCtx(databricks.RunMeta{}, "not a run"))
	assert.Error(t, err)
	_, err = e.plugin.Get(context.Background(), getCtx("not a meta"))
	assert.Error(t, err)
	_, err = e.plugin.Get(context.Background(), getCtx(nil))
	assert.Error(t, err)
	assert.Error(t, e.plugin.Delete(context.Background(), deleteCtx(42)))
}

func TestResourceRequirements(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	ns, constraints, err := e.plugin.ResourceRequirements(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, core.ResourceNamespace("default"), ns)
	assert.Equal(t, baseline.ResourceConstraints, constraints)
	assert.Equal(t, baseline.WebAPI, e.plugin.GetConfig())
}

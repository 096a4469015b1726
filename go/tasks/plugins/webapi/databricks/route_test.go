package databricks

import (
	"testing"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestNormalizeInstance(t *testing.T) {
	good := map[string]string{
		"dbc-a53b7a3c-614c.cloud.databricks.com": "dbc-a53b7a3c-614c.cloud.databricks.com",
		"https://DBC-1.cloud.databricks.com/":    "dbc-1.cloud.databricks.com",
		" adb-123.4.azuredatabricks.net ":        "adb-123.4.azuredatabricks.net",
		"127.0.0.1:8443":                         "127.0.0.1:8443",
		"[::1]:8443":                             "[::1]:8443",
		"[::1]":                                  "[::1]",
		"localhost":                              "localhost",
		"https://workspace.example.com:443":      "workspace.example.com:443",
		"HTTPS://workspace.example.com":          "workspace.example.com",
	}
	for in, want := range good {
		got, err := normalizeInstance(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{
		"", " ", "https://", "http://dbc.example.com", "ftp://x", "dbc.example.com/path", "dbc.example.com?x=1",
		"dbc.example.com#frag", "user@dbc.example.com", "trusted.example.com@evil.example.com", "dbc.example.com:0",
		"dbc.example.com:99999", "dbc.example.com:08443", "dbc.example.com:", "-dbc.example.com", "dbc..example.com",
		"dbc.example.com.", "dbc example.com", "dbc.exa\nmple.com", "::1", "dbc_underscore.example.com",
	} {
		_, err := normalizeInstance(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestRouter(t *testing.T) {
	r, err := newRouter(&Config{
		DatabricksInstance: "https://Main.example.com/",
		AllowedInstances:   []string{"second.example.com"},
		TokenKey:           "DEFAULT_KEY",
		NamespaceTokenKeys: map[string]string{"team-a": "TEAM_A_KEY"},
	})
	require.NoError(t, err)
	cases := []struct {
		task, want string
		noted      bool
	}{
		{"", "main.example.com", false},
		{"main.example.com", "main.example.com", false},
		{"SECOND.example.com", "second.example.com", false},
		{"third.example.com", "main.example.com", true},
		{"second.example.com@third.example.com", "main.example.com", true},
	}
	for _, c := range cases {
		host, note, err := r.instance(c.task)
		require.NoError(t, err)
		assert.Equal(t, c.want, host, c.task)
		assert.Equal(t, c.noted, note != "", c.task)
	}
	assert.Equal(t, "TEAM_A_KEY", r.tokenKeyFor("team-a"))
	assert.Equal(t, "DEFAULT_KEY", r.tokenKeyFor("team-b"))

	none, err := newRouter(&Config{TokenKey: "K"})
	require.NoError(t, err)
	_, _, err = none.instance("")
	assert.ErrorContains(t, err, "databricksInstance is empty")
	_, _, err = none.instance("x.example.com")
	assert.ErrorContains(t, err, "not in plugins.databricks.allowedInstances")

	_, err = newRouter(&Config{DatabricksInstance: "a/b"})
	assert.Error(t, err)
	_, err = newRouter(&Config{AllowedInstances: []string{"a/b"}})
	assert.Error(t, err)
}

func taskExecID() *idlcore.TaskExecutionIdentifier {
	return &idlcore.TaskExecutionIdentifier{
		TaskId: &idlcore.Identifier{Project: "p", Domain: "d", Name: "t", Version: "v"},
		NodeExecutionId: &idlcore.NodeExecutionIdentifier{
			NodeId:      "n0",
			ExecutionId: &idlcore.WorkflowExecutionIdentifier{Project: "p", Domain: "d", Name: "e"},
		},
	}
}

func TestIdempotencyToken(t *testing.T) {
	base := idempotencyToken(taskExecID(), "e-n0-0")
	assert.Len(t, base, 64)
	assert.Regexp(t, `^[0-9a-f]{64}$`, base)
	assert.Equal(t, base, idempotencyToken(taskExecID(), "e-n0-0"), "stable")

	changes := map[string]func(*idlcore.TaskExecutionIdentifier){
		"retry":        func(id *idlcore.TaskExecutionIdentifier) { id.RetryAttempt = 1 },
		"node":         func(id *idlcore.TaskExecutionIdentifier) { id.NodeExecutionId.NodeId = "n1" },
		"execution":    func(id *idlcore.TaskExecutionIdentifier) { id.NodeExecutionId.ExecutionId.Name = "f" },
		"project":      func(id *idlcore.TaskExecutionIdentifier) { id.NodeExecutionId.ExecutionId.Project = "q" },
		"domain":       func(id *idlcore.TaskExecutionIdentifier) { id.NodeExecutionId.ExecutionId.Domain = "prod" },
		"org":          func(id *idlcore.TaskExecutionIdentifier) { id.NodeExecutionId.ExecutionId.Org = "o" },
		"task version": func(id *idlcore.TaskExecutionIdentifier) { id.TaskId.Version = "v2" },
		// "p"+"d" vs "pd"+"": the parts are length-prefixed.
		"shifted": func(id *idlcore.TaskExecutionIdentifier) {
			id.NodeExecutionId.ExecutionId.Project = "pd"
			id.NodeExecutionId.ExecutionId.Domain = ""
		},
	}
	seen := map[string]string{base: "base"}
	for name, change := range changes {
		id := proto.Clone(taskExecID()).(*idlcore.TaskExecutionIdentifier)
		change(id)
		tok := idempotencyToken(id, "e-n0-0")
		prev, dup := seen[tok]
		assert.False(t, dup, "%s collides with %s", name, prev)
		seen[tok] = name
	}
	assert.NotEqual(t, base, idempotencyToken(taskExecID(), "e-n0-1"))
	assert.Len(t, idempotencyToken(&idlcore.TaskExecutionIdentifier{}, ""), 64, "even an empty ID gets a token")
}

func TestTimeoutSecondsAndDescribe(t *testing.T) {
	assert.Equal(t, int64(0), timeoutSeconds(0))
	assert.Equal(t, int64(0), timeoutSeconds(-5))
	assert.Equal(t, int64(1), timeoutSeconds(1))
	assert.Equal(t, int64(3600), timeoutSeconds(3600e9))
	assert.Equal(t, "null", describe(nil))
	assert.Equal(t, "a list", describe([]any{1}))
	assert.Equal(t, "the boolean true", describe(true))
	assert.Equal(t, "map[string]interface {}", describe(map[string]any{}))
	assert.Contains(t, describe(string(make([]byte, 100))), "…")
}

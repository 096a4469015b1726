package databricks_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// FuzzCreateFromCustom feeds arbitrary task custom structs (as JSON; seeds in
// testdata/fuzz/FuzzCreateFromCustom) through Create, Get and Status against
// the local Jobs API. Whatever the input: no panic, no error (a bad task is a
// failed phase, not an error to retry), either a run or a permanent failure,
// never the token in what comes out, and a submitted run always carries the
// plugin's run_name and idempotency_token.
func FuzzCreateFromCustom(f *testing.F) {
	for _, seed := range []string{
		`{"databricksConf": {"new_cluster": {"spark_version": "13.3.x-scala2.12", "num_workers": 2}}}`,
		`{"databricksConf": {"existing_cluster_id": "0923-164208-meows279"}, "sparkConf": {"spark.executor.memory": "4g"}}`,
		`{"databricksConf": {"existing_cluster_id": "c", "notebook_task": {"notebook_path": "/nb"}}}`,
		`{"databricksConf": {"new_cluster": "big"}}`,
		`{"databricksConf": {"new_cluster": {"docker_image": 7}}}`,
		`{"databricksConf": {"tasks": []}}`,
		`{"databricksConf": {}, "databricksInstance": "evil.example.com", "databricksToken": "x"}`,
		`{"databricksConf": "not an object"}`,
		`{"applicationType": "PYTHON", "mainApplicationFile": "local:///f.py"}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f, fakeapi.Options{})
	var n atomic.Int64

	f.Fuzz(func(t *testing.T, raw []byte) {
		custom := &structpb.Struct{}
		if protojson.Unmarshal(raw, custom) != nil {
			return
		}
		k := newTask(t, taskSpec{custom: custom, name: fmt.Sprintf("fuzz-%d", n.Add(1))})
		ctx := context.Background()
		meta, res, err := e.plugin.Create(ctx, k.createCtx())
		require.NoError(t, err)
		require.True(t, (meta == nil) != (res == nil), "a run or a failure, not both or neither")
		if res != nil {
			ph, err := e.plugin.Status(ctx, k.statusCtx(meta, res))
			require.NoError(t, err)
			require.Equal(t, core.PhasePermanentFailure, ph.Phase())
			assert.Equal(t, "BadTaskSpecification", ph.Err().GetCode())
			assert.NotContains(t, ph.Err().GetMessage(), platformToken)
			return
		}
		m := meta.(databricks.RunMeta)
		run, ok := e.api.Run(m.RunID)
		require.True(t, ok)
		assert.Equal(t, k.name, run.RunName)
		assert.Len(t, run.IdempotencyToken, 64)
		got, err := e.plugin.Get(ctx, getCtx(meta))
		require.NoError(t, err)
		ph, err := e.plugin.Status(ctx, k.statusCtx(meta, got))
		require.NoError(t, err)
		assert.Equal(t, core.PhaseSuccess, ph.Phase())
		assert.False(t, strings.Contains(fmt.Sprintf("%+v %+v", meta, got), platformToken))
	})
}

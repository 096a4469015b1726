package databricks

import (
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"google.golang.org/protobuf/types/known/structpb"
)

// BenchmarkBuildSubmitBody is the task → runs/submit body step of Create.
func BenchmarkBuildSubmitBody(b *testing.B) {
	conf, err := structpb.NewStruct(map[string]any{
		"new_cluster": map[string]any{"spark_version": "13.3.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2},
	})
	if err != nil {
		b.Fatal(err)
	}
	spec := submitSpec{
		job:              &plugins.SparkJob{DatabricksConf: conf, SparkConf: map[string]string{"spark.executor.memory": "4g"}},
		image:            "ghcr.io/example/spark-task:v1",
		args:             []string{"pyflyte-execute", "--inputs", "s3://bucket/inputs.pb", "--output-prefix", "s3://bucket/out"},
		runName:          "f8a3c1e0b2d4-n0-0",
		idempotencyToken: idempotencyToken(taskExecID(), "f8a3c1e0b2d4-n0-0"),
		timeoutSeconds:   3600,
		entrypointFile:   "dbfs:///entrypoint.py",
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := buildSubmitBody(spec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusMapping is Status without the mocks: state table lookup,
// links and task info.
func BenchmarkStatusMapping(b *testing.B) {
	res := &runResource{RunID: 1 << 60, JobID: 7, LifeCycleState: "RUNNING", Message: "In run.",
		RunPageURL: "https://dbc.example.com/?o=1#job/7/run/1152921504606846976"}
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = phaseFor(res, taskInfo(res, "dbc.example.com", now))
	}
}

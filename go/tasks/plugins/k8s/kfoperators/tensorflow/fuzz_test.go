package tensorflow_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// fuzzBuild builds a TFJob from any custom struct (JSON, as flytekit
// sends it) at version. It must never panic; every error must be a
// BadTaskSpecification (or MetadataAccessFailed, a storage hiccup); a job
// built must be one the operator accepts in shape.
func fuzzBuild(f *testing.F, version int32, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	p := registered(f)
	base := task(f, version, &plugins.DistributedTensorflowTrainingTask{})
	f.Fuzz(func(t *testing.T, custom []byte) {
		s := &structpb.Struct{}
		if err := protojson.Unmarshal(custom, s); err != nil {
			return
		}
		tk := base
		tk.Template = proto.Clone(base.Template).(*core.TaskTemplate)
		tk.Template.Custom = s
		obj, err := p.BuildResource(context.Background(), kittest.New(tk))
		if err != nil {
			if !flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification) && !flyteerrors.IsCausedBy(err, pluginerrors.MetadataAccessFailed) {
				t.Fatalf("%s: error of the wrong kind: %v", custom, err)
			}
			return
		}
		job := obj.(*kubeflowv1.TFJob)
		if w, ok := job.Spec.TFReplicaSpecs[worker]; !ok || *w.Replicas < 1 {
			t.Fatalf("%s: a TFJob without workers", custom)
		}
		for rt, spec := range job.Spec.TFReplicaSpecs {
			if *spec.Replicas < 1 {
				t.Fatalf("%s: %s with %d replicas", custom, rt, *spec.Replicas)
			}
			n := 0
			for _, c := range spec.Template.Spec.Containers {
				if c.Name == "tensorflow" {
					n++
					if c.Image == "" {
						t.Fatalf("%s: %s has no image", custom, rt)
					}
				}
			}
			if n != 1 {
				t.Fatalf("%s: %s has %d containers named tensorflow", custom, rt, n)
			}
		}
	})
}

// FuzzBuildResourceV0 fuzzes legacy (flyteidl.plugins) customs. Seeds are
// in testdata/fuzz/FuzzBuildResourceV0.
func FuzzBuildResourceV0(f *testing.F) {
	fuzzBuild(f, 0, `{"workers": 2}`, `{"workers": 4, "psReplicas": 2, "chiefReplicas": 1, "evaluatorReplicas": 1}`)
}

// FuzzBuildResourceV1 fuzzes kubeflow (flyteidl.plugins.kubeflow) customs.
// Seeds are in testdata/fuzz/FuzzBuildResourceV1.
func FuzzBuildResourceV1(f *testing.F) {
	fuzzBuild(f, 1,
		`{"workerReplicas": {"common": {"replicas": 4, "image": "w:1", "resources": {"limits": [{"name": "CPU", "value": "4"}]}}}, "psReplicas": {"replicas": 2}, "chiefReplicas": {"common": {"replicas": 1, "restartPolicy": "RESTART_POLICY_ON_FAILURE"}}, "runPolicy": {"cleanPodPolicy": "CLEANPOD_POLICY_RUNNING", "ttlSecondsAfterFinished": 60}}`,
		`{"workerReplicas": {"replicas": 1}, "evaluatorReplicas": {"common": {"replicas": 1}}}`,
	)
}

// FuzzBuildResourceFields builds TFJobs from well-formed v1 protos with
// fuzzed field values, so every input reaches the build (raw JSON mostly
// fails to parse): each type's count and restart policy, the run policy,
// images and resource quantities. Besides never panicking and only failing
// with a BadTaskSpecification, a job built has exactly the types with
// replicas, at the task's counts. Seeds are in
// testdata/fuzz/FuzzBuildResourceFields.
func FuzzBuildResourceFields(f *testing.F) {
	f.Add(int32(1), int32(2), int32(4), int32(1), int32(0), int32(1), int32(2), int32(3), "w:1", "4", "16Gi")
	f.Add(int32(0), int32(0), int32(1), int32(0), int32(2), int32(0), int32(0), int32(-1), "", "500m", "1Gi")
	f.Add(int32(-1), int32(3), int32(0), int32(2), int32(42), int32(7), int32(-3), int32(0), "x", "two", "1Qi")
	p := registered(f)
	f.Fuzz(func(t *testing.T, chiefN, psN, workerN, evalN, restart, clean, backoff, ttl int32, image, cpu, memory string) {
		for _, s := range []string{image, cpu, memory} {
			if !utf8.ValidString(s) {
				return // protobuf strings are UTF-8; no task can carry this
			}
		}
		spec := func(n int32) *kfplugins.DistributedTensorflowTrainingReplicaSpec {
			return &kfplugins.DistributedTensorflowTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
				Replicas: n, Image: image, Resources: res(cpu, memory), RestartPolicy: plugins.RestartPolicy(restart),
			}}
		}
		custom := &kfplugins.DistributedTensorflowTrainingTask{
			ChiefReplicas: spec(chiefN), PsReplicas: spec(psN), WorkerReplicas: spec(workerN), EvaluatorReplicas: spec(evalN),
			RunPolicy: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy(clean), BackoffLimit: backoff, TtlSecondsAfterFinished: ttl},
		}
		obj, err := p.BuildResource(context.Background(), kittest.New(task(t, 1, custom)))
		if err != nil {
			if !flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		job := obj.(*kubeflowv1.TFJob)
		if chiefN < 0 || psN < 0 || workerN < 1 || evalN < 0 || restart < 0 || restart > 2 || clean < 0 || clean > 2 || backoff < 0 || ttl < 0 {
			t.Fatalf("built a job from bad values: %+v", custom)
		}
		for rt, n := range map[kubeflowv1.ReplicaType]int32{chief: chiefN, ps: psN, worker: workerN, evaluator: evalN} {
			spec, ok := job.Spec.TFReplicaSpecs[rt]
			if ok != (n > 0) || (ok && *spec.Replicas != n) {
				t.Fatalf("%s: %d replicas became %v", rt, n, spec)
			}
		}
	})
}

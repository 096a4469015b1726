package pytorch_test

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

// fuzzBuild builds a PyTorchJob from any custom struct (JSON, as flytekit
// sends it) at version. It must never panic; every error must be a
// BadTaskSpecification (or MetadataAccessFailed, a storage hiccup); a job
// built must be one the operator accepts in shape.
func fuzzBuild(f *testing.F, version int32, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	p := registered(f)
	base := task(f, version, &plugins.DistributedPyTorchTrainingTask{})
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
		job := obj.(*kubeflowv1.PyTorchJob)
		m, hasMaster := job.Spec.PyTorchReplicaSpecs[master]
		w, hasWorker := job.Spec.PyTorchReplicaSpecs[worker]
		switch {
		case job.Spec.ElasticPolicy != nil && (hasMaster || !hasWorker):
			t.Fatalf("%s: an elastic job has workers and no master", custom)
		case job.Spec.ElasticPolicy == nil && (!hasMaster || *m.Replicas != 1):
			t.Fatalf("%s: a job has exactly one master", custom)
		case hasWorker && *w.Replicas < 1:
			t.Fatalf("%s: a worker spec with %d replicas", custom, *w.Replicas)
		}
		if e := job.Spec.ElasticPolicy; e != nil && e.MinReplicas != nil && e.MaxReplicas != nil && *e.MinReplicas > *e.MaxReplicas {
			t.Fatalf("%s: elastic min %d above max %d", custom, *e.MinReplicas, *e.MaxReplicas)
		}
		for rt, spec := range job.Spec.PyTorchReplicaSpecs {
			n := 0
			for _, c := range spec.Template.Spec.Containers {
				if c.Name == "pytorch" {
					n++
					if c.Image == "" {
						t.Fatalf("%s: %s has no image", custom, rt)
					}
				}
			}
			if n != 1 {
				t.Fatalf("%s: %s has %d containers named pytorch", custom, rt, n)
			}
		}
	})
}

// FuzzBuildResourceV0 fuzzes legacy (flyteidl.plugins) customs. Seeds are
// in testdata/fuzz/FuzzBuildResourceV0.
func FuzzBuildResourceV0(f *testing.F) {
	fuzzBuild(f, 0, `{"workers": 2}`, `{"workers": 3, "elasticConfig": {"rdzvBackend": "c10d", "minReplicas": 1, "maxReplicas": 3, "nprocPerNode": 8}}`)
}

// FuzzBuildResourceV1 fuzzes kubeflow (flyteidl.plugins.kubeflow) customs.
// Seeds are in testdata/fuzz/FuzzBuildResourceV1.
func FuzzBuildResourceV1(f *testing.F) {
	fuzzBuild(f, 1,
		`{"workerReplicas": {"common": {"replicas": 4, "image": "w:1", "resources": {"limits": [{"name": "CPU", "value": "4"}]}}}, "masterReplicas": {"common": {"restartPolicy": "RESTART_POLICY_ON_FAILURE"}}, "runPolicy": {"cleanPodPolicy": "CLEANPOD_POLICY_ALL", "backoffLimit": 3}}`,
		`{"workerReplicas": {"replicas": 2}, "elasticConfig": {"minReplicas": 2, "maxReplicas": 4, "maxRestarts": 3}}`,
	)
}

// FuzzBuildResourceFields builds PyTorchJobs from well-formed v1 protos
// with fuzzed field values, so every input reaches the build (raw JSON
// mostly fails to parse): counts, restart and clean-pod policies, the run
// policy, the elastic config, images and resource quantities. Besides never
// panicking and only failing with a BadTaskSpecification, a job built
// keeps every count and policy the task gave. Seeds are in
// testdata/fuzz/FuzzBuildResourceFields.
func FuzzBuildResourceFields(f *testing.F) {
	f.Add(int32(1), int32(4), int32(1), int32(0), int32(0), int32(3), int32(3600), int32(0), false, int32(0), int32(0), int32(0), int32(0), "c10d", "w:1", "4", "16Gi")
	f.Add(int32(0), int32(2), int32(0), int32(2), int32(2), int32(0), int32(0), int32(60), true, int32(1), int32(3), int32(8), int32(2), "etcd", "", "500m", "1Gi")
	f.Add(int32(-1), int32(0), int32(42), int32(3), int32(-1), int32(-2), int32(-3), int32(-4), true, int32(4), int32(2), int32(-1), int32(0), "", "x", "two", "1Qi")
	p := registered(f)
	f.Fuzz(func(t *testing.T, masterN, workerN, masterRestart, workerRestart, clean, backoff, ttl, deadline int32, elastic bool,
		minR, maxR, nproc, maxRestarts int32, rdzv, image, cpu, memory string) {
		for _, s := range []string{rdzv, image, cpu, memory} {
			if !utf8.ValidString(s) {
				return // protobuf strings are UTF-8; no task can carry this
			}
		}
		custom := &kfplugins.DistributedPyTorchTrainingTask{
			MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
				Replicas: masterN, RestartPolicy: plugins.RestartPolicy(masterRestart),
			}},
			WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{
				Replicas: workerN, Image: image, Resources: res(cpu, memory), RestartPolicy: plugins.RestartPolicy(workerRestart),
			}},
			RunPolicy: &kfplugins.RunPolicy{
				CleanPodPolicy: kfplugins.CleanPodPolicy(clean), BackoffLimit: backoff, TtlSecondsAfterFinished: ttl, ActiveDeadlineSeconds: deadline,
			},
		}
		if elastic {
			custom.ElasticConfig = &kfplugins.ElasticConfig{MinReplicas: minR, MaxReplicas: maxR, NprocPerNode: nproc, MaxRestarts: maxRestarts, RdzvBackend: rdzv}
		}
		obj, err := p.BuildResource(context.Background(), kittest.New(task(t, 1, custom)))
		if err != nil {
			if !flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		job := obj.(*kubeflowv1.PyTorchJob)
		if masterN < 0 || workerN < 0 || backoff < 0 || ttl < 0 || deadline < 0 || clean < 0 || clean > 2 {
			t.Fatalf("built a job from negative or unknown values: %+v", custom)
		}
		if w, ok := job.Spec.PyTorchReplicaSpecs[worker]; workerN > 0 && (!ok || *w.Replicas != workerN) {
			t.Fatalf("workers %d became %v", workerN, w)
		}
		rp := job.Spec.RunPolicy
		if (backoff > 0) != (rp.BackoffLimit != nil) || (ttl > 0) != (rp.TTLSecondsAfterFinished != nil) || (deadline > 0) != (rp.ActiveDeadlineSeconds != nil) {
			t.Fatalf("run policy %+v from %+v", rp, custom.RunPolicy)
		}
		if e := job.Spec.ElasticPolicy; elastic != (e != nil) || (elastic && (minR < 0 || maxR < 0 || nproc < 0 || maxRestarts < 0 || (minR > 0 && maxR > 0 && minR > maxR))) {
			t.Fatalf("elastic policy %+v from %+v", e, custom.ElasticConfig)
		}
	})
}

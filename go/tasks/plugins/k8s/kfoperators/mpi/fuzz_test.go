package mpi_test

import (
	"context"
	"slices"
	"strings"
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
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// fuzzBuild builds an MPIJob from any custom struct (JSON, as flytekit
// sends it) at version. It must never panic; every error must be a
// BadTaskSpecification (or MetadataAccessFailed, a storage hiccup); a job
// built must be one the operator accepts in shape.
func fuzzBuild(f *testing.F, version int32, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	p := registered(f)
	base := task(f, version, &plugins.DistributedMPITrainingTask{})
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
		job := obj.(*kubeflowv1.MPIJob)
		l, hasLauncher := job.Spec.MPIReplicaSpecs[launcher]
		w, hasWorker := job.Spec.MPIReplicaSpecs[worker]
		switch {
		case !hasLauncher || *l.Replicas < 1 || (version == 1 && *l.Replicas != 1):
			t.Fatalf("%s: launchers %v", custom, l)
		case !hasWorker || *w.Replicas < 1:
			t.Fatalf("%s: an MPIJob without workers", custom)
		case job.Spec.SlotsPerWorker == nil || *job.Spec.SlotsPerWorker < 1:
			t.Fatalf("%s: slots %v", custom, job.Spec.SlotsPerWorker)
		}
		for rt, spec := range job.Spec.MPIReplicaSpecs {
			n := 0
			for _, c := range spec.Template.Spec.Containers {
				if c.Name == "mpi" {
					n++
					if c.Image == "" {
						t.Fatalf("%s: %s has no image", custom, rt)
					}
				}
			}
			if n != 1 {
				t.Fatalf("%s: %s has %d containers named mpi", custom, rt, n)
			}
		}
	})
}

// FuzzBuildResourceV0 fuzzes legacy (flyteidl.plugins) customs. Seeds are
// in testdata/fuzz/FuzzBuildResourceV0.
func FuzzBuildResourceV0(f *testing.F) {
	fuzzBuild(f, 0, `{"numWorkers": 2}`, `{"numWorkers": 4, "numLauncherReplicas": 1, "slots": 2}`)
}

// FuzzBuildResourceV1 fuzzes kubeflow (flyteidl.plugins.kubeflow) customs.
// Seeds are in testdata/fuzz/FuzzBuildResourceV1.
func FuzzBuildResourceV1(f *testing.F) {
	fuzzBuild(f, 1,
		`{"workerReplicas": {"common": {"replicas": 4, "image": "w:1"}, "command": ["/usr/sbin/sshd", "-De"]}, "launcherReplicas": {"common": {"resources": {"limits": [{"name": "CPU", "value": "1"}]}}, "command": ["mpirun", "-np", "8", "python", "train.py"]}, "slots": 2, "runPolicy": {"cleanPodPolicy": "CLEANPOD_POLICY_ALL"}}`,
		`{"workerReplicas": {"replicas": 1}}`,
	)
}

// FuzzBuildResourceFields builds MPIJobs from well-formed protos of either
// version with fuzzed field values, so every input reaches the build (raw
// JSON mostly fails to parse): counts, slots, restart and clean-pod
// policies, commands (v1) and the worker command (v0), images and resource
// quantities. Besides never panicking and only failing with a
// BadTaskSpecification, a job built keeps the task's worker count and
// slots, its workers run the command asked for, and mpi is every pod's
// first container. Seeds are in
// testdata/fuzz/FuzzBuildResourceFields.
func FuzzBuildResourceFields(f *testing.F) {
	f.Add(false, int32(1), int32(4), int32(2), int32(0), int32(2), "/usr/sbin/sshd -De", "mpirun -np 8 python train.py", "w:1", "8", "32Gi")
	f.Add(true, int32(0), int32(2), int32(0), int32(0), int32(0), "sleep  infinity", "", "", "1", "1Gi")
	f.Add(false, int32(-1), int32(0), int32(-2), int32(42), int32(9), "", "x", "", "two", "1Qi")
	p := registered(f)
	f.Fuzz(func(t *testing.T, v0 bool, launcherN, workerN, slots, restart, clean int32, workerCmd, launcherCmd, image, cpu, memory string) {
		for _, s := range []string{workerCmd, launcherCmd, image, cpu, memory} {
			if !utf8.ValidString(s) {
				return // protobuf strings are UTF-8; no task can carry this
			}
		}
		var tk kittest.Task
		if v0 {
			tk = task(t, 0, &plugins.DistributedMPITrainingTask{NumWorkers: workerN, NumLauncherReplicas: launcherN, Slots: slots})
			tk.Template.Config = map[string]string{"worker_spec_command": workerCmd}
		} else {
			tk = task(t, 1, &kfplugins.DistributedMPITrainingTask{
				LauncherReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
					Common:  &plugins.CommonReplicaSpec{Replicas: launcherN, RestartPolicy: plugins.RestartPolicy(restart)},
					Command: strings.Fields(launcherCmd),
				},
				WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{
					Common:  &plugins.CommonReplicaSpec{Replicas: workerN, Image: image, Resources: res(cpu, memory)},
					Command: strings.Fields(workerCmd),
				},
				Slots:     slots,
				RunPolicy: &kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy(clean)},
			})
		}
		obj, err := p.BuildResource(context.Background(), kittest.New(tk))
		if err != nil {
			if !flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		job := obj.(*kubeflowv1.MPIJob)
		if launcherN < 0 || workerN < 1 || slots < 0 {
			t.Fatalf("built a job from bad counts: launchers %d, workers %d, slots %d", launcherN, workerN, slots)
		}
		if *job.Spec.MPIReplicaSpecs[worker].Replicas != workerN || *job.Spec.SlotsPerWorker != max(1, slots) {
			t.Fatalf("workers %d, slots %d became %d, %d", workerN, slots, *job.Spec.MPIReplicaSpecs[worker].Replicas, *job.Spec.SlotsPerWorker)
		}
		var c *v1.Container
		for i, x := range job.Spec.MPIReplicaSpecs[worker].Template.Spec.Containers {
			if x.Name == "mpi" {
				c = &job.Spec.MPIReplicaSpecs[worker].Template.Spec.Containers[i]
			}
		}
		if c == nil {
			t.Fatal("no mpi container")
		}
		// The operator replaces an empty worker command with its own sleep:
		// a worker command the task gives is the container's command.
		if want := strings.Fields(workerCmd); len(want) > 0 && (!slices.Equal(c.Command, want) || len(c.Args) > 0) {
			t.Fatalf("worker command %q became command %q, args %q", workerCmd, c.Command, c.Args)
		}
		if v0 && strings.TrimSpace(workerCmd) == "" && (len(c.Command) > 0 || len(c.Args) > 0) {
			t.Fatalf("v0 without a worker command: command %q, args %q", c.Command, c.Args)
		}
		if job.Spec.MPIReplicaSpecs[worker].Template.Spec.Containers[0].Name != "mpi" || job.Spec.MPIReplicaSpecs[launcher].Template.Spec.Containers[0].Name != "mpi" {
			t.Fatal("the operator takes the first container: it must be mpi")
		}
	})
}

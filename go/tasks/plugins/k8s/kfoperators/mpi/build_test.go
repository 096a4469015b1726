package mpi_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
)

const (
	launcher = kubeflowv1.MPIJobReplicaTypeLauncher
	worker   = kubeflowv1.MPIJobReplicaTypeWorker
)

// renderedArgs are taskArgs as Flyte renders them.
var renderedArgs = func() []string {
	out := append([]string(nil), taskArgs...)
	for i, a := range out {
		switch a {
		case "{{.input}}":
			out[i] = "mem://inputs/inputs.pb"
		case "{{.outputPrefix}}":
			out[i] = "mem://outputs/f8a1b2c3d4-n0-0"
		}
	}
	return out
}()

// One launcher and the workers, both proto versions.
func TestReplicas(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    map[kubeflowv1.ReplicaType]int32
	}{
		{"v0", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 2}, map[kubeflowv1.ReplicaType]int32{launcher: 1, worker: 2}},
		{"v0 one launcher asked", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 3, NumLauncherReplicas: 1}, map[kubeflowv1.ReplicaType]int32{launcher: 1, worker: 3}},
		{"v1", 1, v1Job(), map[kubeflowv1.ReplicaType]int32{launcher: 1, worker: 4}},
		{"v1 no launcher spec", 1, &kfplugins.DistributedMPITrainingTask{
			WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}},
		}, map[kubeflowv1.ReplicaType]int32{launcher: 1, worker: 2}},
		{"v1 launcher asks for three: one", 1, &kfplugins.DistributedMPITrainingTask{
			LauncherReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 3}},
			WorkerReplicas:   &kfplugins.DistributedMPITrainingReplicaSpec{Replicas: 1},
		}, map[kubeflowv1.ReplicaType]int32{launcher: 1, worker: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := mustBuild(t, task(t, tc.version, tc.custom))
			assert.Equal(t, kubeflowv1.MPIJobKind, job.Kind)
			assert.Equal(t, "kubeflow.org/v1", job.APIVersion)
			got := map[kubeflowv1.ReplicaType]int32{}
			for rt, spec := range job.Spec.MPIReplicaSpecs {
				got[rt] = *spec.Replicas
				require.Len(t, spec.Template.Spec.Containers, 1, rt)
				assert.NotEmpty(t, container(t, spec).Image, rt)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// v0: workers run the task config's worker_spec_command (split on
// whitespace) as their command, args cleared — the operator replaces an
// empty worker command with `sleep 365d`; without one, command and args are
// cleared (the operator's sleep, as upstream). The launcher runs the task.
func TestV0WorkerCommand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config map[string]string
		want   []string
	}{
		{"worker_spec_command", map[string]string{"worker_spec_command": "/usr/sbin/sshd -De -f /home/mpiuser/.sshd_config"},
			[]string{"/usr/sbin/sshd", "-De", "-f", "/home/mpiuser/.sshd_config"}},
		{"extra whitespace", map[string]string{"worker_spec_command": "  sleep   infinity "}, []string{"sleep", "infinity"}},
		{"no key: the image's entrypoint", nil, nil},
		{"empty", map[string]string{"worker_spec_command": ""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := task(t, 0, &plugins.DistributedMPITrainingTask{NumWorkers: 2, Slots: 1})
			tk.Template.GetContainer().Command = []string{"/bin/entrypoint"}
			tk.Template.Config = tc.config
			job := mustBuild(t, tk)
			w := container(t, job.Spec.MPIReplicaSpecs[worker])
			if tc.want == nil {
				assert.Empty(t, w.Command, "no worker command: the operator's sleep")
			} else {
				assert.Equal(t, tc.want, w.Command)
			}
			assert.Empty(t, w.Args, "the worker's args are cleared")
			l := container(t, job.Spec.MPIReplicaSpecs[launcher])
			assert.Equal(t, renderedArgs, l.Args, "the launcher runs the task")
			assert.Equal(t, []string{"/bin/entrypoint"}, l.Command)
			assert.Equal(t, taskImage, w.Image)
			assert.Equal(t, taskImage, l.Image)
		})
	}
}

// v1: the launcher's command becomes its args (as upstream); the workers'
// becomes their command (args cleared), so the operator runs it instead of
// its `sleep 365d`. Images and resources are the replica's.
func TestV1Commands(t *testing.T) {
	job := mustBuild(t, task(t, 1, v1Job()))
	l := container(t, job.Spec.MPIReplicaSpecs[launcher])
	w := container(t, job.Spec.MPIReplicaSpecs[worker])
	assert.Equal(t, []string{"mpirun", "-np", "8", "python", "train.py"}, l.Args)
	assert.Equal(t, []string{"/usr/sbin/sshd", "-De"}, w.Command)
	assert.Empty(t, w.Args)
	assert.Equal(t, "ghcr.io/flyteorg/mpi-launcher:v1", l.Image)
	assert.Equal(t, "ghcr.io/flyteorg/mpi-worker:v1", w.Image)
	assert.Equal(t, resource.MustParse("1"), l.Resources.Limits[v1.ResourceCPU])
	assert.Equal(t, resource.MustParse("8"), w.Resources.Limits[v1.ResourceCPU])
	assert.Equal(t, resource.MustParse("32Gi"), w.Resources.Requests[v1.ResourceMemory])
	assert.Equal(t, kubeflowv1.RunPolicy{CleanPodPolicy: new(kubeflowv1.CleanPodPolicyAll)}, job.Spec.RunPolicy)

	custom := v1Job()
	custom.LauncherReplicas.Command = nil
	custom.WorkerReplicas.Command = nil
	job = mustBuild(t, task(t, 1, custom))
	assert.Equal(t, renderedArgs, container(t, job.Spec.MPIReplicaSpecs[launcher]).Args)
	assert.Equal(t, renderedArgs, container(t, job.Spec.MPIReplicaSpecs[worker]).Args)
}

// slots sets slotsPerWorker for both versions; unset is 1.
func TestSlots(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    int32
	}{
		{"v0 unset", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 1}, 1},
		{"v0 four", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 1, Slots: 4}, 4},
		{"v1 unset", 1, &kfplugins.DistributedMPITrainingTask{WorkerReplicas: &kfplugins.DistributedMPITrainingReplicaSpec{Replicas: 1}}, 1},
		{"v1 two (upstream drops it)", 1, v1Job(), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := mustBuild(t, task(t, tc.version, tc.custom))
			require.NotNil(t, job.Spec.SlotsPerWorker)
			assert.Equal(t, tc.want, *job.Spec.SlotsPerWorker)
		})
	}
}

// The launcher holds mpirun and no GPUs: it never goes on interruptible
// nodes; the workers of an interruptible task do.
func TestLauncherNotInterruptible(t *testing.T) {
	platform := richPlatform()
	kittest.SetPlatform(t, platform)
	spot := platform.InterruptibleTolerations[0]
	for _, version := range []int32{0, 1} {
		custom := proto.Message(&plugins.DistributedMPITrainingTask{NumWorkers: 2})
		if version == 1 {
			custom = v1Job()
		}
		for _, interruptible := range []bool{false, true} {
			tk := task(t, version, custom)
			tk.Interruptible = interruptible
			job := mustBuild(t, tk)
			l := job.Spec.MPIReplicaSpecs[launcher].Template.Spec
			w := job.Spec.MPIReplicaSpecs[worker].Template.Spec
			assert.NotContains(t, l.Tolerations, spot, "v%d launcher", version)
			assert.NotContains(t, l.NodeSelector, "node-lifecycle", "v%d launcher", version)
			assert.Equal(t, "training", l.NodeSelector["pool"])
			if interruptible {
				assert.Contains(t, w.Tolerations, spot, "v%d workers", version)
				assert.Equal(t, "spot", w.NodeSelector["node-lifecycle"], "v%d workers", version)
			} else {
				assert.NotContains(t, w.Tolerations, spot, "v%d workers", version)
				assert.NotContains(t, w.NodeSelector, "node-lifecycle", "v%d workers", version)
			}
		}
	}
}

// MPI's bad input: each is a BadTaskSpecification naming the field.
func TestBadInput(t *testing.T) {
	withWorkers := func(n int32) *kfplugins.DistributedMPITrainingTask {
		j := v1Job()
		j.WorkerReplicas.Common.Replicas = n
		return j
	}
	withLauncher := func(edit func(*plugins.CommonReplicaSpec)) *kfplugins.DistributedMPITrainingTask {
		j := v1Job()
		edit(j.LauncherReplicas.Common)
		return j
	}
	for _, tc := range []struct {
		name    string
		version int32
		custom  proto.Message
		want    []string
	}{
		{"v0 no workers", 0, &plugins.DistributedMPITrainingTask{NumLauncherReplicas: 1}, []string{"numWorkers", `"0"`, "at least one"}},
		{"v1 no workers", 1, withWorkers(0), []string{"workerReplicas", `"0"`, "at least one"}},
		{"v1 no worker spec", 1, &kfplugins.DistributedMPITrainingTask{}, []string{"workerReplicas", `"0"`}},
		{"v0 negative workers", 0, &plugins.DistributedMPITrainingTask{NumWorkers: -4}, []string{"numWorkers", `"-4"`}},
		{"v1 negative workers", 1, withWorkers(-1), []string{"workerReplicas", `"-1"`}},
		{"v0 negative launchers", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 1, NumLauncherReplicas: -1}, []string{"numLauncherReplicas", `"-1"`}},
		{"v0 two launchers", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 1, NumLauncherReplicas: 2}, []string{"numLauncherReplicas", `"2"`, "exactly one"}},
		{"v1 negative launchers", 1, withLauncher(func(c *plugins.CommonReplicaSpec) { c.Replicas = -2 }), []string{"launcherReplicas", `"-2"`}},
		{"v0 negative slots", 0, &plugins.DistributedMPITrainingTask{NumWorkers: 1, Slots: -1}, []string{"slots", `"-1"`}},
		{"v1 negative slots", 1, func() proto.Message { j := v1Job(); j.Slots = -8; return j }(), []string{"slots", `"-8"`}},
		{"launcher restart policy 42", 1, withLauncher(func(c *plugins.CommonReplicaSpec) { c.RestartPolicy = 42 }), []string{"launcherReplicas.restartPolicy", "42"}},
		{"launcher bad cpu", 1, withLauncher(func(c *plugins.CommonReplicaSpec) {
			c.Resources = &core.Resources{Limits: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "1 core"}}}
		}), []string{"launcherReplicas.resources.limits.cpu", `"1 core"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, err := build(t, task(t, tc.version, tc.custom))
			require.Error(t, err)
			assert.Nil(t, job)
			assert.True(t, flyteerrors.IsCausedBy(err, pluginerrors.BadTaskSpecification), "want a BadTaskSpecification, got %v", err)
			for _, s := range tc.want {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// New and the registered plugin are the same plugin.
func TestRegistration(t *testing.T) {
	obj, err := mpi.New().BuildIdentityResource(context.Background(), nil)
	require.NoError(t, err)
	assert.IsType(t, &kubeflowv1.MPIJob{}, obj)
}

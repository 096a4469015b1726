package dask_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/internal/apicheck"
	"github.com/flytedist/flyteplugins/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// What the plugin builds is what a real API server stores under the dask
// operator's own DaskJob CRD (the Helm chart's resolved copy): accepted by
// its schema, nothing pruned. Then, standing in for the operator (none
// runs), status updates written through the status subresource map to the
// phases the spec gives.
func TestDaskJobAgainstOperatorCRD(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	env := testenv.StartWithOptions(t, testenv.Options{CRDs: []testenv.CRDFile{testenv.DaskJobCRD}})
	ns := env.NewNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kittest.SetPlatform(t, richPlatform())

	interruptibleGPU := basicJob()
	interruptibleGPU.Workers.Resources = &core.Resources{Limits: res("cpu=4", "memory=16Gi", "gpu=1", "ephemeral-storage=20Gi")}
	withGPU := daskTask(t, interruptibleGPU)
	withGPU.Interruptible = true

	withOverride := daskTask(t, basicJob())
	withOverride.PodTemplate = &core.K8SPod{
		PrimaryContainerName: "main",
		Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"team": "data"}},
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers: []v1.Container{
				{Name: "main", Image: "registry/task:v2", Args: []string{"pyflyte-execute"}},
				{Name: "proxy", Image: "envoy"},
			},
			Volumes: []v1.Volume{{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
		}),
	}

	bare := basicJob()
	bare.Scheduler, bare.Workers.Image, bare.Workers.Resources = nil, "", nil

	for _, tc := range []struct {
		name string
		task kittest.Task
	}{
		{"basic", daskTask(t, basicJob())},
		{"interruptible-gpu", withGPU},
		{"pod-template-override", withOverride},
		{"task-defaults", daskTask(t, bare)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := build(t, tc.task)
			job.Name = "daskjob-" + tc.name
			job.Namespace = ns
			sent := job.DeepCopy()
			require.NoError(t, env.Client.Create(ctx, job))

			stored := &daskAPI.DaskJob{}
			require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(job), stored))
			// The typed client drops apiVersion and kind when it decodes;
			// status is the operator's to write.
			stored.TypeMeta = sent.TypeMeta
			sent.Status, stored.Status = daskAPI.DaskJobStatus{}, daskAPI.DaskJobStatus{}
			lost, err := apicheck.Lost(sent, stored)
			require.NoError(t, err)
			// This operator version's CRD has no spec.cluster.metadata (its
			// controller reads one, a newer CRD may keep it), so the
			// cluster's copy of the labels and annotations is pruned; they
			// reach the cluster and every pod from the DaskJob's own, which
			// the operator copies.
			var unexpected []string
			for _, l := range lost {
				if !strings.HasPrefix(l, "spec.cluster.metadata.labels:") && !strings.HasPrefix(l, "spec.cluster.metadata.annotations:") {
					unexpected = append(unexpected, l)
				}
			}
			assert.Empty(t, unexpected, "the API server pruned or changed what the plugin built")
			assert.Equal(t, sent.Labels, stored.Labels)
			assert.Equal(t, sent.Annotations, stored.Annotations)

			// Stand in for the operator: walk the job through its statuses
			// as it writes them.
			p := registered(t)
			tCtx := kittest.New(tc.task)
			end := metav1.NewTime(time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC))
			for _, step := range []struct {
				status daskAPI.DaskJobStatus
				phase  pluginsCore.Phase
			}{
				{daskAPI.DaskJobStatus{JobStatus: daskAPI.DaskJobCreated}, pluginsCore.PhaseInitializing},
				{daskAPI.DaskJobStatus{JobStatus: daskAPI.DaskJobClusterCreated, ClusterName: job.Name, JobRunnerPodName: job.Name + "-runner"}, pluginsCore.PhaseInitializing},
				{daskAPI.DaskJobStatus{JobStatus: daskAPI.DaskJobRunning, StartTime: metav1.NewTime(end.Add(-time.Hour))}, pluginsCore.PhaseRunning},
				{daskAPI.DaskJobStatus{JobStatus: daskAPI.DaskJobFailed, EndTime: end}, pluginsCore.PhaseRetryableFailure},
			} {
				cur := &daskAPI.DaskJob{}
				require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(job), cur))
				// The operator merge-patches status: earlier fields stay.
				s := &cur.Status
				s.JobStatus = step.status.JobStatus
				if step.status.ClusterName != "" {
					s.ClusterName, s.JobRunnerPodName = step.status.ClusterName, step.status.JobRunnerPodName
				}
				if !step.status.StartTime.IsZero() {
					s.StartTime = step.status.StartTime
				}
				if !step.status.EndTime.IsZero() {
					s.EndTime = step.status.EndTime
				}
				require.NoError(t, env.Client.Status().Update(ctx, cur))

				got := &daskAPI.DaskJob{}
				require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(job), got))
				phase, err := p.GetTaskPhase(ctx, tCtx, got)
				require.NoError(t, err)
				assert.Equal(t, step.phase, phase.Phase(), string(step.status.JobStatus))
				if step.phase == pluginsCore.PhaseRetryableFailure {
					assert.Contains(t, phase.Err().GetMessage(), job.Name)
					assert.Contains(t, phase.Err().GetMessage(), "2026-06-01T12:30:00Z")
				}
			}
		})
	}
}

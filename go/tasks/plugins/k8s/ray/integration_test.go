package ray_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/internal/apicheck"
	"github.com/flytedist/flyteplugins/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// What the plugin builds is what a real API server stores under KubeRay's
// own RayJob CRD: accepted by its schema and CEL rules, nothing pruned.
// Then, standing in for KubeRay (no operator runs), status updates written
// through the status subresource map to the phases the spec gives.
func TestRayJobAgainstKubeRayCRD(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	env := testenv.StartWithOptions(t, testenv.Options{CRDs: []testenv.CRDFile{testenv.RayJobCRD}})
	ns := env.NewNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cfg := defaultConfig()
	cfg.LogsSidecar = &v1.Container{Name: "logs", Image: "fluent/fluent-bit:3"}
	withConfig(t, cfg)

	overlays := basicJob()
	overlays.RayCluster.HeadGroupSpec.K8SPod = &core.K8SPod{
		Metadata: &core.K8SObjectMetadata{Labels: map[string]string{"team": "ml"}},
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers: []v1.Container{{Name: "ray-head", Env: []v1.EnvVar{{Name: "MY_POD_IP", Value: "x"}}}, {Name: "proxy", Image: "envoy"}},
		}),
	}
	withTimeout := rayTask(t, autoscalingJob())
	withTimeout.Template.Metadata.Timeout = durationpb.New(90 * time.Minute)

	for _, tc := range []struct {
		name string
		task kittest.Task
	}{
		{"basic", rayTask(t, basicJob())},
		{"autoscaling-timeout", withTimeout},
		{"overlays", rayTask(t, overlays)},
		{"head-only", rayTask(t, bareJob())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := tc.task
			job := mustBuild(t, task)
			job.Name = "rayjob-" + tc.name
			job.Namespace = ns
			sent := job.DeepCopy()
			require.NoError(t, env.Client.Create(ctx, job))

			stored := &rayv1.RayJob{}
			require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(job), stored))
			// The typed client drops apiVersion and kind when it decodes.
			stored.TypeMeta = sent.TypeMeta
			lost, err := apicheck.Lost(sent, stored)
			require.NoError(t, err)
			assert.Empty(t, lost, "the API server pruned or changed what the plugin built")

			// Stand in for KubeRay: walk the job through its statuses.
			p := registered(t)
			tCtx := kittest.New(task)
			for _, step := range []struct {
				status rayv1.RayJobStatus
				phase  pluginsCore.Phase
			}{
				{rayv1.RayJobStatus{JobDeploymentStatus: rayv1.JobDeploymentStatusInitializing, RayClusterName: job.Name + "-raycluster"}, pluginsCore.PhaseInitializing},
				{rayv1.RayJobStatus{JobDeploymentStatus: rayv1.JobDeploymentStatusRunning, JobStatus: rayv1.JobStatusRunning, JobId: job.Name + "-id", DashboardURL: "svc:8265"}, pluginsCore.PhaseRunning},
				{rayv1.RayJobStatus{JobDeploymentStatus: rayv1.JobDeploymentStatusComplete, JobStatus: rayv1.JobStatusSucceeded, EndTime: &metav1.Time{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}, pluginsCore.PhaseSuccess},
			} {
				stored.Status = step.status
				require.NoError(t, env.Client.Status().Update(ctx, stored))
				got := &rayv1.RayJob{}
				require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(job), got))
				phase, err := p.GetTaskPhase(ctx, tCtx, got)
				require.NoError(t, err)
				assert.Equal(t, step.phase, phase.Phase(), string(step.status.JobDeploymentStatus))
				stored = got
			}
		})
	}
}

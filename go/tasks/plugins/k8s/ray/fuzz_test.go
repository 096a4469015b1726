package ray_test

import (
	"context"
	"testing"

	flyteerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	stderrors "github.com/flyteorg/flyte/flytestdlib/errors"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// FuzzBuildResource builds a RayJob from any custom struct (JSON, as
// flytekit sends it). It must never panic, and every error must be a
// BadTaskSpecification. Seeds are in testdata/fuzz/FuzzBuildResource.
func FuzzBuildResource(f *testing.F) {
	f.Add([]byte(`{"rayCluster":{"headGroupSpec":{},"workerGroupSpec":[{"groupName":"w","replicas":1}]}}`))
	p := registered(f)
	base := rayTask(f, basicJob())
	f.Fuzz(func(t *testing.T, custom []byte) {
		s := &structpb.Struct{}
		if err := protojson.Unmarshal(custom, s); err != nil {
			return
		}
		task := base
		task.Template = kittest.ContainerTemplate("ray", s, "img:1", taskArgs...)
		obj, err := p.BuildResource(context.Background(), kittest.New(task))
		if err != nil {
			code, ok := stderrors.GetErrorCode(err)
			if !ok || code != flyteerrors.BadTaskSpecification {
				t.Fatalf("error is not a BadTaskSpecification: %v", err)
			}
			return
		}
		job := obj.(*rayv1.RayJob)
		if job.Spec.RayClusterSpec == nil || len(job.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec.Containers) == 0 ||
			job.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec.Containers[0].Name != "ray-head" {
			t.Fatalf("no Ray head container first: %+v", job.Spec.RayClusterSpec)
		}
		for _, g := range job.Spec.RayClusterSpec.WorkerGroupSpecs {
			if *g.MinReplicas > *g.Replicas || *g.MaxReplicas < *g.Replicas {
				t.Fatalf("replicas out of bounds: %d <= %d <= %d", *g.MinReplicas, *g.Replicas, *g.MaxReplicas)
			}
		}
	})
}

// FuzzGetTaskPhase maps any status KubeRay could report. It must never
// panic or return an error (propeller would retry the round forever), and
// always give a defined phase. Seeds are in testdata/fuzz/FuzzGetTaskPhase.
func FuzzGetTaskPhase(f *testing.F) {
	f.Add("Running", "RUNNING", "", "", "dashboard:8265", false)
	p := registered(f)
	tCtx := kittest.New(rayTask(f, basicJob()))
	f.Fuzz(func(t *testing.T, deployment, jobStatus, reason, message, dashboard string, ended bool) {
		job := runningJob()
		job.Status = rayv1.RayJobStatus{
			JobDeploymentStatus: rayv1.JobDeploymentStatus(deployment),
			JobStatus:           rayv1.JobStatus(jobStatus),
			Reason:              rayv1.JobFailedReason(reason),
			Message:             message,
			DashboardURL:        dashboard,
			RayClusterName:      reason,
			JobId:               message,
		}
		if ended {
			end := metav1.Unix(1767326645, 0)
			job.Status.EndTime = &end
		}
		phase, err := p.GetTaskPhase(context.Background(), tCtx, job)
		if err != nil {
			t.Fatalf("status %+v: error %v", job.Status, err)
		}
		if phase.Phase() == pluginsCore.PhaseUndefined {
			t.Fatalf("status %+v: undefined phase", job.Status)
		}
		if phase.Phase().IsFailure() && phase.Err() == nil {
			t.Fatalf("status %+v: failure without an error", job.Status)
		}
	})
}

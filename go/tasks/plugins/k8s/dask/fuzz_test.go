package dask_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	flyteerrors "github.com/flyteorg/flyte/flytestdlib/errors"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// FuzzBuildResource feeds any custom struct (as JSON) to BuildResource: it
// never panics, every error is a BadTaskSpecification, and every DaskJob it
// builds has the three roles and at least one worker. Seeds are in
// testdata/fuzz/FuzzBuildResource.
func FuzzBuildResource(f *testing.F) {
	f.Add([]byte(`{"scheduler":{"image":"s","resources":{"limits":[{"name":"CPU","value":"2"}]}},"workers":{"numberOfWorkers":2,"resources":{"limits":[{"name":"MEMORY","value":"1Gi"}]}}}`), false)
	p := registered(f)
	f.Fuzz(func(t *testing.T, custom []byte, interruptible bool) {
		s := &structpb.Struct{}
		if protojson.Unmarshal(custom, s) != nil {
			return
		}
		task := daskTask(t, basicJob())
		task.Template.Custom = s
		task.Interruptible = interruptible
		obj, err := p.BuildResource(context.Background(), kittest.New(task))
		if err != nil {
			if !flyteerrors.IsCausedBy(err, "BadTaskSpecification") {
				t.Fatalf("error is not a BadTaskSpecification: %v", err)
			}
			return
		}
		job := obj.(*daskAPI.DaskJob)
		if job.Spec.Cluster.Spec.Worker.Replicas < 1 {
			t.Fatalf("%d workers", job.Spec.Cluster.Spec.Worker.Replicas)
		}
		for name, spec := range map[string][]string{
			"job-runner":  names(job.Spec.Job.Spec.Containers),
			"scheduler":   names(job.Spec.Cluster.Spec.Scheduler.Spec.Containers),
			"dask-worker": names(job.Spec.Cluster.Spec.Worker.Spec.Containers),
		} {
			if len(spec) != 1 || spec[0] != name {
				t.Fatalf("containers %v, want [%s]", spec, name)
			}
		}
		args := job.Spec.Cluster.Spec.Worker.Spec.Containers[0].Args
		if strings.Join(args[:4], " ") != "dask worker --name $(DASK_WORKER_NAME)" {
			t.Fatalf("worker args %v", args)
		}
		for i, a := range args {
			if a == "--nthreads" {
				if n, err := strconv.Atoi(args[i+1]); err != nil || n < 1 {
					t.Fatalf("--nthreads %q", args[i+1])
				}
			}
		}
	})
}

// FuzzGetTaskPhase feeds any status to GetTaskPhase: never an error, a
// known status gets its row, any other string is Running with a reason
// naming it. Seeds are in testdata/fuzz/FuzzGetTaskPhase.
func FuzzGetTaskPhase(f *testing.F) {
	f.Add("Running", "c", "r", int64(0), int64(0))
	p := registered(f)
	pCtx := kittest.New(daskTask(f, basicJob()))
	known := map[string]pluginsCore.Phase{
		"":                                    pluginsCore.PhaseInitializing,
		string(daskAPI.DaskJobCreated):        pluginsCore.PhaseInitializing,
		string(daskAPI.DaskJobClusterCreated): pluginsCore.PhaseInitializing,
		string(daskAPI.DaskJobRunning):        pluginsCore.PhaseRunning,
		string(daskAPI.DaskJobSuccessful):     pluginsCore.PhaseSuccess,
		string(daskAPI.DaskJobFailed):         pluginsCore.PhaseRetryableFailure,
	}
	f.Fuzz(func(t *testing.T, status, cluster, runner string, start, end int64) {
		job := &daskAPI.DaskJob{
			ObjectMeta: metav1.ObjectMeta{Name: jobName, Namespace: "ns"},
			Status: daskAPI.DaskJobStatus{
				JobStatus: daskAPI.JobStatus(status), ClusterName: cluster, JobRunnerPodName: runner,
				StartTime: metav1.Unix(start%1e11, 0), EndTime: metav1.Unix(end%1e11, 0),
			},
		}
		ph, err := p.GetTaskPhase(context.Background(), pCtx, job)
		if err != nil {
			t.Fatalf("status %q: %v", status, err)
		}
		want, ok := known[status]
		if !ok {
			if ph.Phase() != pluginsCore.PhaseRunning || !strings.Contains(reasons(ph), strconv.Quote(status)) {
				t.Fatalf("new status %q: %v %q", status, ph.Phase(), reasons(ph))
			}
			return
		}
		if ph.Phase() != want {
			t.Fatalf("status %q: %v, want %v", status, ph.Phase(), want)
		}
	})
}

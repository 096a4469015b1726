package ray_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	flyteerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	stderrors "github.com/flyteorg/flyte/flytestdlib/errors"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
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
			requireBadSpec(t, err)
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

// FuzzBuildResourceFields builds RayJobs from well-formed protos with fuzzed
// field values, so every input reaches the build (raw JSON mostly fails to
// parse). Besides never panicking and only failing with a
// BadTaskSpecification, the replica bounds must hold and the task's
// arguments must come back word for word from the shell entrypoint.
// Seeds are in testdata/fuzz/FuzzBuildResourceFields.
func FuzzBuildResourceFields(f *testing.F) {
	f.Add("workers", int32(3), int32(1), int32(5), false, "num-cpus", "2", "", "pip:\n- numpy\n", true, int32(60), "it's a 'b' c")
	f.Add("", int32(0), int32(0), int32(0), true, "", "", "eyJwaXAiOlsibnVtcHkiXX0=", "", false, int32(-1), "")
	f.Add("g", int32(-2), int32(9), int32(1), true, "object-store-memory", "1Gi", "not base64", "{: bad", false, int32(0), "$(id)\n")
	p := registered(f)
	f.Fuzz(func(t *testing.T, group string, replicas, minReplicas, maxReplicas int32, autoscaling bool,
		paramKey, paramValue, runtimeEnv, runtimeEnvYAML string, shutdown bool, ttl int32, arg string) {
		for _, s := range []string{group, paramKey, paramValue, runtimeEnv, runtimeEnvYAML, arg} {
			if !utf8.ValidString(s) {
				return // protobuf strings are UTF-8; no task can carry this
			}
		}
		job := &plugins.RayJob{
			RayCluster: &plugins.RayCluster{
				HeadGroupSpec: &plugins.HeadGroupSpec{RayStartParams: map[string]string{paramKey: paramValue}},
				WorkerGroupSpec: []*plugins.WorkerGroupSpec{{
					GroupName: group, Replicas: replicas, MinReplicas: minReplicas, MaxReplicas: maxReplicas,
					RayStartParams: map[string]string{paramKey: paramValue},
				}},
				EnableAutoscaling: autoscaling,
			},
			RuntimeEnv:               runtimeEnv,
			RuntimeEnvYaml:           runtimeEnvYAML,
			ShutdownAfterJobFinishes: shutdown,
			TtlSecondsAfterFinished:  ttl,
		}
		args := []string{"pyflyte-execute", "--inputs", "s3://b/in.pb", arg}
		task := rayTask(t, job)
		task.Template = kittest.ContainerTemplate(ray.TaskType, kittest.Struct(t, job), "img:1", args...)
		obj, err := p.BuildResource(context.Background(), kittest.New(task))
		if err != nil {
			requireBadSpec(t, err)
			return
		}
		rj := obj.(*rayv1.RayJob)
		for _, g := range rj.Spec.RayClusterSpec.WorkerGroupSpecs {
			if *g.MinReplicas > *g.Replicas || *g.MaxReplicas < *g.Replicas {
				t.Fatalf("replicas out of bounds: %d <= %d <= %d", *g.MinReplicas, *g.Replicas, *g.MaxReplicas)
			}
		}
		if strings.Contains(arg, "{{") {
			return // a template variable of Flyte's, rendered before it reaches the entrypoint
		}
		words, ok := splitQuoted(rj.Spec.Entrypoint)
		if !ok || !slices.Equal(words, args) {
			t.Fatalf("entrypoint %q does not give back the arguments %q (got %q)", rj.Spec.Entrypoint, args, words)
		}
	})
}

// splitQuoted splits a POSIX shell command line made of bare words of
// characters the shell does not interpret, single-quoted and double-quoted
// runs without expansions. ok is false for anything outside that subset —
// which an entrypoint must never contain.
func splitQuoted(line string) (words []string, ok bool) {
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, false
			}
			quoted := line[i+1 : i+1+end]
			if c == '"' && strings.ContainsAny(quoted, "$`\\") {
				return nil, false
			}
			w.WriteString(quoted)
			inWord = true
			i += end + 1
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("@%+=:,./_-", c) >= 0:
			w.WriteByte(c)
			inWord = true
		default:
			return nil, false
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, true
}

// requireBadSpec fails unless err is a BadTaskSpecification.
func requireBadSpec(t *testing.T, err error) {
	t.Helper()
	if code, ok := stderrors.GetErrorCode(err); !ok || code != flyteerrors.BadTaskSpecification {
		t.Fatalf("error is not a BadTaskSpecification: %v", err)
	}
}

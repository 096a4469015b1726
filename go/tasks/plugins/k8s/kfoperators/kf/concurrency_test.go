package kf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	stdconfig "github.com/flyteorg/flyte/flytestdlib/config"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
)

// snapshot is v as JSON, for comparing after the fact.
func snapshot(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}

// Many BuildResource and GetTaskPhase calls of the three plugins at once,
// sharing one config, as propeller's workers run them: under -race this
// proves no call writes shared state; each result is the one a lone call
// gives; afterwards plugins.kf-operator, plugins.logs and plugins.k8s are
// exactly what they were.
func TestConcurrentBuildAndPhase(t *testing.T) {
	withKF(t, kf.Config{Timeout: stdconfig.Duration{Duration: time.Minute}, MaxReplicaLinks: 3})
	linkConfig(t)
	platform := richPlatform()
	// Not EnableDistributedErrorAggregation: with it a failed PyTorchJob's
	// error files are listed, which flytestdlib's in-memory store fails
	// when there are none (object stores return an empty list).
	platform.DefaultEnvVars = map[string]string{"PLATFORM_ENV": "1"}
	kittest.SetPlatform(t, platform)
	kfBefore, logsBefore, platformBefore := snapshot(t, kf.GetConfig()), snapshot(t, logs.GetLogConfig()), snapshot(t, config.GetK8sPluginConfig())

	overlay := &core.K8SPod{
		PrimaryContainerName: "main",
		Metadata:             &core.K8SObjectMetadata{Labels: map[string]string{"kueue.x-k8s.io/queue-name": "q"}},
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers:  []v1.Container{{Name: "main", Image: taskImage, Env: []v1.EnvVar{{Name: "FROM_TEMPLATE", Value: "1"}}}},
			Tolerations: []v1.Toleration{{Key: "template", Operator: v1.TolerationOpExists}},
		}),
	}
	type work struct {
		p      plugin
		task   kittest.Task
		status kubeflowv1.JobStatus
		want   string // the lone call's job, as JSON
		links  int
	}
	statuses := []kubeflowv1.JobStatus{
		{},
		started(cond(kubeflowv1.JobRunning, v1.ConditionTrue, t1, "", "")),
		started(cond(kubeflowv1.JobFailed, v1.ConditionTrue, t2, "JobFailed", "boom")),
		started(cond(kubeflowv1.JobSucceeded, v1.ConditionTrue, t2, "", "")),
	}
	var jobs []work
	for _, p := range allPlugins {
		customs := []struct {
			version int32
			custom  proto.Message
		}{
			{0, p.v0(2)},
			{1, p.v1(&plugins.CommonReplicaSpec{Replicas: 5, Image: "w:1", Resources: res("2", "4Gi")},
				&kfplugins.RunPolicy{CleanPodPolicy: kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL, BackoffLimit: 2})},
		}
		for i, c := range customs {
			for _, interruptible := range []bool{false, true} {
				task := p.task(t, c.version, c.custom)
				task.Interruptible = interruptible
				task.GeneratedName = fmt.Sprintf("race-%s-%d-%v", p.id, i, interruptible)
				if i == 1 {
					task.PodTemplate = overlay
				}
				w := work{p: p, task: task, status: statuses[len(jobs)%len(statuses)]}
				w.want = snapshot(t, p.mustBuild(t, task))
				w.links = len(p.phase(t, task, p.job(t, task, w.status)).Info().Logs)
				jobs = append(jobs, w)
			}
		}
	}

	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				w := jobs[(g*7+i)%len(jobs)]
				plug := w.p.registered(t)
				tCtx := kittest.New(w.task)
				obj, err := plug.BuildResource(context.Background(), tCtx)
				if err != nil {
					errs <- err
					continue
				}
				raw, _ := json.Marshal(obj)
				if string(raw) != w.want {
					errs <- fmt.Errorf("%s: a concurrent build differs from a lone one", w.task.GeneratedName)
				}
				// Mutating what one call returned must not reach another's.
				mutate(obj)
				job := w.p.job(t, w.task, w.status)
				info, err := plug.GetTaskPhase(context.Background(), tCtx, job)
				if err != nil {
					errs <- err
					continue
				}
				if len(info.Info().Logs) != w.links {
					errs <- fmt.Errorf("%s: %d links, want %d", w.task.GeneratedName, len(info.Info().Logs), w.links)
				}
				if _, err := plug.(flyte2).IsTerminal(context.Background(), job); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, kfBefore, snapshot(t, kf.GetConfig()), "plugins.kf-operator changed")
	assert.Equal(t, logsBefore, snapshot(t, logs.GetLogConfig()), "plugins.logs changed")
	assert.Equal(t, platformBefore, snapshot(t, config.GetK8sPluginConfig()), "plugins.k8s changed")
	assert.Equal(t, snapshot(t, platform), platformBefore)
}

// mutate writes to every map and list of a built job that could alias
// shared state (the platform config, another build's result).
func mutate(obj client.Object) {
	ps := parts(obj)
	ps.meta.Labels["mutated"] = "yes"
	ps.meta.Annotations["mutated"] = "yes"
	for _, spec := range ps.replicas {
		spec.Template.Labels["mutated"] = "yes"
		spec.Template.Annotations["mutated"] = "yes"
		pod := &spec.Template.Spec
		for i := range pod.Tolerations {
			pod.Tolerations[i].Value = "mutated"
		}
		pod.Tolerations = append(pod.Tolerations, v1.Toleration{Key: "mutated"})
		if pod.NodeSelector != nil {
			pod.NodeSelector["mutated"] = "yes"
		}
		if pod.Affinity != nil && pod.Affinity.NodeAffinity != nil && pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			for i := range pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
				term := &pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i]
				for j := range term.MatchExpressions {
					term.MatchExpressions[j].Values = append(term.MatchExpressions[j].Values[:0:0], "mutated")
				}
			}
		}
		if pod.SecurityContext != nil {
			pod.SecurityContext.RunAsNonRoot = new(false)
		}
		if pod.DNSConfig != nil {
			pod.DNSConfig.Nameservers[0] = "mutated"
		}
		for i := range pod.Containers {
			c := &pod.Containers[i]
			for j := range c.Env {
				c.Env[j].Value = "mutated"
				if c.Env[j].ValueFrom != nil && c.Env[j].ValueFrom.FieldRef != nil {
					c.Env[j].ValueFrom.FieldRef.FieldPath = "mutated"
				}
			}
			for j := range c.Args {
				c.Args[j] = "mutated"
			}
			for name := range c.Resources.Limits {
				c.Resources.Limits[name] = c.Resources.Limits[name].DeepCopy()
			}
			c.Resources.Limits["mutated"] = c.Resources.Limits[v1.ResourceCPU]
		}
	}
}

package ray_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// snapshot is a deep copy of v, for comparing after the fact.
func snapshot(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}

// Many BuildResource and GetTaskPhase calls share one config, as propeller
// runs them; under -race this proves no call writes to shared state, and
// afterwards the config is exactly what it was (upstream wrote the
// config's start-parameter maps per task).
func TestConcurrentBuildLeavesConfigUnchanged(t *testing.T) {
	cfg := defaultConfig()
	cfg.Defaults.HeadNode.StartParameters = map[string]string{"num-cpus": "0", "disable-usage-stats": "true"}
	cfg.Defaults.WorkerNode.StartParameters = map[string]string{"object-store-memory": "100000000"}
	cfg.LogsSidecar = &v1.Container{Name: "logs", Image: "fluent-bit", VolumeMounts: []v1.VolumeMount{{Name: "x", MountPath: "/tmp/ray"}}}
	cfg.Logs = logs.LogConfig{Templates: []tasklog.TemplateLogPlugin{{DisplayName: "Ray", TemplateURIs: []tasklog.TemplateURI{"https://l/{{ .rayClusterName }}"}}}}
	cfg.DashboardURLTemplate = &tasklog.TemplateLogPlugin{DisplayName: "Dashboard", TemplateURIs: []tasklog.TemplateURI{"https://d/{{ .rayJobID }}"}}
	withConfig(t, cfg)
	platform := &config.K8sPluginConfig{
		DefaultTolerations:                      []v1.Toleration{{Key: "d", Operator: v1.TolerationOpExists}},
		InterruptibleTolerations:                []v1.Toleration{{Key: "spot", Operator: v1.TolerationOpExists}},
		DefaultNodeSelector:                     map[string]string{"pool": "a"},
		InterruptibleNodeSelector:               map[string]string{"spot": "true"},
		DefaultLabels:                           map[string]string{"l": "1"},
		DefaultAnnotations:                      map[string]string{"a": "1"},
		DefaultEnvVars:                          map[string]string{"E": "1"},
		NonInterruptibleNodeSelectorRequirement: &v1.NodeSelectorRequirement{Key: "spot", Operator: v1.NodeSelectorOpIn, Values: []string{"false"}},
		InterruptibleNodeSelectorRequirement:    &v1.NodeSelectorRequirement{Key: "spot", Operator: v1.NodeSelectorOpIn, Values: []string{"true"}},
		DefaultAffinity: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
			NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}}}},
		}}},
	}
	kittest.SetPlatform(t, platform)
	before, platformBefore := snapshot(t, cfg), snapshot(t, platform)

	overlay := &core.K8SPod{
		Metadata: &core.K8SObjectMetadata{Labels: map[string]string{"o": "1"}},
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers:  []v1.Container{{Name: "ray-worker", Env: []v1.EnvVar{{Name: "MY_POD_IP", Value: "x"}}}},
			Tolerations: []v1.Toleration{{Key: "o", Operator: v1.TolerationOpExists}},
		}),
	}
	jobs := []*plugins.RayJob{basicJob(), autoscalingJob(), bareJob(), {}}
	withOverlay := basicJob()
	headOverlay := &core.K8SPod{
		Metadata: overlay.GetMetadata(),
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers:  []v1.Container{{Name: "ray-head", Env: []v1.EnvVar{{Name: "MY_POD_IP", Value: "x"}}}},
			Tolerations: []v1.Toleration{{Key: "o", Operator: v1.TolerationOpExists}},
		}),
	}
	withOverlay.RayCluster.HeadGroupSpec.K8SPod = headOverlay
	withOverlay.RayCluster.WorkerGroupSpec[0].K8SPod = overlay
	jobs = append(jobs, withOverlay)

	var tasks []kittest.Task
	for _, j := range jobs {
		for _, interruptible := range []bool{false, true} {
			task := rayTask(t, j)
			task.Interruptible = interruptible
			tasks = append(tasks, task)
		}
	}

	p := registered(t)
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				tCtx := kittest.New(tasks[(w+i)%len(tasks)])
				obj, err := p.BuildResource(context.Background(), tCtx)
				if err != nil {
					errs <- err
					continue
				}
				job := obj.(*rayv1.RayJob)
				// Mutating what one call returned must not reach another's.
				job.Spec.RayClusterSpec.HeadGroupSpec.RayStartParams["mutated"] = "yes"
				for _, g := range job.Spec.RayClusterSpec.WorkerGroupSpecs {
					g.RayStartParams["mutated"] = "yes"
					g.Template.Spec.Tolerations = append(g.Template.Spec.Tolerations, v1.Toleration{Key: "mutated"})
				}
				job.Spec.SubmitterPodTemplate.Spec.NodeSelector["mutated"] = "yes"
				if _, err := p.GetTaskPhase(context.Background(), tCtx, runningJob()); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, before, snapshot(t, cfg), "plugins.ray config changed")
	assert.Equal(t, platformBefore, snapshot(t, platform), "plugins.k8s config changed")
}

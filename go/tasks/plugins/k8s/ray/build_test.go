package ray_test

import (
	"encoding/base64"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	flyteerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	stderrors "github.com/flyteorg/flyte/flytestdlib/errors"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
)

var rayPorts = []v1.ContainerPort{
	{Name: "redis", ContainerPort: 6379},
	{Name: "head", ContainerPort: 10001},
	{Name: "dashboard", ContainerPort: 8265},
}

func fieldRef(path string) *v1.EnvVarSource {
	return &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: path}}
}

func resourceRef(res string) *v1.EnvVarSource {
	return &v1.EnvVarSource{ResourceFieldRef: &v1.ResourceFieldSelector{ContainerName: "ray-worker", Resource: res}}
}

func TestBuildBasicRayJob(t *testing.T) {
	job := mustBuild(t, rayTask(t, basicJob()))
	assert.Equal(t, "RayJob", job.Kind)
	assert.Equal(t, "ray.io/v1", job.APIVersion)
	cluster := job.Spec.RayClusterSpec
	require.NotNil(t, cluster)

	t.Run("head", func(t *testing.T) {
		head := cluster.HeadGroupSpec
		spec := head.Template.Spec
		require.NotEmpty(t, spec.Containers)
		c := spec.Containers[0]
		assert.Equal(t, "ray-head", c.Name, "the Ray container comes first")
		assert.Empty(t, c.Args)
		assert.Empty(t, c.Command)
		assert.Equal(t, "ghcr.io/flyteorg/ray-task:1", c.Image)
		assert.Equal(t, fieldRef("status.podIP"), envMap(&c)["MY_POD_IP"].ValueFrom)
		assert.Equal(t, "1", envMap(&c)["TASK_ENV"].Value, "the task's env is kept")
		assert.Equal(t, rayPorts, c.Ports)
		assert.Equal(t, taskResources().Limits, c.Resources.Limits)
		assert.Equal(t, map[string]string{
			"num-cpus": "1", "include-dashboard": "true", "node-ip-address": "$MY_POD_IP",
			"dashboard-host": "0.0.0.0", "disable-usage-stats": "true",
		}, head.RayStartParams)
		assert.Equal(t, v1.ServiceType("NodePort"), head.ServiceType)
		require.NotNil(t, head.EnableIngress)
		assert.False(t, *head.EnableIngress, "ingress is opt-in")
		assert.Equal(t, "task-sa", spec.ServiceAccountName)
	})

	t.Run("workers", func(t *testing.T) {
		require.Len(t, cluster.WorkerGroupSpecs, 1)
		g := cluster.WorkerGroupSpecs[0]
		assert.Equal(t, "workers", g.GroupName)
		assert.Equal(t, int32(3), *g.Replicas)
		assert.Equal(t, int32(1), *g.MinReplicas)
		assert.Equal(t, int32(5), *g.MaxReplicas)
		assert.Equal(t, map[string]string{"num-cpus": "2", "node-ip-address": "$MY_POD_IP", "disable-usage-stats": "true"}, g.RayStartParams)
		c := g.Template.Spec.Containers[0]
		assert.Equal(t, "ray-worker", c.Name)
		assert.Empty(t, c.Args)
		env := envMap(&c)
		assert.Equal(t, "1", env["RAY_DISABLE_DOCKER_CPU_WARNING"].Value)
		assert.Equal(t, "worker", env["TYPE"].Value)
		assert.Equal(t, resourceRef("requests.cpu"), env["CPU_REQUEST"].ValueFrom)
		assert.Equal(t, resourceRef("limits.cpu"), env["CPU_LIMITS"].ValueFrom)
		assert.Equal(t, resourceRef("requests.memory"), env["MEMORY_REQUESTS"].ValueFrom, "memory from memory")
		assert.Equal(t, resourceRef("limits.memory"), env["MEMORY_LIMITS"].ValueFrom)
		assert.Equal(t, fieldRef("metadata.name"), env["MY_POD_NAME"].ValueFrom)
		assert.Equal(t, fieldRef("status.podIP"), env["MY_POD_IP"].ValueFrom)
		assert.Equal(t, rayPorts, c.Ports)
		require.NotNil(t, c.Lifecycle)
		assert.Equal(t, []string{"/bin/sh", "-c", "ray stop"}, c.Lifecycle.PreStop.Exec.Command)
		assert.Equal(t, "task-sa", g.Template.Spec.ServiceAccountName)
	})

	t.Run("job", func(t *testing.T) {
		// The args as Flyte renders them for the task, quoted for the shell.
		rendered := strings.NewReplacer(
			"{{.input}}", "mem://inputs/inputs.pb",
			"{{.outputPrefix}}", "mem://outputs/f8a1b2c3d4-n0-0",
			"{{.rawOutputDataPrefix}}", "mem://outputs/f8a1b2c3d4-n0-0/raw",
			"{{.checkpointOutputPrefix}}", "mem://outputs/f8a1b2c3d4-n0-0/checkpoint",
			"{{.prevCheckpointPrefix}}", "mem://outputs/f8a1b2c3d4-n0-0/prev-checkpoint",
		).Replace(shellLine(taskArgs))
		assert.Equal(t, rendered, job.Spec.Entrypoint)
		assert.Contains(t, job.Spec.Entrypoint, " vars '' resolver ", "the empty argument survives")
		assert.Equal(t, "pip:\n- numpy\n", job.Spec.RuntimeEnvYAML)
		assert.True(t, job.Spec.ShutdownAfterJobFinishes)
		assert.Equal(t, int32(3600), job.Spec.TTLSecondsAfterFinished)
		assert.Nil(t, job.Spec.ActiveDeadlineSeconds, "no task timeout")
		require.NotNil(t, cluster.EnableInTreeAutoscaling)
		assert.False(t, *cluster.EnableInTreeAutoscaling)
		assert.Nil(t, cluster.AutoscalerOptions)
	})
}

// shellLine is what the entrypoint of args must be.
func shellLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" {
			out[i] = "''"
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}

// The group's replicas bound min and max: min = min(min, replicas),
// max = max(max, replicas).
func TestWorkerReplicas(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		replicas, min, max             int32
		wantReplicas, wantMin, wantMax int32
	}{
		{"within bounds", 3, 1, 5, 3, 1, 5},
		{"min above replicas", 2, 4, 5, 2, 2, 5},
		{"max below replicas", 4, 1, 2, 4, 1, 4},
		{"unset bounds", 3, 0, 0, 3, 0, 3},
		{"zero replicas", 0, 0, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := basicJob()
			g := job.RayCluster.WorkerGroupSpec[0]
			g.Replicas, g.MinReplicas, g.MaxReplicas = tc.replicas, tc.min, tc.max
			got := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec.WorkerGroupSpecs[0]
			assert.Equal(t, tc.wantReplicas, *got.Replicas)
			assert.Equal(t, tc.wantMin, *got.MinReplicas)
			assert.Equal(t, tc.wantMax, *got.MaxReplicas)
		})
	}
}

func TestMultipleWorkerGroups(t *testing.T) {
	job := basicJob()
	job.RayCluster.WorkerGroupSpec = append(job.RayCluster.WorkerGroupSpec, &plugins.WorkerGroupSpec{
		GroupName: "gpu", Replicas: 2,
		K8SPod: &core.K8SPod{
			Metadata: &core.K8SObjectMetadata{Labels: map[string]string{"pool": "gpu"}},
			PodSpec: kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{{
				Name: "ray-worker",
				Resources: v1.ResourceRequirements{
					Requests: v1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
					Limits:   v1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
				},
			}}}),
		},
	})
	groups := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec.WorkerGroupSpecs
	require.Len(t, groups, 2)
	assert.Equal(t, "workers", groups[0].GroupName)
	assert.Equal(t, "gpu", groups[1].GroupName)
	assert.NotContains(t, groups[0].Template.Spec.Containers[0].Resources.Limits, v1.ResourceName("nvidia.com/gpu"))
	assert.Equal(t, resource.MustParse("1"), groups[1].Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"])
	assert.Equal(t, "gpu", groups[1].Template.Labels["pool"])
	assert.NotContains(t, groups[0].Template.Labels, "pool")
	assert.Equal(t, map[string]string{"node-ip-address": "$MY_POD_IP", "disable-usage-stats": "true"}, groups[1].RayStartParams,
		"a group without start parameters gets the config's defaults")
}

// Start parameters: the task's, else the config's defaults; the filled-in
// keys never override what is there; the config's maps are never written.
func TestStartParameters(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        func(*ray.Config)
		head       map[string]string
		worker     map[string]string
		wantHead   map[string]string
		wantWorker map[string]string
	}{
		{
			name:       "config defaults",
			wantHead:   map[string]string{"disable-usage-stats": "true", "include-dashboard": "true", "node-ip-address": "$MY_POD_IP", "dashboard-host": "0.0.0.0"},
			wantWorker: map[string]string{"disable-usage-stats": "true", "node-ip-address": "$MY_POD_IP"},
		},
		{
			name:       "task parameters win",
			head:       map[string]string{"include-dashboard": "false", "node-ip-address": "1.1.1.1", "dashboard-host": "localhost", "disable-usage-stats": "false"},
			worker:     map[string]string{"node-ip-address": "2.2.2.2", "disable-usage-stats": "false"},
			wantHead:   map[string]string{"include-dashboard": "false", "node-ip-address": "1.1.1.1", "dashboard-host": "localhost", "disable-usage-stats": "false"},
			wantWorker: map[string]string{"node-ip-address": "2.2.2.2", "disable-usage-stats": "false"},
		},
		{
			name: "usage stats enabled",
			cfg: func(c *ray.Config) {
				c.EnableUsageStats = true
				c.Defaults.HeadNode.StartParameters = nil
				c.Defaults.WorkerNode.StartParameters = nil
			},
			wantHead:   map[string]string{"include-dashboard": "true", "node-ip-address": "$MY_POD_IP", "dashboard-host": "0.0.0.0"},
			wantWorker: map[string]string{"node-ip-address": "$MY_POD_IP"},
		},
		{
			// Upstream's default start parameters disable usage stats
			// themselves; the switch alone must turn them on.
			name:       "usage stats enabled with the default start parameters",
			cfg:        func(c *ray.Config) { c.EnableUsageStats = true },
			wantHead:   map[string]string{"include-dashboard": "true", "node-ip-address": "$MY_POD_IP", "dashboard-host": "0.0.0.0"},
			wantWorker: map[string]string{"node-ip-address": "$MY_POD_IP"},
		},
		{
			name:       "usage stats enabled, a task that disables them keeps that",
			cfg:        func(c *ray.Config) { c.EnableUsageStats = true },
			head:       map[string]string{"disable-usage-stats": "true"},
			worker:     map[string]string{"disable-usage-stats": "true"},
			wantHead:   map[string]string{"disable-usage-stats": "true", "include-dashboard": "true", "node-ip-address": "$MY_POD_IP", "dashboard-host": "0.0.0.0"},
			wantWorker: map[string]string{"disable-usage-stats": "true", "node-ip-address": "$MY_POD_IP"},
		},
		{
			name: "deprecated node IP address",
			cfg: func(c *ray.Config) {
				c.DeprecatedNodeIPAddress = "10.1.1.1"
				c.Defaults.HeadNode.IPAddress = ""
				c.Defaults.WorkerNode.IPAddress = ""
				c.IncludeDashboard = false
				c.DashboardHost = ""
			},
			wantHead:   map[string]string{"disable-usage-stats": "true", "include-dashboard": "false", "node-ip-address": "10.1.1.1"},
			wantWorker: map[string]string{"disable-usage-stats": "true", "node-ip-address": "10.1.1.1"},
		},
		{
			name: "no node IP address anywhere",
			cfg: func(c *ray.Config) {
				c.Defaults.HeadNode.IPAddress = ""
				c.Defaults.WorkerNode.IPAddress = ""
			},
			wantHead:   map[string]string{"disable-usage-stats": "true", "include-dashboard": "true", "dashboard-host": "0.0.0.0"},
			wantWorker: map[string]string{"disable-usage-stats": "true"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Defaults.HeadNode.StartParameters = map[string]string{"disable-usage-stats": "true"}
			cfg.Defaults.WorkerNode.StartParameters = map[string]string{"disable-usage-stats": "true"}
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			headDefaults := copyMap(cfg.Defaults.HeadNode.StartParameters)
			workerDefaults := copyMap(cfg.Defaults.WorkerNode.StartParameters)
			withConfig(t, cfg)
			job := &plugins.RayJob{RayCluster: &plugins.RayCluster{
				HeadGroupSpec:   &plugins.HeadGroupSpec{RayStartParams: tc.head},
				WorkerGroupSpec: []*plugins.WorkerGroupSpec{{GroupName: "w", Replicas: 1, RayStartParams: tc.worker}},
			}}
			got := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec
			assert.Equal(t, tc.wantHead, got.HeadGroupSpec.RayStartParams)
			assert.Equal(t, tc.wantWorker, got.WorkerGroupSpecs[0].RayStartParams)
			assert.Equal(t, headDefaults, cfg.Defaults.HeadNode.StartParameters, "config untouched")
			assert.Equal(t, workerDefaults, cfg.Defaults.WorkerNode.StartParameters, "config untouched")
		})
	}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Service account: plugins.ray.serviceAccount when set, else the task's; a
// group's k8s_pod serviceAccountName wins for that group.
func TestServiceAccount(t *testing.T) {
	overlaySA := &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{ServiceAccountName: "group-sa"})}
	for _, tc := range []struct {
		name                                string
		configSA                            string
		headOverlay, workerOverlay          *core.K8SPod
		wantHead, wantWorker, wantSubmitter string
	}{
		{name: "task's", wantHead: "task-sa", wantWorker: "task-sa", wantSubmitter: "task-sa"},
		{name: "config forces one", configSA: "ray-sa", wantHead: "ray-sa", wantWorker: "ray-sa", wantSubmitter: "ray-sa"},
		{name: "head overlay wins for the head", configSA: "ray-sa", headOverlay: overlaySA, wantHead: "group-sa", wantWorker: "ray-sa", wantSubmitter: "ray-sa"},
		{name: "worker overlay wins for the group", workerOverlay: overlaySA, wantHead: "task-sa", wantWorker: "group-sa", wantSubmitter: "task-sa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.ServiceAccount = tc.configSA
			withConfig(t, cfg)
			job := basicJob()
			job.RayCluster.HeadGroupSpec.K8SPod = tc.headOverlay
			job.RayCluster.WorkerGroupSpec[0].K8SPod = tc.workerOverlay
			got := mustBuild(t, rayTask(t, job))
			assert.Equal(t, tc.wantHead, got.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec.ServiceAccountName)
			assert.Equal(t, tc.wantWorker, got.Spec.RayClusterSpec.WorkerGroupSpecs[0].Template.Spec.ServiceAccountName)
			assert.Equal(t, tc.wantSubmitter, got.Spec.SubmitterPodTemplate.Spec.ServiceAccountName)
		})
	}
}

// The head is never interruptible; workers follow the task; the submitter
// is placed as a non-interruptible pod.
func TestInterruptible(t *testing.T) {
	spot := v1.Toleration{Key: "spot", Value: "true", Operator: v1.TolerationOpEqual, Effect: v1.TaintEffectNoSchedule}
	onDemand := v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"on-demand"}}
	spotReq := v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpIn, Values: []string{"spot"}}
	kittest.SetPlatform(t, &config.K8sPluginConfig{
		InterruptibleTolerations:                []v1.Toleration{spot},
		InterruptibleNodeSelector:               map[string]string{"node-type": "spot"},
		InterruptibleNodeSelectorRequirement:    &spotReq,
		NonInterruptibleNodeSelectorRequirement: &onDemand,
	})
	required := func(spec v1.PodSpec) []v1.NodeSelectorRequirement {
		if spec.Affinity == nil || spec.Affinity.NodeAffinity == nil || spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			return nil
		}
		var out []v1.NodeSelectorRequirement
		for _, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			out = append(out, term.MatchExpressions...)
		}
		return out
	}
	for _, interruptible := range []bool{false, true} {
		task := rayTask(t, basicJob())
		task.Interruptible = interruptible
		job := mustBuild(t, task)
		head := job.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec
		worker := job.Spec.RayClusterSpec.WorkerGroupSpecs[0].Template.Spec
		submitter := job.Spec.SubmitterPodTemplate.Spec

		assert.NotContains(t, head.Tolerations, spot)
		assert.Equal(t, []v1.NodeSelectorRequirement{onDemand}, required(head))
		assert.Equal(t, []v1.NodeSelectorRequirement{onDemand}, required(submitter))
		assert.NotContains(t, submitter.Tolerations, spot)
		if interruptible {
			assert.Contains(t, worker.Tolerations, spot)
			assert.Equal(t, "spot", worker.NodeSelector["node-type"])
			assert.Equal(t, []v1.NodeSelectorRequirement{spotReq}, required(worker))
		} else {
			assert.NotContains(t, worker.Tolerations, spot)
			assert.Equal(t, []v1.NodeSelectorRequirement{onDemand}, required(worker))
		}
	}
}

// The group's k8s_pod merges by the project's rule: named lists by name
// (overlay winning), args replaced, other lists appended without
// duplicates, maps merged; no env var or port is declared twice.
func TestOverlayMerge(t *testing.T) {
	job := basicJob()
	job.RayCluster.HeadGroupSpec.K8SPod = &core.K8SPod{
		Metadata: &core.K8SObjectMetadata{
			Labels:      map[string]string{"team": "ml"},
			Annotations: map[string]string{"note": "head"},
		},
		PrimaryContainerName: "primary",
		PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers: []v1.Container{
				{
					Name: "primary",
					Env:  []v1.EnvVar{{Name: "TASK_ENV", Value: "overlay"}, {Name: "MY_POD_IP", Value: "10.9.9.9"}, {Name: "EXTRA", Value: "x"}},
					Resources: v1.ResourceRequirements{
						Limits: v1.ResourceList{v1.ResourceMemory: resource.MustParse("16Gi"), v1.ResourceEphemeralStorage: resource.MustParse("10Gi")},
					},
					VolumeMounts: []v1.VolumeMount{{Name: "data", MountPath: "/data"}},
					Ports:        []v1.ContainerPort{{Name: "dashboard", ContainerPort: 8266}},
				},
				{Name: "sidecar", Image: "busybox"},
			},
			InitContainers:    []v1.Container{{Name: "init", Image: "busybox"}},
			Volumes:           []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
			Tolerations:       []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}},
			NodeSelector:      map[string]string{"disk": "ssd"},
			PriorityClassName: "high",
			ImagePullSecrets:  []v1.LocalObjectReference{{Name: "regcred"}},
		}),
	}
	head := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec.HeadGroupSpec.Template
	spec := head.Spec
	require.Equal(t, "ray-head", spec.Containers[0].Name)
	c := spec.Containers[0]
	env := envMap(&c)
	assert.Equal(t, "overlay", env["TASK_ENV"].Value)
	assert.Equal(t, "10.9.9.9", env["MY_POD_IP"].Value)
	assert.Nil(t, env["MY_POD_IP"].ValueFrom, "the overlay's MY_POD_IP replaces ours")
	assert.Equal(t, "x", env["EXTRA"].Value)
	assert.Len(t, c.Env, len(env), "no env var twice")
	assert.Equal(t, resource.MustParse("16Gi"), c.Resources.Limits[v1.ResourceMemory])
	assert.Equal(t, resource.MustParse("10Gi"), c.Resources.Limits[v1.ResourceEphemeralStorage])
	assert.Equal(t, resource.MustParse("2"), c.Resources.Limits[v1.ResourceCPU], "the task's cpu stays")
	assert.Contains(t, c.VolumeMounts, v1.VolumeMount{Name: "data", MountPath: "/data"})
	assert.Len(t, c.Ports, 3, "no port twice")
	assert.Contains(t, c.Ports, v1.ContainerPort{Name: "dashboard", ContainerPort: 8266})
	assert.NotNil(t, container(&spec, "sidecar"))
	assert.Len(t, spec.InitContainers, 1)
	assert.Len(t, spec.Volumes, 1)
	assert.Contains(t, spec.Tolerations, v1.Toleration{Key: "dedicated", Operator: v1.TolerationOpExists})
	assert.Equal(t, "ssd", spec.NodeSelector["disk"])
	assert.Equal(t, "high", spec.PriorityClassName)
	assert.Equal(t, []v1.LocalObjectReference{{Name: "regcred"}}, spec.ImagePullSecrets)
	assert.Equal(t, "ml", head.Labels["team"])
	assert.Equal(t, "head", head.Annotations["note"])
}

// An overlay that lists a sidecar first still leaves the Ray container at
// index 0, where KubeRay looks for it.
func TestRayContainerFirst(t *testing.T) {
	job := basicJob()
	job.RayCluster.WorkerGroupSpec[0].K8SPod = &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
		Containers: []v1.Container{{Name: "proxy", Image: "envoy"}, {Name: "ray-worker", Env: []v1.EnvVar{{Name: "A", Value: "1"}}}},
	})}
	spec := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec.WorkerGroupSpecs[0].Template.Spec
	require.Len(t, spec.Containers, 2)
	assert.Equal(t, "ray-worker", spec.Containers[0].Name)
	assert.Equal(t, "proxy", spec.Containers[1].Name)
}

func TestLogsSidecar(t *testing.T) {
	sidecar := &v1.Container{
		Name:         "fluentbit",
		Image:        "fluent/fluent-bit:3",
		VolumeMounts: []v1.VolumeMount{{Name: "old", MountPath: "/tmp/ray"}, {Name: "conf", MountPath: "/etc/fluent"}},
	}
	cfg := defaultConfig()
	cfg.LogsSidecar = sidecar
	withConfig(t, cfg)

	t.Run("own volume", func(t *testing.T) {
		spec := mustBuild(t, rayTask(t, basicJob())).Spec.RayClusterSpec.HeadGroupSpec.Template.Spec
		require.Len(t, spec.Containers, 2)
		assert.Equal(t, "ray-head", spec.Containers[0].Name)
		assert.Contains(t, spec.Volumes, v1.Volume{Name: "system-ray-state", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}})
		assert.Contains(t, spec.Containers[0].VolumeMounts, v1.VolumeMount{Name: "system-ray-state", MountPath: "/tmp/ray"})
		sc := container(&spec, "fluentbit")
		require.NotNil(t, sc)
		assert.Equal(t, []v1.VolumeMount{
			{Name: "system-ray-state", MountPath: "/tmp/ray", ReadOnly: true},
			{Name: "conf", MountPath: "/etc/fluent"},
		}, sc.VolumeMounts)
		workers := mustBuild(t, rayTask(t, basicJob())).Spec.RayClusterSpec.WorkerGroupSpecs[0].Template.Spec
		assert.Nil(t, container(&workers, "fluentbit"), "the head only")
	})

	t.Run("the head's own /tmp/ray", func(t *testing.T) {
		job := basicJob()
		job.RayCluster.HeadGroupSpec.K8SPod = &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
			Containers: []v1.Container{{Name: "ray-head", VolumeMounts: []v1.VolumeMount{{Name: "ray-logs", MountPath: "/tmp/ray"}}}},
			Volumes:    []v1.Volume{{Name: "ray-logs", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
		})}
		spec := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec.HeadGroupSpec.Template.Spec
		assert.Len(t, spec.Volumes, 1, "no second volume")
		mounts := 0
		for _, m := range spec.Containers[0].VolumeMounts {
			if m.MountPath == "/tmp/ray" {
				mounts++
			}
		}
		assert.Equal(t, 1, mounts, "one mount at /tmp/ray")
		assert.Contains(t, container(&spec, "fluentbit").VolumeMounts, v1.VolumeMount{Name: "ray-logs", MountPath: "/tmp/ray", ReadOnly: true})
	})

	assert.Equal(t, []v1.VolumeMount{{Name: "old", MountPath: "/tmp/ray"}, {Name: "conf", MountPath: "/etc/fluent"}}, sidecar.VolumeMounts, "config untouched")
}

func TestAutoscaling(t *testing.T) {
	cluster := mustBuild(t, rayTask(t, autoscalingJob())).Spec.RayClusterSpec
	require.True(t, *cluster.EnableInTreeAutoscaling)
	o := cluster.AutoscalerOptions
	require.NotNil(t, o)
	assert.Equal(t, int32(120), *o.IdleTimeoutSeconds)
	assert.Equal(t, rayv1.UpscalingMode("Aggressive"), *o.UpscalingMode)
	assert.Equal(t, "rayproject/ray:2.40.0", *o.Image)
	assert.Equal(t, []v1.EnvVar{{Name: "AUTOSCALER_LOG_LEVEL", Value: "debug"}}, o.Env)
	assert.Equal(t, v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("512Mi")}, o.Resources.Requests)
	assert.Equal(t, v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")}, o.Resources.Limits)

	for mode, want := range map[plugins.AutoscalerOptions_UpscalingMode]*rayv1.UpscalingMode{
		plugins.AutoscalerOptions_UPSCALING_MODE_UNSPECIFIED:  nil,
		plugins.AutoscalerOptions_UPSCALING_MODE_DEFAULT:      new(rayv1.UpscalingMode("Default")),
		plugins.AutoscalerOptions_UPSCALING_MODE_CONSERVATIVE: new(rayv1.UpscalingMode("Conservative")),
		plugins.AutoscalerOptions_UPSCALING_MODE_AGGRESSIVE:   new(rayv1.UpscalingMode("Aggressive")),
	} {
		job := basicJob()
		job.RayCluster.EnableAutoscaling = true
		job.RayCluster.AutoscalerOptions = &plugins.AutoscalerOptions{UpscalingMode: mode}
		o := mustBuild(t, rayTask(t, job)).Spec.RayClusterSpec.AutoscalerOptions
		assert.Equal(t, want, o.UpscalingMode, mode.String())
		assert.Nil(t, o.IdleTimeoutSeconds)
		assert.Nil(t, o.Image)
		assert.Nil(t, o.Resources)
		assert.Nil(t, o.Env)
	}
}

func TestRuntimeEnv(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, yaml, env, want string
	}{
		{name: "none"},
		{name: "yaml as-is", yaml: "pip: [numpy]\nenv_vars: {A: b}\n", want: "pip: [numpy]\nenv_vars: {A: b}\n"},
		{name: "base64 JSON converted with sorted keys", env: b64(`{"pip":["numpy","pandas"],"env_vars":{"B":"2","A":"1"},"working_dir":"s3://b/w.zip"}`),
			want: "env_vars:\n  A: \"1\"\n  B: \"2\"\npip:\n- numpy\n- pandas\nworking_dir: s3://b/w.zip\n"},
		{name: "yaml wins over the deprecated field", yaml: "pip: [numpy]\n", env: b64(`{"pip":["pandas"]}`), want: "pip: [numpy]\n"},
		{name: "JSON null", env: b64("null")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := basicJob()
			job.RuntimeEnvYaml, job.RuntimeEnv = tc.yaml, tc.env
			assert.Equal(t, tc.want, mustBuild(t, rayTask(t, job)).Spec.RuntimeEnvYAML)
		})
	}
}

// Shutdown/TTL: the config's, unless the task turns shutdown on with its
// own TTL; never a TTL without shutdown (KubeRay rejects it).
func TestShutdownAndTTL(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cfgShutdown  bool
		cfgTTL       int32
		taskShutdown bool
		taskTTL      int32
		wantShutdown bool
		wantTTL      int32
	}{
		{"config", true, 3600, false, 0, true, 3600},
		{"task turns it on with its TTL", true, 3600, true, 60, true, 60},
		{"task turns it on over the config", false, 3600, true, 0, true, 0},
		{"task TTL alone is not used", true, 3600, false, 60, true, 3600},
		{"config off", false, 3600, false, 0, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.ShutdownAfterJobFinishes, cfg.TTLSecondsAfterFinished = tc.cfgShutdown, tc.cfgTTL
			withConfig(t, cfg)
			job := basicJob()
			job.ShutdownAfterJobFinishes, job.TtlSecondsAfterFinished = tc.taskShutdown, tc.taskTTL
			got := mustBuild(t, rayTask(t, job))
			assert.Equal(t, tc.wantShutdown, got.Spec.ShutdownAfterJobFinishes)
			assert.Equal(t, tc.wantTTL, got.Spec.TTLSecondsAfterFinished)
		})
	}
}

func TestIngressAndServiceType(t *testing.T) {
	cfg := defaultConfig()
	cfg.EnableIngress = true
	cfg.ServiceType = "ClusterIP"
	withConfig(t, cfg)
	head := mustBuild(t, rayTask(t, basicJob())).Spec.RayClusterSpec.HeadGroupSpec
	assert.True(t, *head.EnableIngress)
	assert.Equal(t, v1.ServiceType("ClusterIP"), head.ServiceType)
}

// The task timeout becomes activeDeadlineSeconds (rounded up), so a
// cluster stuck initializing is torn down.
func TestActiveDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout *durationpb.Duration
		want    *int32
	}{
		{"no timeout", nil, nil},
		{"zero", durationpb.New(0), nil},
		{"negative", durationpb.New(-time.Second), nil},
		{"whole seconds", durationpb.New(90 * time.Second), new(int32(90))},
		{"rounded up", durationpb.New(1500 * time.Millisecond), new(int32(2))},
		{"clamped", &durationpb.Duration{Seconds: math.MaxInt64}, new(int32(math.MaxInt32))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := rayTask(t, basicJob())
			task.Template.Metadata.Timeout = tc.timeout
			assert.Equal(t, tc.want, mustBuild(t, task).Spec.ActiveDeadlineSeconds)
		})
	}
}

// The submitter is a small pod of its own: the task's image, modest
// resources, the platform's placement — never the task's GPUs or their
// node affinity and tolerations (flyteorg/flyte#5666).
func TestSubmitterPod(t *testing.T) {
	platformTol := v1.Toleration{Key: "platform", Operator: v1.TolerationOpExists}
	kittest.SetPlatform(t, &config.K8sPluginConfig{
		DefaultTolerations:                 []v1.Toleration{platformTol},
		DefaultNodeSelector:                map[string]string{"pool": "default"},
		SchedulerName:                      "batch-scheduler",
		AddTolerationsForExtendedResources: []string{"nvidia.com/gpu"},
		DefaultEnvVars:                     map[string]string{"HTTPS_PROXY": "proxy:3128", "A": "1"},
		DefaultLabels:                      map[string]string{"platform": "l"},
	})
	task := rayTask(t, basicJob())
	task.Resources = &v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("8"), v1.ResourceMemory: resource.MustParse("64Gi"), "nvidia.com/gpu": resource.MustParse("4")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("8"), v1.ResourceMemory: resource.MustParse("64Gi"), "nvidia.com/gpu": resource.MustParse("4")},
	}
	task.Labels = map[string]string{"execution": "l"}
	job := mustBuild(t, task)
	sub := job.Spec.SubmitterPodTemplate
	require.NotNil(t, sub)
	require.Len(t, sub.Spec.Containers, 1)
	c := sub.Spec.Containers[0]
	assert.Equal(t, "ray-job-submitter", c.Name)
	assert.Equal(t, "ghcr.io/flyteorg/ray-task:1", c.Image)
	assert.Empty(t, c.Command, "KubeRay writes `ray job submit`")
	assert.Equal(t, v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("200Mi")}, c.Resources.Requests)
	assert.Equal(t, v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")}, c.Resources.Limits)
	assert.Equal(t, []v1.EnvVar{{Name: "A", Value: "1"}, {Name: "HTTPS_PROXY", Value: "proxy:3128"}}, c.Env)
	assert.Equal(t, v1.RestartPolicyNever, sub.Spec.RestartPolicy)
	assert.Equal(t, []v1.Toleration{platformTol}, sub.Spec.Tolerations, "no GPU toleration")
	assert.Equal(t, map[string]string{"pool": "default"}, sub.Spec.NodeSelector)
	assert.Equal(t, "batch-scheduler", sub.Spec.SchedulerName)
	assert.Equal(t, "task-sa", sub.Spec.ServiceAccountName)
	assert.Equal(t, "l", sub.Labels["platform"])
	assert.Equal(t, "l", sub.Labels["execution"])

	// The Ray nodes do get the GPUs and their toleration.
	head := job.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec
	assert.Equal(t, resource.MustParse("4"), head.Containers[0].Resources.Limits["nvidia.com/gpu"])
	assert.Contains(t, head.Tolerations, v1.Toleration{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})
}

// The submitter runs as the task (pull secrets, priority, DNS, security
// contexts) and is placed by the platform as a non-interruptible pod.
func TestSubmitterPodIdentityAndPlacement(t *testing.T) {
	onDemand := v1.NodeSelectorRequirement{Key: "lifecycle", Operator: v1.NodeSelectorOpNotIn, Values: []string{"spot"}}
	zone := v1.NodeSelectorRequirement{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}
	runAsUser := int64(1000)
	noPrivilege := false
	platform := &config.K8sPluginConfig{
		DefaultAffinity: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
			NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{zone}}},
		}}},
		NonInterruptibleNodeSelectorRequirement: &onDemand,
		DefaultPodSecurityContext:               &v1.PodSecurityContext{RunAsUser: &runAsUser},
		DefaultSecurityContext:                  &v1.SecurityContext{AllowPrivilegeEscalation: &noPrivilege},
		DefaultPodDNSConfig:                     &v1.PodDNSConfig{Nameservers: []string{"10.0.0.10"}},
	}
	kittest.SetPlatform(t, platform)
	task := rayTask(t, basicJob())
	task.PodTemplate = &core.K8SPod{PodSpec: kittest.ObjStruct(t, &v1.PodSpec{
		PriorityClassName: "team-high",
		ImagePullSecrets:  []v1.LocalObjectReference{{Name: "regcred"}},
		Containers:        []v1.Container{{Name: "primary"}},
	}), PrimaryContainerName: "primary"}
	task.Interruptible = true
	sub := mustBuild(t, task).Spec.SubmitterPodTemplate.Spec

	assert.Equal(t, "team-high", sub.PriorityClassName)
	assert.Equal(t, []v1.LocalObjectReference{{Name: "regcred"}}, sub.ImagePullSecrets)
	assert.Equal(t, platform.DefaultPodDNSConfig, sub.DNSConfig)
	assert.Equal(t, platform.DefaultPodSecurityContext, sub.SecurityContext)
	assert.Equal(t, platform.DefaultSecurityContext, sub.Containers[0].SecurityContext)
	require.NotNil(t, sub.Affinity)
	assert.Equal(t, []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{zone, onDemand}}},
		sub.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms,
		"the platform's affinity, and never on interruptible nodes even for an interruptible task")
	assert.Len(t, platform.DefaultAffinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions, 1,
		"the platform's affinity is not modified")
}

// Ray nodes run KubeRay's `ray start` in place of the task's command line:
// a command from a pod template would run first and must be cleared.
func TestRayNodesDropTheTaskCommand(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := rayTask(t, basicJob())
	task.Template.GetContainer().Command = []string{"/opt/entry.sh"}
	job := mustBuild(t, task)
	head := job.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec.Containers[0]
	assert.Empty(t, head.Command)
	assert.Empty(t, head.Args)
	for _, g := range job.Spec.RayClusterSpec.WorkerGroupSpecs {
		assert.Empty(t, g.Template.Spec.Containers[0].Command, g.GroupName)
		assert.Empty(t, g.Template.Spec.Containers[0].Args, g.GroupName)
	}
}

// The RayJob itself carries the labels and annotations of the task's pod
// template (propeller's plugin manager adds the platform's and the
// execution's when it creates the object).
func TestRayJobLabelsAndAnnotations(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{})
	task := rayTask(t, basicJob())
	task.PodTemplate = &core.K8SPod{
		Metadata: &core.K8SObjectMetadata{Labels: map[string]string{"team": "ml"}, Annotations: map[string]string{"cost/center": "42"}},
		PodSpec:  kittest.ObjStruct(t, &v1.PodSpec{Containers: []v1.Container{{Name: "primary"}}}), PrimaryContainerName: "primary",
	}
	job := mustBuild(t, task)
	assert.Equal(t, "ml", job.Labels["team"])
	assert.Equal(t, "42", job.Annotations["cost/center"])
}

// The entrypoint is the task's command line; every argument survives a
// POSIX shell exactly.
func TestEntrypoint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command []string
		args    []string
		want    string
	}{
		{name: "plain", args: []string{"pyflyte-execute", "--inputs", "s3://b/in.pb"}, want: "pyflyte-execute --inputs s3://b/in.pb"},
		{name: "empty arg kept", args: []string{"a", "", "b"}, want: "a '' b"},
		{name: "spaces", args: []string{"echo", "hello world"}, want: "echo 'hello world'"},
		{name: "quotes", args: []string{"echo", "it's", `say "hi"`}, want: `echo 'it'"'"'s' 'say "hi"'`},
		{name: "shell specials", args: []string{"$HOME", "a;b", "*", "x&&y", "`id`", "a\nb", "{\"k\":1}", "~"},
			want: `'$HOME' 'a;b' '*' 'x&&y' '` + "`id`" + `' 'a` + "\n" + `b' '{"k":1}' '~'`},
		{name: "safe punctuation", args: []string{"--k=v", "a,b", "x@y", "50%", "+1", "./p/q.py", "a:b"}, want: "--k=v a,b x@y 50% +1 ./p/q.py a:b"},
		{name: "command then args", command: []string{"python", "-m"}, args: []string{"mod", "arg one"}, want: "python -m mod 'arg one'"},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := rayTask(t, basicJob())
			c := task.Template.GetContainer()
			c.Command, c.Args = tc.command, tc.args
			got := mustBuild(t, task).Spec.Entrypoint
			assert.Equal(t, tc.want, got)
			assert.Equal(t, append(append([]string{}, tc.command...), tc.args...), shellWords(t, got))
		})
	}
}

// shellWords splits a command line the way /bin/sh does.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to check quoting against")
	}
	out, err := exec.Command(sh, "-c", "set -- "+line+"\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done").Output()
	require.NoError(t, err)
	words := strings.Split(string(out), "\x00")
	return append([]string{}, words[:len(words)-1]...)
}

// Every bad input is a permanent BadTaskSpecification naming the field.
func TestBadInput(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	badPod := &core.K8SPod{PodSpec: &structpb.Struct{Fields: map[string]*structpb.Value{
		"containers": structpb.NewStringValue("not a list"),
	}}}
	for _, tc := range []struct {
		name  string
		job   func() *plugins.RayJob
		task  func(*kittest.Task)
		field string
	}{
		{name: "no custom", task: func(k *kittest.Task) { k.Template.Custom = nil }, field: "custom"},
		{name: "custom is not a RayJob", task: func(k *kittest.Task) {
			k.Template.Custom = &structpb.Struct{Fields: map[string]*structpb.Value{"rayCluster": structpb.NewStringValue("x")}}
		}, field: "custom"},
		{name: "bad head pod", job: func() *plugins.RayJob { j := basicJob(); j.RayCluster.HeadGroupSpec.K8SPod = badPod; return j }, field: "rayCluster.headGroupSpec.k8sPod"},
		{name: "bad worker pod", job: func() *plugins.RayJob {
			j := basicJob()
			j.RayCluster.WorkerGroupSpec[0].K8SPod = badPod
			return j
		}, field: "rayCluster.workerGroupSpec[0].k8sPod"},
		{name: "worker without a name", job: func() *plugins.RayJob { j := basicJob(); j.RayCluster.WorkerGroupSpec[0].GroupName = ""; return j }, field: "rayCluster.workerGroupSpec[0].groupName"},
		{name: "worker name not a label", job: func() *plugins.RayJob {
			j := basicJob()
			j.RayCluster.WorkerGroupSpec[0].GroupName = "gpu workers!"
			return j
		}, field: "rayCluster.workerGroupSpec[0].groupName"},
		{name: "duplicate worker names", job: func() *plugins.RayJob {
			j := basicJob()
			j.RayCluster.WorkerGroupSpec = append(j.RayCluster.WorkerGroupSpec, &plugins.WorkerGroupSpec{GroupName: "workers", Replicas: 1})
			return j
		}, field: "rayCluster.workerGroupSpec[1].groupName"},
		{name: "negative replicas", job: func() *plugins.RayJob { j := basicJob(); j.RayCluster.WorkerGroupSpec[0].Replicas = -1; return j }, field: "rayCluster.workerGroupSpec[0].replicas"},
		{name: "negative min replicas", job: func() *plugins.RayJob { j := basicJob(); j.RayCluster.WorkerGroupSpec[0].MinReplicas = -1; return j }, field: "rayCluster.workerGroupSpec[0].minReplicas"},
		{name: "negative max replicas", job: func() *plugins.RayJob { j := basicJob(); j.RayCluster.WorkerGroupSpec[0].MaxReplicas = -2; return j }, field: "rayCluster.workerGroupSpec[0].maxReplicas"},
		{name: "runtime env not base64", job: func() *plugins.RayJob { j := basicJob(); j.RuntimeEnvYaml, j.RuntimeEnv = "", "%%%"; return j }, field: "runtimeEnv"},
		{name: "runtime env not JSON", job: func() *plugins.RayJob {
			j := basicJob()
			j.RuntimeEnvYaml, j.RuntimeEnv = "", b64([]byte("pip: [x]"))
			return j
		}, field: "runtimeEnv"},
		{name: "runtime env a JSON list", job: func() *plugins.RayJob {
			j := basicJob()
			j.RuntimeEnvYaml, j.RuntimeEnv = "", b64([]byte(`["x"]`))
			return j
		}, field: "runtimeEnv"},
		{name: "runtime env yaml not YAML", job: func() *plugins.RayJob { j := basicJob(); j.RuntimeEnvYaml = "pip: [numpy\n"; return j }, field: "runtimeEnvYaml"},
		{name: "runtime env yaml a list", job: func() *plugins.RayJob { j := basicJob(); j.RuntimeEnvYaml = "- numpy\n"; return j }, field: "runtimeEnvYaml"},
		{name: "negative TTL", job: func() *plugins.RayJob {
			j := basicJob()
			j.ShutdownAfterJobFinishes, j.TtlSecondsAfterFinished = true, -1
			return j
		}, field: "ttlSecondsAfterFinished"},
		{name: "negative idle timeout", job: func() *plugins.RayJob {
			j := autoscalingJob()
			j.RayCluster.AutoscalerOptions.IdleTimeoutSeconds = -5
			return j
		}, field: "rayCluster.autoscalerOptions.idleTimeoutSeconds"},
		{name: "unknown upscaling mode", job: func() *plugins.RayJob {
			j := autoscalingJob()
			j.RayCluster.AutoscalerOptions.UpscalingMode = 42
			return j
		}, field: "rayCluster.autoscalerOptions.upscalingMode"},
		{name: "bad autoscaler resources", job: func() *plugins.RayJob {
			j := autoscalingJob()
			j.RayCluster.AutoscalerOptions.Resources.Limits[0].Value = "lots"
			return j
		}, field: "rayCluster.autoscalerOptions.resources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := basicJob()
			if tc.job != nil {
				job = tc.job()
			}
			task := rayTask(t, job)
			if tc.task != nil {
				tc.task(&task)
			}
			_, err := build(t, task)
			require.Error(t, err)
			code, ok := stderrors.GetErrorCode(err)
			require.True(t, ok, err.Error())
			assert.Equal(t, flyteerrors.BadTaskSpecification, code)
			assert.Contains(t, err.Error(), tc.field)
		})
	}
}

// Labels and annotations reach every pod: the platform's defaults, the
// execution's and the group's own.
func TestPodMetadata(t *testing.T) {
	kittest.SetPlatform(t, &config.K8sPluginConfig{
		DefaultLabels:      map[string]string{"platform": "l"},
		DefaultAnnotations: map[string]string{"platform": "a"},
	})
	task := rayTask(t, basicJob())
	task.Labels = map[string]string{"execution": "l"}
	task.Annotations = map[string]string{"execution": "a"}
	job := mustBuild(t, task)
	for name, meta := range map[string]metav1.ObjectMeta{
		"head":      job.Spec.RayClusterSpec.HeadGroupSpec.Template.ObjectMeta,
		"worker":    job.Spec.RayClusterSpec.WorkerGroupSpecs[0].Template.ObjectMeta,
		"submitter": job.Spec.SubmitterPodTemplate.ObjectMeta,
	} {
		assert.Equal(t, "l", meta.Labels["platform"], name)
		assert.Equal(t, "l", meta.Labels["execution"], name)
		assert.Equal(t, "a", meta.Annotations["platform"], name)
		assert.Equal(t, "a", meta.Annotations["execution"], name)
	}
}

// A job without a cluster spec is a single-node cluster: a head, no workers.
func TestHeadOnly(t *testing.T) {
	job := mustBuild(t, rayTask(t, &plugins.RayJob{}))
	require.NotNil(t, job.Spec.RayClusterSpec)
	assert.Empty(t, job.Spec.RayClusterSpec.WorkerGroupSpecs)
	assert.Equal(t, "ray-head", job.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec.Containers[0].Name)
	assert.Equal(t, "true", job.Spec.RayClusterSpec.HeadGroupSpec.RayStartParams["disable-usage-stats"])
}

// The execution's run-as service account is the identity of every Ray pod
// (head, workers, submitter), over the task metadata's; the config's
// serviceAccount still wins over both.
func TestRunAsServiceAccountReachesEveryPod(t *testing.T) {
	task := rayTask(t, basicJob())
	task.ServiceAccount = "metadata-sa"
	task.Template.SecurityContext = &core.SecurityContext{RunAs: &core.Identity{K8SServiceAccount: "run-as-sa"}}
	check := func(rj *rayv1.RayJob, want string) {
		t.Helper()
		assert.Equal(t, want, rj.Spec.RayClusterSpec.HeadGroupSpec.Template.Spec.ServiceAccountName, "head")
		for _, g := range rj.Spec.RayClusterSpec.WorkerGroupSpecs {
			assert.Equal(t, want, g.Template.Spec.ServiceAccountName, "worker group %s", g.GroupName)
		}
		assert.Equal(t, want, rj.Spec.SubmitterPodTemplate.Spec.ServiceAccountName, "submitter")
	}
	check(mustBuild(t, task), "run-as-sa")

	cfg := defaultConfig()
	cfg.ServiceAccount = "platform-sa"
	withConfig(t, cfg)
	check(mustBuild(t, task), "platform-sa")
}

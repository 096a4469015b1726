package ray_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/config/viper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
)

// A propeller config written for upstream's plugin (every key of its
// plugins.ray section) loads into ours in strict mode, which rejects keys
// no section declares.
func TestLoadUpstreamConfig(t *testing.T) {
	prev := *ray.GetConfig()
	t.Cleanup(func() { _ = ray.SetConfig(&prev) })

	accessor := viper.NewAccessor(config.Options{StrictMode: true, SearchPaths: []string{"testdata/config.yaml"}})
	require.NoError(t, accessor.UpdateConfig(context.Background()))

	cfg := ray.GetConfig()
	assert.False(t, cfg.ShutdownAfterJobFinishes)
	assert.Equal(t, int32(120), cfg.TTLSecondsAfterFinished)
	assert.Equal(t, "ClusterIP", cfg.ServiceType)
	assert.True(t, cfg.EnableIngress)
	assert.False(t, cfg.IncludeDashboard)
	assert.Equal(t, "127.0.0.1", cfg.DashboardHost)
	assert.Equal(t, "10.0.0.1", cfg.DeprecatedNodeIPAddress)
	assert.Equal(t, "remote", cfg.RemoteClusterConfig.Name)
	assert.Equal(t, "https://remote:6443", cfg.RemoteClusterConfig.Endpoint)
	assert.Equal(t, "/path/token", cfg.RemoteClusterConfig.Auth.TokenPath)
	assert.Equal(t, "/path/cert", cfg.RemoteClusterConfig.Auth.CaCertPath)
	assert.True(t, cfg.Logs.IsKubernetesEnabled)
	require.NotNil(t, cfg.LogsSidecar)
	assert.Equal(t, "fluentbit", cfg.LogsSidecar.Name)
	require.NotNil(t, cfg.DashboardURLTemplate)
	assert.Equal(t, []tasklog.TemplateURI{"https://dashboard/{{ .namespace }}/{{ .rayClusterName }}"}, cfg.DashboardURLTemplate.TemplateURIs)
	assert.Equal(t, map[string]string{"num-cpus": "0"}, cfg.Defaults.HeadNode.StartParameters)
	assert.Equal(t, "10.0.0.2", cfg.Defaults.HeadNode.IPAddress)
	assert.Equal(t, map[string]string{"num-gpus": "1"}, cfg.Defaults.WorkerNode.StartParameters)
	assert.Equal(t, "10.0.0.3", cfg.Defaults.WorkerNode.IPAddress)
	assert.True(t, cfg.EnableUsageStats)
	assert.Equal(t, "ray-sa", cfg.ServiceAccount)

	// The loaded config drives the build.
	job := mustBuild(t, rayTask(t, bareJob()))
	head := job.Spec.RayClusterSpec.HeadGroupSpec
	assert.Equal(t, map[string]string{"num-cpus": "0", "include-dashboard": "false", "node-ip-address": "10.0.0.2", "dashboard-host": "127.0.0.1"}, head.RayStartParams)
	assert.Equal(t, "ray-sa", head.Template.Spec.ServiceAccountName)
	assert.True(t, *head.EnableIngress)
	assert.Equal(t, "ClusterIP", string(head.ServiceType))
	assert.NotNil(t, container(&head.Template.Spec, "fluentbit"))
	assert.False(t, job.Spec.ShutdownAfterJobFinishes)
	assert.Zero(t, job.Spec.TTLSecondsAfterFinished, "KubeRay rejects a TTL without shutdown")
	worker := job.Spec.RayClusterSpec.WorkerGroupSpecs[0]
	assert.Equal(t, map[string]string{"num-gpus": "1", "node-ip-address": "10.0.0.3"}, worker.RayStartParams)
}

package dask_test

import (
	"testing"

	daskAPI "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
)

func TestRegistration(t *testing.T) {
	entry := registeredEntry(t)
	assert.Equal(t, "dask", entry.ID)
	assert.Equal(t, []string{"dask"}, entry.RegisteredTaskTypes)
	assert.IsType(t, &daskAPI.DaskJob{}, entry.ResourceToWatch)
	assert.False(t, entry.IsDefault)
	assert.Nil(t, entry.CustomKubeClient)
	assert.Implements(t, (*flyte2)(nil), entry.Plugin)
	assert.Equal(t, k8s.PluginProperties{}, entry.Plugin.GetProperties())

	gvks, _, err := scheme.Scheme.ObjectKinds(&daskAPI.DaskJob{})
	require.NoError(t, err, "DaskJob is in client-go's scheme, which propeller's clients use")
	assert.Equal(t, "kubernetes.dask.org/v1, Kind=DaskJob", gvks[0].String())
}

// TestConfigKeys: upstream's `logs` key, the new keys and their defaults,
// read the way propeller reads its config (JSON names from YAML).
func TestConfigKeys(t *testing.T) {
	def := dask.GetConfig()
	assert.Equal(t, "NodePort", def.SchedulerServiceType)
	assert.True(t, def.Logs.IsKubernetesEnabled, "upstream's default log config")
	assert.Nil(t, def.DashboardURLTemplate)

	var cfg dask.Config
	require.NoError(t, yaml.UnmarshalStrict([]byte(`
logs:
  kubernetes-enabled: false
  templates:
    - displayName: Grafana
      templateUris: ["https://grafana/{{ .podName }}"]
schedulerServiceType: ClusterIP
dashboardURLTemplate:
  displayName: Dask Dashboard
  templateUris: ["https://dash/{{ .daskClusterName }}"]
`), &cfg))
	assert.False(t, cfg.Logs.IsKubernetesEnabled)
	assert.Equal(t, "Grafana", cfg.Logs.Templates[0].DisplayName)
	assert.Equal(t, "ClusterIP", cfg.SchedulerServiceType)
	require.NotNil(t, cfg.DashboardURLTemplate)
	assert.Equal(t, []string{"https://dash/{{ .daskClusterName }}"}, cfg.DashboardURLTemplate.TemplateURIs)
}

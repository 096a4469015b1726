package plugins_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task"
	taskConfig "github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task/config"
	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/config/viper"
	"github.com/flyteorg/flyte/flytestdlib/contextutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils/labeled"
	"k8s.io/apimachinery/pkg/types"

	_ "github.com/flytedist/flyteplugins/cmd/flytepropeller/plugins"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/kf"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
)

const (
	ours     = "github.com/flytedist/flyteplugins/"
	upstream = "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/"
)

func TestMain(m *testing.M) {
	// Propeller sets these at start; the web-API machinery's metrics need them.
	labeled.SetMetricKeys(contextutils.ProjectKey, contextutils.DomainKey, contextutils.WorkflowIDKey, contextutils.TaskIDKey)
	os.Exit(m.Run())
}

// pkgOf is the Go package that defines v's dynamic type.
func pkgOf(v reflect.Value) string {
	t := v.Type()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath()
}

func TestK8sPluginsAreOursAndUpstreams(t *testing.T) {
	byID := map[string][]string{}
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		byID[e.ID] = append(byID[e.ID], pkgOf(reflect.ValueOf(e.Plugin)))
	}
	t.Logf("k8s plugins: %v", byID)
	// Ours may be a plugin-specific type or the shared adapter of
	// go/tasks/plugins/k8s/internal/kit: either way it is under our module.
	want := map[string]string{
		"spark":      "github.com/flytedist/",
		"ray":        "github.com/flytedist/",
		"dask":       "github.com/flytedist/",
		"container":  upstream + "k8s/pod",
		"sidecar":    upstream + "k8s/pod",
		"pod":        upstream + "k8s/pod",
		"mpi":        "github.com/flytedist/",
		"pytorch":    "github.com/flytedist/",
		"tensorflow": "github.com/flytedist/",
	}
	for id, prefix := range want {
		if got := byID[id]; len(got) != 1 || !strings.HasPrefix(got[0], prefix) {
			t.Errorf("k8s plugin %q: registered from %v, want exactly one from %s...", id, got, prefix)
		}
	}
	// Upstream's spark plugin watches the pre-v2 operator's type; ours v2's.
	for _, e := range pluginmachinery.PluginRegistry().GetK8sPlugins() {
		if e.ID == "spark" {
			if got := pkgOf(reflect.ValueOf(e.ResourceToWatch)); got != "github.com/kubeflow/spark-operator/v2/api/v1beta2" {
				t.Errorf("spark plugin watches a SparkApplication from %s, want spark-operator/v2's", got)
			}
		}
	}
}

// fakeSetup is just enough of propeller's setup context to load a web-API
// plugin.
type fakeSetup struct{ scope promutils.Scope }

func (f fakeSetup) EnqueueOwner() pluginsCore.EnqueueOwner {
	return func(types.NamespacedName) error { return nil }
}
func (f fakeSetup) OwnerKind() string                                { return "FlyteWorkflow" }
func (f fakeSetup) MetricsScope() promutils.Scope                    { return f.scope }
func (f fakeSetup) KubeClient() pluginsCore.KubeClient               { return nil }
func (f fakeSetup) SecretManager() pluginsCore.SecretManager         { return nil }
func (f fakeSetup) ResourceRegistrar() pluginsCore.ResourceRegistrar { return noQuota{} }

type noQuota struct{}

func (noQuota) RegisterResourceQuota(context.Context, pluginsCore.ResourceNamespace, int) error {
	return nil
}

func TestCorePluginsAreOursAndUpstreams(t *testing.T) {
	var ids []string
	var databricksEntries []pluginsCore.PluginEntry
	for _, e := range pluginmachinery.PluginRegistry().GetCorePlugins() {
		ids = append(ids, e.ID)
		if e.ID == "databricks" {
			databricksEntries = append(databricksEntries, e)
		}
	}
	t.Logf("core plugins: %v", ids)
	for _, id := range []string{"k8s-array", "echo", "athena", "bigquery", "snowflake", "databricks"} {
		if n := countOf(ids, id); n != 1 {
			t.Errorf("core plugin %q registered %d times, want once", id, n)
		}
	}
	if len(databricksEntries) != 1 {
		t.FailNow()
	}

	// A web-API plugin is registered as a loader; load it and look at the
	// plugin inside the web-API machinery's wrapper.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := databricksEntries[0].LoadPlugin(ctx, fakeSetup{scope: promutils.NewTestScope()})
	if err != nil {
		t.Fatalf("loading the databricks plugin: %v", err)
	}
	inner := reflect.ValueOf(p)
	for inner.Kind() == reflect.Pointer || inner.Kind() == reflect.Interface {
		inner = inner.Elem()
	}
	f := inner.FieldByName("p")
	if !f.IsValid() || f.IsNil() {
		t.Fatalf("the web-API wrapper %s has no field p holding the AsyncPlugin", inner.Type())
	}
	if got := pkgOf(f.Elem()); !strings.HasPrefix(got, "github.com/flytedist/") {
		t.Errorf("databricks plugin comes from %s, want ours (github.com/flytedist/...)", got)
	}
}

func countOf(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// TestExistingConfigSelectsOurs loads a propeller config written for
// upstream's plugins, strictly (every key must be known), and checks that
// propeller's own plugin selection enables ours under the same IDs and that
// our config sections picked up the keys.
func TestExistingConfigSelectsOurs(t *testing.T) {
	ctx := context.Background()
	acc := viper.NewAccessor(config.Options{
		StrictMode:  true,
		SearchPaths: []string{filepath.Join("testdata", "existing-config.yaml")},
	})
	if err := acc.UpdateConfig(ctx); err != nil {
		t.Fatalf("loading the config strictly: %v", err)
	}

	cfg := taskConfig.GetConfig()
	enabled, defaults, err := task.WranglePluginsAndGenerateFinalList(ctx, &cfg.TaskPlugins, pluginmachinery.PluginRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range enabled {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	t.Logf("enabled: %v, defaults: %v", ids, defaults)
	for _, id := range []string{"container", "sidecar", "k8s-array", "spark", "ray", "dask", "databricks", "pytorch", "tensorflow", "mpi"} {
		if n := countOf(ids, id); n != 1 {
			t.Errorf("plugin %q enabled %d times, want once", id, n)
		}
	}
	for id, types := range map[string][]string{"spark": {"spark"}, "ray": {"ray"}, "dask": {"dask"}, "databricks": {"databricks"}, "pytorch": {"pytorch"}, "tensorflow": {"tensorflow"}, "mpi": {"mpi"}} {
		if got := defaults[id]; !slices.Equal(got, types) {
			t.Errorf("default-for-task-types of %q = %v, want %v", id, got, types)
		}
	}

	if got := spark.GetConfig().SparkHistoryServerURL; got != "https://spark-history.example.com" {
		t.Errorf("plugins.spark.spark-history-server-url = %q", got)
	}
	if got := spark.GetConfig().DefaultSparkConfig["spark.kubernetes.allocation.batch.size"]; got != "50" {
		t.Errorf("plugins.spark.spark-config-default = %v", spark.GetConfig().DefaultSparkConfig)
	}
	if got := ray.GetConfig().TTLSecondsAfterFinished; got != 3600 {
		t.Errorf("plugins.ray.ttlSecondsAfterFinished = %d", got)
	}
	if tmpl := ray.GetConfig().DashboardURLTemplate; tmpl == nil || len(tmpl.TemplateURIs) != 1 || !strings.Contains(tmpl.TemplateURIs[0], "rayClusterName") {
		t.Errorf("plugins.ray.dashboardURLTemplate = %+v", tmpl)
	}
	if !dask.GetConfig().Logs.IsKubernetesEnabled {
		t.Errorf("plugins.dask.logs.kubernetes-enabled not set")
	}
	if got := kf.GetConfig().Timeout.Duration; got != 90*time.Second {
		t.Errorf("plugins.kf-operator.timeout = %v", got)
	}
	if got := databricks.GetConfig().DatabricksInstance; got != "dbc-a53b7a3c-614c.cloud.databricks.com" {
		t.Errorf("plugins.databricks.databricksInstance = %q", got)
	}
}

// TestUpstreamFourNotLinked checks that the propeller binary does not link
// upstream's spark, ray, dask, databricks or Kubeflow plugin packages at all
// (nor upstream's loader, which imports them).
func TestUpstreamFourNotLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/flytedist/flyteplugins/cmd/flytepropeller").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	banned := []string{
		upstream + "k8s/spark", upstream + "k8s/ray", upstream + "k8s/dask", upstream + "webapi/databricks",
		upstream + "k8s/kfoperators/pytorch", upstream + "k8s/kfoperators/tensorflow", upstream + "k8s/kfoperators/mpi",
		upstream + "k8s/kfoperators/common",
		"github.com/flyteorg/flyte/flytepropeller/plugins",
	}
	for _, b := range banned {
		if slices.Contains(deps, b) {
			t.Errorf("the propeller build links %s", b)
		}
	}
	for _, w := range []string{ours + "go/tasks/plugins/k8s/spark", ours + "go/tasks/plugins/webapi/databricks", upstream + "k8s/pod"} {
		if !slices.Contains(deps, w) {
			t.Errorf("the propeller build does not link %s", w)
		}
	}
}

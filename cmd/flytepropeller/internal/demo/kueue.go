package demo

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/testenv"
	"github.com/flytedist/flyteplugins/internal/webhookcert"
)

// The real Kueue controller manager (v0.17, pinned in hack/operators/kueue,
// built by `make operator-bins`) runs against the local control plane as
// internal/testenv's StartKueue runs it for the integration tests (see the
// comment at the top of internal/testenv/kueue.go): internal cert
// management, leader election and metrics off, its webhooks not
// registered (the plugins create jobs suspended and labelled), a throwaway
// loopback pair for its webhook server and one at the hard-coded
// /etc/kueue/metrics/certs, VisibilityOnDemand off. Only the PyTorchJob
// integration is enabled: the demo queues its PyTorch tasks and nothing
// else.

// kueueQueue is the LocalQueue (in the demo's namespace) the PyTorch tasks
// are submitted to; kueueClusterQueue and kueueFlavor back it.
const (
	kueueQueue        = "demo"
	kueueClusterQueue = "flytedist-demo"
	kueueFlavor       = "flytedist-demo"
)

// kueueCPUQuota is the ClusterQueue's cpu quota: one PyTorch task of the
// demo (a master and two workers, one cpu each), so the second waits until
// the first finishes. Memory is plentiful: cpu is the reason.
const (
	kueueCPUQuota    = "3"
	kueueMemoryQuota = "64Gi"
)

// kueueMetricsCertDir is where cmd/kueue v0.17 reads its metrics serving
// pair when internal cert management is off (hard-coded).
const kueueMetricsCertDir = "/etc/kueue/metrics/certs"

// kueueGVR is a kueue.x-k8s.io/v1beta2 resource.
func kueueGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: testenv.WorkloadGVK.Group, Version: testenv.WorkloadGVK.Version, Resource: resource}
}

// kueueCRDFiles are Kueue's CRDs from the module version hack/operators/kueue
// pins (v0.17's carry no conversion webhook).
func kueueCRDFiles() ([]string, error) {
	dir, err := testenv.ToolsModuleDir(testenv.KueueTools, testenv.KueueModule)
	if err != nil {
		return nil, fmt.Errorf("locating Kueue's module: %w", err)
	}
	bases := filepath.Join(dir, "config", "components", "crd", "bases")
	ents, err := os.ReadDir(bases)
	if err != nil {
		return nil, fmt.Errorf("the Kueue CRDs: %w", err)
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			files = append(files, filepath.Join(bases, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Kueue CRDs in %s", bases)
	}
	return files, nil
}

// startKueue runs the Kueue binary against the cluster c (kubeconfig is the
// same, as a file) until the returned stop is called, and waits until it is
// ready. dir is its own directory.
func startKueue(ctx context.Context, sp *spawner, binary string, c *clients, kubeconfig, dir string, out io.Writer) (stop func(), err error) {
	stop = func() {}
	if fi, err := os.Stat(binary); binary == "" || err != nil || fi.IsDir() {
		return stop, fmt.Errorf("the Kueue binary %q is missing: run `make operator-bins` (builds the version hack/operators/kueue pins into bin/operators)", binary)
	}
	if _, err := ensureNamespace(ctx, c, testenv.KueueNamespace); err != nil {
		return stop, fmt.Errorf("namespace %s: %w", testenv.KueueNamespace, err)
	}
	if err := ensureKueueMetricsCert(); err != nil {
		return stop, err
	}
	certDir := filepath.Join(dir, "serving-certs")
	certPEM, keyPEM, err := webhookcert.SelfSignedLoopback("kueue webhook (flytedist demo)")
	if err != nil {
		return stop, err
	}
	if err := webhookcert.WritePair(certDir, certPEM, keyPEM); err != nil {
		return stop, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return stop, err
	}
	webhookPort, probePort := ports[0], ports[1]
	cfg := map[string]any{
		"apiVersion":             "config.kueue.x-k8s.io/v1beta2",
		"kind":                   "Configuration",
		"namespace":              testenv.KueueNamespace,
		"health":                 map[string]any{"healthProbeBindAddress": "127.0.0.1:" + strconv.Itoa(probePort)},
		"metrics":                map[string]any{"bindAddress": "0"},
		"webhook":                map[string]any{"host": "127.0.0.1", "port": webhookPort, "certDir": certDir},
		"leaderElection":         map[string]any{"leaderElect": false},
		"internalCertManagement": map[string]any{"enable": false},
		"integrations":           map[string]any{"frameworks": []string{"kubeflow.org/pytorchjob"}},
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return stop, err
	}
	cfgPath := filepath.Join(dir, "kueue-config.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return stop, err
	}
	p, err := sp.start("kueue", []string{
		binary, "--config=" + cfgPath, "--kubeconfig=" + kubeconfig,
		"--feature-gates=" + testenv.KueueFeatureGates, "--zap-log-level=2",
	}, []string{"TMPDIR=" + dir, "KUBECONFIG="}, filepath.Join(dir, "kueue.log"))
	if err != nil {
		return stop, err
	}
	stop = func() { p.stop(10 * time.Second) }
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	readyz := "http://127.0.0.1:" + strconv.Itoa(probePort) + "/readyz"
	if err := waitFor(ctx, 90*time.Second, p, func() bool {
		return probeHTTP(hc, readyz, func(c int) bool { return c == http.StatusOK })
	}); err != nil {
		return stop, fmt.Errorf("the Kueue controller: %w", err)
	}
	fmt.Fprintf(out, "    ready; log: %s\n", p.logPath)
	return stop, nil
}

// ensureKueueMetricsCert puts a throwaway pair at kueueMetricsCertDir
// unless one loads from there already (shared by every run on the machine,
// never removed, as internal/testenv does).
func ensureKueueMetricsCert() error {
	crt, key := filepath.Join(kueueMetricsCertDir, "tls.crt"), filepath.Join(kueueMetricsCertDir, "tls.key")
	if _, err := tls.LoadX509KeyPair(crt, key); err == nil {
		return nil
	}
	c, k, err := webhookcert.SelfSignedLoopback("kueue metrics (flytedist demo)")
	if err == nil {
		err = webhookcert.WritePair(kueueMetricsCertDir, c, k)
	}
	if err != nil {
		return fmt.Errorf("with internal cert management off, Kueue v0.17 reads its metrics serving pair from %s "+
			"(hard-coded) and exits without one; writing a throwaway pair there failed: %w", kueueMetricsCertDir, err)
	}
	return nil
}

// createKueueQueues creates the ResourceFlavor, the ClusterQueue (quota for
// one PyTorch task) and the LocalQueue kueueQueue in ns, and waits until
// Kueue reports both queues active.
//
//nolint:goconst // Kueue API fields read best as they appear in YAML
func createKueueQueues(ctx context.Context, c *clients, ns string) error {
	obj := func(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
		u.SetGroupVersionKind(testenv.WorkloadGVK.GroupVersion().WithKind(kind))
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	quota := func(res, q string) map[string]any { return map[string]any{"name": res, "nominalQuota": q} }
	objs := []struct {
		resource string
		u        *unstructured.Unstructured
	}{
		{"resourceflavors", obj("ResourceFlavor", "", kueueFlavor, map[string]any{})},
		{"clusterqueues", obj("ClusterQueue", "", kueueClusterQueue, map[string]any{
			"namespaceSelector": map[string]any{},
			"resourceGroups": []any{map[string]any{
				"coveredResources": []any{"cpu", "memory"},
				"flavors": []any{map[string]any{
					"name":      kueueFlavor,
					"resources": []any{quota("cpu", kueueCPUQuota), quota("memory", kueueMemoryQuota)},
				}},
			}},
		})},
		{"localqueues", obj("LocalQueue", ns, kueueQueue, map[string]any{"clusterQueue": kueueClusterQueue})},
	}
	for _, o := range objs {
		if _, err := c.dynamic.Resource(kueueGVR(o.resource)).Namespace(o.u.GetNamespace()).Create(ctx, o.u, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Kueue %s %s: %w", o.u.GetKind(), o.u.GetName(), err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, o := range objs[1:] {
		for {
			u, err := c.dynamic.Resource(kueueGVR(o.resource)).Namespace(o.u.GetNamespace()).Get(ctx, o.u.GetName(), metav1.GetOptions{})
			if err == nil {
				if cond := testenv.FindCondition(u, "Active"); cond != nil && cond.Status == metav1.ConditionTrue {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the Kueue controller did not report %s %s active in 1m (get error %v)", o.u.GetKind(), o.u.GetName(), err)
			}
			select {
			case <-ctx.Done():
				return errStopped
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

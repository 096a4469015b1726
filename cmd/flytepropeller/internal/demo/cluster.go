package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	daskv1 "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	flyteclient "github.com/flyteorg/flyte/flytepropeller/pkg/client/clientset/versioned"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/testenv"
)

// clients reaches one cluster in every way the demo needs.
type clients struct {
	kube       kubernetes.Interface
	ext        apiextensions.Interface
	dynamic    dynamic.Interface
	flyte      flyteclient.Interface
	typed      client.Client // knows the operators' types
	restConfig *rest.Config
}

func newClients(cfg *rest.Config) (*clients, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	// KubeRay's and Dask's CRDs draw schema warnings; they are not the demo's.
	cfg.WarningHandler = rest.NoWarnings{}
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, sparkv1beta2.AddToScheme, rayv1.AddToScheme, daskv1.AddToScheme, kubeflowv1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	c := &clients{restConfig: cfg}
	var err error
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.ext, err = apiextensions.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.flyte, err = flyteclient.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.typed, err = client.New(cfg, client.Options{Scheme: s}); err != nil {
		return nil, err
	}
	return c, nil
}

// clusterConfig reads KUBECONFIG (one file or a list, the current context)
// and writes the context, flattened, to dir/kubeconfig for propeller.
func clusterConfig(kubeconfig, dir string) (*rest.Config, string, error) {
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(kubeconfig)}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading KUBECONFIG=%s: %w", kubeconfig, err)
	}
	if err := clientcmdapi.MinifyConfig(&raw); err != nil {
		return nil, "", fmt.Errorf("KUBECONFIG=%s: %w", kubeconfig, err)
	}
	if err := clientcmdapi.FlattenConfig(&raw); err != nil {
		return nil, "", fmt.Errorf("KUBECONFIG=%s: %w", kubeconfig, err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(raw, path); err != nil {
		return nil, "", err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("KUBECONFIG=%s: %w", kubeconfig, err)
	}
	return cfg, path, nil
}

func serverVersion(cfg *rest.Config) (string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// pyTorchJobCRD is pytorchjobs.kubeflow.org from the Training Operator's Go
// module at the version this module's graph selects (v1.8.0; the operator
// binary is v1.8.1, whose CRD is the same for what the demo creates).
var pyTorchJobCRD = testenv.CRDFile{Module: TrainingOperatorModule, Path: "manifests/base/crds/kubeflow.org_pytorchjobs.yaml"}

// demoCRDs are the CRDs the demo installs: the ones internal/testenv
// installs (SparkApplication, RayJob, DaskJob) and PyTorchJob.
var demoCRDs = append(append([]testenv.CRDFile(nil), testenv.OperatorCRDs...), pyTorchJobCRD)

// operatorCRDFiles locates the operators' CRD manifests in their Go modules
// (the files internal/testenv installs, and the PyTorchJob CRD), with `go
// list -m`.
func operatorCRDFiles() ([]string, error) {
	args := []string{"list", "-m", "-f", "{{.Path}}\t{{.Dir}}"}
	for _, f := range demoCRDs {
		args = append(args, f.Module)
	}
	out, err := exec.Command("go", args...).Output() // #nosec G204 -- fixed module names
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("locating the operators' modules (go %s): %w", strings.Join(args, " "), err)
	}
	dirs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if mod, dir, ok := strings.Cut(line, "\t"); ok {
			dirs[mod] = dir
		}
	}
	var files []string
	for _, f := range demoCRDs {
		if dirs[f.Module] == "" {
			return nil, fmt.Errorf("module %s is not downloaded (run `go mod download` in cmd/flytepropeller)", f.Module)
		}
		files = append(files, filepath.Join(dirs[f.Module], filepath.FromSlash(f.Path)))
	}
	return files, nil
}

// installCRDs creates each CRD (KubeRay's are too big for client-side
// apply) and waits until all are established.
func installCRDs(ctx context.Context, c *clients, files []string) error {
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f) // #nosec G304 -- a CRD manifest from the module cache
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(b, crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := c.ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating CRD %s from %s: %w", crd.Name, f, err)
		}
		names = append(names, crd.Name)
	}
	for _, n := range names {
		if err := waitCRDEstablished(ctx, c, n, time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// waitCRDEstablished waits until the named CRD exists and is established.
func waitCRDEstablished(ctx context.Context, c *clients, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		crd, err := c.ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not established after %s", name, timeout)
		}
		select {
		case <-ctx.Done():
			return errStopped
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureNamespace creates ns unless it exists; created says whether it did.
func ensureNamespace(ctx context.Context, c *clients, ns string) (created bool, err error) {
	_, err = c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return false, nil
	}
	return err == nil, err
}

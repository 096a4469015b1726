package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// mainModule is this repository's module path; its directory is the repo root.
const mainModule = "github.com/flytedist/flyteplugins"

// CRDFile names one CRD manifest inside a Go module.
type CRDFile struct {
	// Module is the Go module that ships the manifest, as in go.mod.
	Module string
	// Path is the manifest's path inside the module.
	Path string
	// Dir, when set, is the module's directory: for a module another
	// module selects (a tools module's operator, see ToolsModuleDir)
	// rather than this repository's go.mod.
	Dir string
}

// ToolsModuleDir returns the directory of module as the tools module in
// <repo>/<tools> (e.g. "hack/operators") selects it, so that a test
// installs the CRDs of exactly the operator version that module builds.
func ToolsModuleDir(tools, module string) (string, error) {
	dirs, err := lookupModuleDirs(mainModule)
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = filepath.Join(dirs[mainModule], filepath.FromSlash(tools))
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s in %s: %w: %s", module, cmd.Dir, err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s in %s: no directory (run the tools module's build first)", module, cmd.Dir)
	}
	return dir, nil
}

// The operators' own CRD manifests, read from the module cache at the
// versions go.mod selects.
var (
	// SparkApplicationCRD is sparkapplications.sparkoperator.k8s.io.
	SparkApplicationCRD = CRDFile{Module: "github.com/kubeflow/spark-operator/v2", Path: "config/crd/bases/sparkoperator.k8s.io_sparkapplications.yaml"}
	// RayJobCRD is rayjobs.ray.io.
	RayJobCRD = CRDFile{Module: "github.com/ray-project/kuberay/ray-operator", Path: "config/crd/bases/ray.io_rayjobs.yaml"}
	// RayClusterCRD is rayclusters.ray.io. It is not in OperatorCRDs: our
	// plugins create RayJobs only, and KubeRay's CRDs are big (each adds
	// seconds to the start and ~100 MB to the API server).
	RayClusterCRD = CRDFile{Module: "github.com/ray-project/kuberay/ray-operator", Path: "config/crd/bases/ray.io_rayclusters.yaml"}
	// DaskJobCRD is daskjobs.kubernetes.dask.org. The Helm chart's copy is
	// the resolved CRD; customresources/daskjob.yaml is a template with
	// unresolved $ref pod schemas (see the package doc).
	DaskJobCRD = CRDFile{Module: "github.com/dask/dask-kubernetes/v2023", Path: "dask_kubernetes/operator/deployment/helm/dask-kubernetes-operator/crds/daskjob.yaml"}
)

// OperatorCRDs are the CRDs that Start and Shared install: one per kind our
// plugins create.
var OperatorCRDs = []CRDFile{SparkApplicationCRD, RayJobCRD, DaskJobCRD}

var moduleDirs struct {
	sync.Mutex
	m map[string]string
}

// lookupModuleDirs returns the directory of each module in mods (this
// repository's and the operators' by default), running `go list -m` in the
// test's working directory once for those not looked up before.
func lookupModuleDirs(mods ...string) (map[string]string, error) {
	if len(mods) == 0 {
		mods = []string{mainModule, SparkApplicationCRD.Module, RayJobCRD.Module, DaskJobCRD.Module}
	}
	moduleDirs.Lock()
	defer moduleDirs.Unlock()
	if moduleDirs.m == nil {
		moduleDirs.m = map[string]string{}
	}
	var missing []string
	for _, m := range mods {
		if _, ok := moduleDirs.m[m]; !ok && !slices.Contains(missing, m) {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		args := append([]string{"list", "-m", "-f", "{{.Path}}\t{{.Dir}}"}, missing...)
		cmd := exec.Command("go", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			path, dir, ok := strings.Cut(line, "\t")
			if !ok || dir == "" {
				return nil, fmt.Errorf("go list -m: no directory for %q (is the module downloaded? try `go mod download`)", path)
			}
			moduleDirs.m[path] = dir
		}
	}
	res := make(map[string]string, len(mods))
	for _, m := range mods {
		res[m] = moduleDirs.m[m]
	}
	return res, nil
}

// crdPaths resolves files to absolute paths and checks that each exists.
func crdPaths(files []CRDFile) ([]string, error) {
	mods := make([]string, 0, len(files))
	for _, f := range files {
		if f.Dir == "" {
			mods = append(mods, f.Module)
		}
	}
	dirs := map[string]string{}
	if len(mods) > 0 {
		var err error
		if dirs, err = lookupModuleDirs(mods...); err != nil {
			return nil, err
		}
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		dir := f.Dir
		if dir == "" {
			dir = dirs[f.Module]
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("CRD manifest of %s: %w", f.Module, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// binDir is where the kube-apiserver and etcd binaries are expected:
// $KUBEBUILDER_ASSETS if set, else <repo>/bin/k8s.
func binDir() (string, error) {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d, nil
	}
	dirs, err := lookupModuleDirs() // all defaults at once: the CRDs come next
	if err != nil {
		return "", err
	}
	return filepath.Join(dirs[mainModule], "bin", "k8s"), nil
}

package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
)

// RequiredEnvVar names the variable that, set to a non-empty value other than "0", turns the
// skip for missing control-plane binaries into a test failure.
const RequiredEnvVar = "FLYTEDIST_TESTENV_REQUIRED"

// startTimeout bounds the start of etcd and of kube-apiserver, each.
const startTimeout = 60 * time.Second

// Env is a running kube-apiserver and etcd with the operators' CRDs
// installed. Its fields are safe for concurrent use by tests.
type Env struct {
	// Config reaches the API server as an administrator (system:masters).
	Config *rest.Config
	// Client is a controller-runtime client using Scheme.
	Client client.Client
	// Scheme knows the built-in types and the operator types (see NewScheme).
	Scheme *runtime.Scheme
	// Version is the API server's reported version, e.g. "v1.37.2".
	Version string

	env           *envtest.Environment
	reaper        *reaper
	logs          *TailBuffer
	startDuration time.Duration
	once          sync.Once
	err           error
}

// Options customise a control plane started by StartWithOptions.
type Options struct {
	// CRDs are the manifests to install; nil means OperatorCRDs.
	CRDs []CRDFile
}

// Start starts a control plane for t with OperatorCRDs installed and stops
// it when t and its subtests finish. It skips t (or fails it, see
// RequiredEnvVar) when the binaries are missing, and fails t when the
// control plane does not come up.
func Start(t testing.TB) *Env {
	t.Helper()
	return StartWithOptions(t, Options{})
}

// StartWithOptions is Start with a choice of CRDs.
func StartWithOptions(t testing.TB, o Options) *Env {
	t.Helper()
	dir := requireBinaries(t)
	e, err := start(dir, o)
	if e != nil {
		// Stop even a half-started control plane.
		t.Cleanup(func() {
			if err := e.Stop(); err != nil {
				t.Errorf("stopping control plane: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("starting control plane from %s: %v", dir, err)
	}
	t.Logf("control plane %s up in %s", e.Version, e.startDuration)
	return e
}

var shared struct {
	sync.Mutex
	running bool // inside Run
	env     *Env
	err     error
}

// Run runs the package's tests with m and then stops the control plane that
// Shared started, if any. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
func Run(m *testing.M) int {
	shared.Lock()
	shared.running = true
	shared.Unlock()

	code := m.Run()

	shared.Lock()
	defer shared.Unlock()
	shared.running = false
	if shared.env != nil {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping shared control plane: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		shared.env = nil
	}
	return code
}

// Shared returns the package's shared control plane (OperatorCRDs
// installed), starting it on first use. Run must wrap the package's tests
// (see Run), which stops it at the end. Tests sharing it should keep to
// their own namespace (NewNamespace). Like Start, it skips t when the
// binaries are missing; if the start failed once, every later call fails
// with the same error rather than trying again.
func Shared(t testing.TB) *Env {
	t.Helper()
	dir := requireBinaries(t)

	shared.Lock()
	defer shared.Unlock()
	if !shared.running {
		t.Fatal("testenv.Shared needs testenv.Run in TestMain: func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }")
	}
	if shared.env == nil && shared.err == nil {
		e, err := start(dir, Options{})
		if err != nil {
			if e != nil {
				_ = e.Stop()
			}
			shared.err = fmt.Errorf("starting shared control plane from %s: %w", dir, err)
		} else {
			t.Logf("shared control plane %s up in %s", e.Version, e.startDuration)
			shared.env = e
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

// NewNamespace creates a namespace with a generated name for t and returns
// its name. Namespaces are not deleted: with no namespace controller running,
// a deleted namespace would stay Terminating; the whole store goes with the
// control plane.
func (e *Env) NewNamespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// Stop stops kube-apiserver and etcd and removes their data. It is safe to
// call more than once; Start and Run call it for you.
func (e *Env) Stop() error {
	e.once.Do(func() {
		if e.env != nil {
			e.err = e.env.Stop()
		}
		if e.reaper != nil {
			e.reaper.release()
		}
	})
	return e.err
}

// requireBinaries returns the directory holding kube-apiserver and etcd, or
// skips (or fails) t when either is missing.
func requireBinaries(t testing.TB) string {
	t.Helper()
	dir, err := binDir()
	if err != nil {
		t.Fatalf("locating control-plane binaries: %v", err)
	}
	var missing []string
	for _, name := range []string{"kube-apiserver", "etcd"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("integration test needs a real control plane: %s not found in %s; run `make k8s-bins` "+
			"(builds kube-apiserver and etcd from hack/k8s, ~7 min the first time, then cached)", strings.Join(missing, " and "), dir)
		if v := os.Getenv(RequiredEnvVar); v != "" && v != "0" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// start brings up etcd and kube-apiserver from dir and installs the CRDs.
// On error the returned Env, if not nil, must still be stopped.
func start(dir string, o Options) (*Env, error) {
	files := o.CRDs
	if files == nil {
		files = OperatorCRDs
	}
	paths, err := crdPaths(files)
	if err != nil {
		return nil, err
	}
	s, err := NewScheme()
	if err != nil {
		return nil, err
	}

	quietLogsOnce.Do(func() {
		// envtest logs through controller-runtime's global logger, which
		// prints a warning with a stack trace 30 s into a test binary that
		// never set one. The first SetLogger wins: a test that wants these
		// logs sets its own before starting a control plane.
		crlog.SetLogger(logr.Discard())
	})

	begin := time.Now()
	logs := NewTailBuffer(64 << 10)
	te := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		UseExistingCluster:       ptr(false), // never a real cluster, whatever USE_EXISTING_CLUSTER says
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
		Scheme:                   s,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              paths,
			ErrorIfPathMissing: true,
			MaxTime:            60 * time.Second,
		},
	}
	te.ControlPlane.Etcd = &envtest.Etcd{Out: logs, Err: logs}
	// A throwaway store: skip fsync (envtest adds it too when etcd has the flag).
	te.ControlPlane.Etcd.Configure().Set("unsafe-no-fsync", "true")
	api := te.ControlPlane.GetAPIServer()
	api.Out, api.Err = logs, logs
	// kube-apiserver 1.37 exits at start when it advertises 127.0.0.1 and
	// reconciles the "kubernetes" service endpoints; nothing here needs them.
	api.Configure().
		Set("advertise-address", "127.0.0.1").
		Set("endpoint-reconciler-type", "none")

	e := &Env{Scheme: s, env: te, logs: logs}
	// BinaryAssetsDirectory is dir, and so is $KUBEBUILDER_ASSETS (which
	// envtest prefers) when set: binDir chose dir from it.
	startMu.Lock()
	cfg, err := te.Start()
	e.reaper = watchChildren(te.ControlPlane.Etcd.DataDir, api.CertDir)
	startMu.Unlock()
	if err != nil {
		return e, fmt.Errorf("%w\n--- control plane output (last %d bytes) ---\n%s", err, logs.Cap(), logs.String())
	}
	e.Config = cfg
	if e.Client, err = client.New(cfg, client.Options{Scheme: s}); err != nil {
		return e, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return e, err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return e, err
	}
	e.Version = v.GitVersion
	e.startDuration = time.Since(begin).Round(10 * time.Millisecond)
	return e, nil
}

var quietLogsOnce sync.Once

// startMu serialises starts within a test binary, so that watchChildren
// attributes the processes it finds to the right Env.
var startMu sync.Mutex

func ptr[T any](v T) *T { return &v }

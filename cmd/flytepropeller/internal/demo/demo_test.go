package demo_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flytepropeller/cmd/controller/cmd"
	"github.com/flyteorg/flyte/flytestdlib/config"
	"github.com/flyteorg/flyte/flytestdlib/config/viper"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flytedist/flyteplugins/cmd/flytepropeller/internal/demo"
	_ "github.com/flytedist/flyteplugins/cmd/flytepropeller/plugins"
)

// asPropeller makes the test binary run as our FlytePropeller: the demo
// test starts it that way, so the propeller it runs is built from the same
// sources as the test, with no separate build.
const asPropeller = "FLYTEDIST_DEMO_TEST_AS_PROPELLER"

func TestMain(m *testing.M) {
	if os.Getenv(asPropeller) == "1" {
		cmd.Execute()
		os.Exit(0)
	}
	// Propeller's cmd package parses the (empty) command line in its
	// init(), so m.Run would skip parsing the test flags: parse them here.
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// TestPropellerConfigLoadsStrictly checks every key of the demo's propeller
// config against the sections propeller and the plugins register.
func TestPropellerConfigLoadsStrictly(t *testing.T) {
	path, err := demo.PropellerConfigYAML(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	acc := viper.NewAccessor(config.Options{StrictMode: true, SearchPaths: []string{path}})
	if err := acc.UpdateConfig(context.Background()); err != nil {
		t.Fatalf("the demo's propeller config does not load strictly: %v", err)
	}
}

// TestDemoEndToEnd runs the demo as `make demo` does, with the test binary
// as propeller: local kube-apiserver and etcd, the operators' CRDs, our
// FlytePropeller, the real Kubeflow Training Operator (the demo acting as
// the kubelet for its pods), the other operators' stand-ins and the local
// Databricks Jobs API, and a real single-node Slurm for the slurm_fn task.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and propeller (~40 s)")
	}
	binDir := requireControlPlane(t)
	operator := requireTrainingOperator(t)
	kueue := requireOperator(t, "FLYTEDIST_KUEUE", "kueue", "Kueue", "hack/operators/kueue")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &lineLogger{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := demo.Run(ctx, demo.Options{
		PropellerCommand: []string{self},
		PropellerEnv:     []string{asPropeller + "=1"},
		K8sBinDir:        binDir,
		TrainingOperator: operator,
		Kueue:            kueue,
		Namespace:        "flytedist-demo",
		Timeout:          3 * time.Minute,
		Out:              out,
	})
	out.flush()
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if res.Phase != "Succeeded" {
		t.Errorf("workflow phase = %s, want Succeeded", res.Phase)
	}
	want := map[string]struct {
		kind  string
		links []string // links the task must report
	}{
		"spark":      {"kind: SparkApplication", []string{"Driver Logs"}},
		"ray":        {"kind: RayJob", []string{"Kubernetes Logs"}},
		"dask":       {"kind: DaskJob", []string{"Dask Dashboard"}},
		"pytorch":    {"kind: PyTorchJob", []string{"Kubernetes Logs(master-0)", "Kubernetes Logs(worker-0)", "Kubernetes Logs(worker-1)"}},
		"pytorch-2":  {"kind: PyTorchJob", []string{"Kubernetes Logs(master-0)", "Kubernetes Logs(worker-0)", "Kubernetes Logs(worker-1)"}},
		"databricks": {"spark_python_task:", []string{"Databricks Console"}},
		"slurm":      {"JobState=COMPLETED", []string{"Slurm stdout"}},
	}
	if len(res.Tasks) != len(want) {
		t.Fatalf("got %d tasks, want %d", len(res.Tasks), len(want))
	}
	for _, task := range res.Tasks {
		w := want[task.Label]
		if !strings.Contains(task.Resource, w.kind) {
			t.Errorf("%s: resource as created does not contain %q:\n%s", task.Label, w.kind, task.Resource)
		}
		if n := len(task.Transitions); n == 0 || task.Transitions[n-1].Phase != "SUCCEEDED" {
			t.Errorf("%s: task phases %v, want them to end in SUCCEEDED", task.Label, task.Transitions)
		}
		if len(task.Transitions) < 3 {
			t.Errorf("%s: only %d task phases reported, want queued, running and succeeded at least", task.Label, len(task.Transitions))
		}
		for _, link := range w.links {
			found := false
			for _, l := range task.Links {
				found = found || strings.Contains(l.Name, link)
			}
			if !found {
				t.Errorf("%s: no %q link among %v", task.Label, link, task.Links)
			}
		}
		if task.NodePhase != "Succeeded" {
			t.Errorf("%s: node phase %s, want Succeeded", task.Label, task.NodePhase)
		}
		// The Slurm job's states are slurmctld's; its stdout link is the
		// job's output file.
		if task.Label == "slurm" {
			if got := strings.Join(task.OperatorStates, " -> "); !strings.HasSuffix(got, "COMPLETED") {
				t.Errorf("slurm: the job's states %q, want them to end COMPLETED", got)
			}
			// The script ran on the node, then the task's command ({task.fn}).
			if !strings.Contains(task.Stdout, "flytedist demo: slurm_fn job ") || !strings.Contains(task.Stdout, "the task's command ran") {
				t.Errorf("slurm: the job's stdout %q lacks the script's and the command's lines", task.Stdout)
			}
			for _, l := range task.Links {
				if l.Name == "Slurm stdout" && !strings.HasPrefix(l.URI, "file:///") {
					t.Errorf("slurm: stdout link %q, want a file:// URI", l.URI)
				}
			}
		}
		// The PyTorchJobs' conditions are the real operator's; they are
		// queued in Kueue (created suspended, with its queue label).
		if strings.HasPrefix(task.Label, "pytorch") {
			if got := strings.Join(task.OperatorStates, " -> "); !strings.HasSuffix(got, "Running -> Succeeded") {
				t.Errorf("%s: the Training Operator's conditions %q, want them to end Running -> Succeeded", task.Label, got)
			}
			if !strings.Contains(task.Resource, "kueue.x-k8s.io/queue-name: demo") {
				t.Errorf("%s: the PyTorchJob as created has no Kueue queue label:\n%s", task.Label, task.Resource)
			}
		} else if strings.Contains(task.Resource, "kueue.x-k8s.io/queue-name") {
			t.Errorf("%s: only the PyTorch tasks are queued, but its resource has Kueue's queue label", task.Label)
		}
	}
	checkKueueQueued(t, res.Tasks)
	log := out.String()
	for _, s := range []string{
		"(Kubeflow Training Operator)",             // its conditions, reported as the real operator's
		"Running (the demo, acting as the kubelet", // each pod moved, saying so
		"-master-0: Running -> Succeeded (the demo, acting as the kubelet",
		"Slurm job 1 (flyte-", // the job's states as slurmctld lists them
		"Slurm job states (squeue, then jobcomp):",
		"==> starting Kueue, the real one",
		"propeller: task QUEUED (v", // the Kueue reasons, printed as they change
		"waiting in Kueue queue \"demo\"",
		"insufficient unused quota for cpu",
	} {
		if !strings.Contains(log, s) {
			t.Errorf("the demo's output has no %q", s)
		}
	}
	// The demo stops everything it starts.
	if leftovers := childProcesses(t); len(leftovers) > 0 {
		t.Errorf("processes left running after the demo: %v", leftovers)
	}
}

// TestDemoOnAClusterWithOperators runs the demo in KUBECONFIG mode against a
// cluster that has the operators: the demo must start no control plane and
// play no operator, and must leave the cluster as it found it (workflow,
// namespace and the FlyteWorkflow CRD it caused propeller to create gone).
func TestDemoOnAClusterWithOperators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and propeller (~40 s)")
	}
	binDir := requireControlPlane(t)
	operator := requireTrainingOperator(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &lineLogger{t: t}
	defer out.flush()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kubeconfig, stop, err := demo.OperatorCluster(ctx, binDir, operator, t.TempDir(), out)
	defer stop()
	if err != nil {
		t.Fatalf("starting a cluster with operators: %v", err)
	}
	res, err := demo.Run(ctx, demo.Options{
		PropellerCommand: []string{self},
		PropellerEnv:     []string{asPropeller + "=1"},
		Kubeconfig:       kubeconfig,
		Namespace:        "demo-on-cluster",
		Timeout:          3 * time.Minute,
		Quiet:            true,
		Out:              out,
	})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if res.Phase != "Succeeded" {
		t.Errorf("workflow phase = %s, want Succeeded", res.Phase)
	}
	log := out.String()
	for _, s := range []string{"starting a local control plane", "stand-ins play", "starting the Kubeflow Training Operator"} {
		if strings.Contains(log, "==> "+s) || strings.Contains(log, "    operators: "+s) {
			t.Errorf("in KUBECONFIG mode the demo printed %q", s)
		}
	}
	// The Slurm task runs only in local mode.
	if strings.Contains(log, "starting a real single-node Slurm") {
		t.Errorf("in KUBECONFIG mode the demo started Slurm")
	}
	for _, task := range res.Tasks {
		if task.Label == "slurm" {
			t.Errorf("in KUBECONFIG mode the workflow has a Slurm task")
		}
	}
	// The cluster's own kubelet stand-in moved the pods, not the demo's.
	if strings.Contains(log, "pytorch    pod ") {
		t.Errorf("in KUBECONFIG mode the demo acted as the kubelet")
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ext := apiextensions.NewForConfigOrDie(cfg)
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "flyteworkflows.flyte.lyft.com", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the FlyteWorkflow CRD propeller created is still there (err %v)", err)
	}
	ns, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().Get(ctx, "demo-on-cluster", metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("the namespace the demo created is not being deleted")
	}
}

// requireControlPlane returns the directory with kube-apiserver and etcd,
// or skips the test (fails it with FLYTEDIST_TESTENV_REQUIRED=1).
func requireControlPlane(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/flytedist/flyteplugins").Output()
		if err != nil {
			t.Fatalf("locating the repository: %v", err)
		}
		dir = filepath.Join(strings.TrimSpace(string(out)), "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() { // #nosec G703 -- the test's own binaries
			msg := "the demo test needs a real control plane: " + b + " not found in " + dir +
				"; run `bash hack/k8s/build.sh` (or `make k8s-bins`; ~7 min the first time, then cached)"
			if v := os.Getenv("FLYTEDIST_TESTENV_REQUIRED"); v != "" && v != "0" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return dir
}

// checkKueueQueued checks that the two PyTorch tasks ran one after the
// other through Kueue: the one that ran second was Queued with Kueue's
// reason (no quota left: the first holds it) and ran only once the first
// had succeeded.
func checkKueueQueued(t *testing.T, tasks []demo.TaskResult) {
	t.Helper()
	firstAt := func(task demo.TaskResult, phase string) (time.Duration, bool) {
		for _, tr := range task.Transitions {
			if tr.Phase == phase {
				return tr.At, true
			}
		}
		return 0, false
	}
	var pt []demo.TaskResult
	for _, task := range tasks {
		if strings.HasPrefix(task.Label, "pytorch") {
			pt = append(pt, task)
		}
	}
	if len(pt) != 2 {
		t.Fatalf("got %d PyTorch tasks, want 2", len(pt))
	}
	r0, ok0 := firstAt(pt[0], "RUNNING")
	r1, ok1 := firstAt(pt[1], "RUNNING")
	if !ok0 || !ok1 {
		t.Fatalf("a PyTorch task never ran: %v / %v", pt[0].Transitions, pt[1].Transitions)
	}
	first, second := pt[0], pt[1]
	if r1 < r0 {
		first, second = second, first
	}
	done, _ := firstAt(first, "SUCCEEDED")
	ran, _ := firstAt(second, "RUNNING")
	if ran < done {
		t.Errorf("%s ran at %s, before %s succeeded at %s: Kueue's quota fits one", second.Label, ran, first.Label, done)
	}
	queued := false
	for _, tr := range second.Transitions {
		if tr.Phase == "RUNNING" {
			break
		}
		queued = queued || (tr.Phase == "QUEUED" && strings.Contains(tr.Reason, `waiting in Kueue queue "demo"`) &&
			strings.Contains(tr.Reason, "insufficient unused quota"))
	}
	if !queued {
		t.Errorf("%s: no Queued phase with Kueue's reason (insufficient quota) before Running: %v", second.Label, second.Transitions)
	}
}

// requireOperator returns the binary `make operator-bins` links into
// bin/operators/<name> (or $<envVar>), and fails the test if it is missing.
func requireOperator(t *testing.T, envVar, name, what, tools string) string {
	t.Helper()
	path := os.Getenv(envVar)
	if path == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/flytedist/flyteplugins").Output()
		if err != nil {
			t.Fatalf("locating the repository: %v", err)
		}
		path = filepath.Join(strings.TrimSpace(string(out)), "bin", "operators", name)
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() { // #nosec G703 -- the test's own binary
		t.Fatalf("the demo runs the real %s, and %s is missing: run `make operator-bins` "+
			"(builds the version %s pins; a few minutes the first time, then cached)", what, path, tools)
	}
	return path
}

// requireTrainingOperator returns the Kubeflow Training Operator binary
// `make operator-bins` links into bin/operators (or
// $FLYTEDIST_TRAINING_OPERATOR), and fails the test if it is missing: the
// demo runs it for its PyTorch tasks.
func requireTrainingOperator(t *testing.T) string {
	t.Helper()
	return requireOperator(t, "FLYTEDIST_TRAINING_OPERATOR", "training-operator", "Kubeflow Training Operator", "hack/operators/training-operator")
}

// childProcesses lists this process's children still running (the demo's
// etcd, kube-apiserver and propeller would be among them).
func childProcesses(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil // not Linux
	}
	me := []byte(" " + itoa(os.Getpid()) + " ")
	var out []string
	for _, e := range ents {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || len(stat) < i+4 {
			continue
		}
		rest := stat[i+3:] // after ") S"
		if bytes.HasPrefix(rest, me) {
			out = append(out, string(stat[:i+1]))
		}
	}
	return out
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// lineLogger sends the demo's output to the test log, a line at a time,
// and keeps it all.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
	all bytes.Buffer
}

func (l *lineLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.t.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
		l.buf = nil
	}
}

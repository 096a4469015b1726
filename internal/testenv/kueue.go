package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/webhookcert"
)

// How the real Kueue controller manager (v0.17, pinned in
// hack/operators/kueue, built by `make operator-bins`) runs against the bare
// control plane, which has no kubelet, no cert-manager, no in-cluster DNS and
// no garbage collector:
//
//   - Internal cert management is off (its rotator would wait for the
//     kubelet to mount a Secret and for CA bundles to be injected into
//     webhook configurations and CRD conversion stanzas that do not exist
//     here). Kueue's webhooks are therefore not registered with the API
//     server at all: jobs must arrive suspended and labelled (our plugins
//     create them so), and nothing defaults or validates Kueue's own objects
//     beyond their CRD schemas.
//   - The webhook server (controller-runtime) still listens, on a free
//     loopback port, with a throwaway self-signed 127.0.0.1 pair in a
//     certificate directory of the test's own; Kueue's readiness probe is
//     "webhook server started".
//   - With internal cert management off, cmd/kueue always reads a metrics
//     serving pair from the hard-coded /etc/kueue/metrics/certs (even with
//     metrics disabled) and exits without it. We put a throwaway
//     self-signed pair there if none loads, shared by every run on the
//     machine and never removed (as the Training Operator's rotator path
//     is); the metrics server itself is off.
//   - Leader election off, health probes on a free loopback port, the job
//     integrations in KueueFrameworks (those whose CRDs are not installed are
//     deferred by Kueue until they are), SparkApplicationIntegration on and
//     VisibilityOnDemand off (KueueFeatureGates).
//   - Kueue's CRDs (config/components/crd/bases of the pinned module) carry
//     no conversion webhook, so the API server serves v1beta1 and v1beta2
//     without one; stored and read as v1beta2 (the storage version). Read
//     Workloads as unstructured objects (WorkloadGVK): this module never
//     imports sigs.k8s.io/kueue.

// KueueModule is Kueue's Go module, which ships its CRDs under
// config/components/crd/bases.
const KueueModule = "sigs.k8s.io/kueue"

// KueueTools is the tools module, relative to the repository root, that
// pins the Kueue version the integration tests run (`make operator-bins`
// builds it); pass it to ToolsModuleDir to find that version's module
// directory.
const KueueTools = "hack/operators/kueue"

// KueueBinaryEnvVar names a variable that, when set, is the Kueue binary
// to run instead of <repo>/bin/operators/kueue.
const KueueBinaryEnvVar = "FLYTEDIST_KUEUE"

// KueueNamespace is the namespace Kueue is configured to run in; StartKueue
// creates it.
const KueueNamespace = "kueue-system"

// Labels Kueue reads on a job (and copies to its Workload).
const (
	// KueueQueueLabel names the LocalQueue a job is submitted to.
	KueueQueueLabel = "kueue.x-k8s.io/queue-name"
	// KueuePriorityClassLabel names the job's WorkloadPriorityClass.
	KueuePriorityClassLabel = "kueue.x-k8s.io/priority-class"
	// KueueJobUIDLabel is set by Kueue on a job's Workload: the job's UID.
	KueueJobUIDLabel = "kueue.x-k8s.io/job-uid"
)

// Workload condition types (kueue.x-k8s.io/v1beta2).
const (
	// WorkloadQuotaReserved is True once a ClusterQueue reserved quota for
	// the Workload; while False its message says why not.
	WorkloadQuotaReserved = "QuotaReserved"
	// WorkloadAdmitted is True once quota is reserved and every admission
	// check passed; Kueue then unsuspends the job.
	WorkloadAdmitted = "Admitted"
	// WorkloadEvicted is True when Kueue took the admission back (reason
	// Preempted, PodsReadyTimeout, ...); Kueue suspends the job again.
	WorkloadEvicted = "Evicted"
	// WorkloadPreempted is True when the eviction was a preemption (reason
	// InClusterQueue, InCohortReclamation, ...).
	WorkloadPreempted = "Preempted"
	// WorkloadRequeued says whether an evicted Workload is queued again.
	WorkloadRequeued = "Requeued"
	// WorkloadFinished is True once the job finished.
	WorkloadFinished = "Finished"
)

// KueueFrameworks are the job integrations StartKueue enables: the kinds
// our plugins create. kubeflow.org/mpijob is Kueue's integration for the
// MPI Operator's kubeflow.org/v2beta1 MPIJob, not the Training Operator's
// v1 MPIJob that our mpi plugin creates: Kueue defers it forever here (no
// v2beta1 API) and never manages a v1 MPIJob.
var KueueFrameworks = []string{
	"ray.io/rayjob",
	"kubeflow.org/pytorchjob",
	"kubeflow.org/tfjob",
	"kubeflow.org/mpijob",
	"sparkoperator.k8s.io/sparkapplication",
}

// KueueFeatureGates are the feature gates StartKueue passes with
// --feature-gates: the SparkApplication integration is alpha in v0.17 (off
// by default); VisibilityOnDemand (beta, on by default) starts an
// aggregated API server that needs its own serving pair in /visibility and
// an APIService to be of any use, and Kueue exits without the pair.
const KueueFeatureGates = "SparkApplicationIntegration=true,VisibilityOnDemand=false"

// WorkloadGVK is Kueue's Workload at its storage version.
var WorkloadGVK = schema.GroupVersionKind{Group: "kueue.x-k8s.io", Version: "v1beta2", Kind: "Workload"}

// kueueGV is the API group version of the Kueue objects the helpers create.
var kueueGV = schema.GroupVersion{Group: "kueue.x-k8s.io", Version: "v1beta2"}

// kueueMetricsCertDir is where cmd/kueue v0.17 reads its metrics serving
// pair when internal cert management is off (hard-coded; see above).
const kueueMetricsCertDir = "/etc/kueue/metrics/certs"

// kueueReadyTimeout bounds Kueue's start (and each wait of the helpers).
const kueueReadyTimeout = 90 * time.Second

// KueueCRDs returns Kueue's CRDs (Workload, ClusterQueue, LocalQueue,
// ResourceFlavor, WorkloadPriorityClass and the rest: every file in
// config/components/crd/bases, about 1.6 MB of YAML) from dir, the module's
// directory as ToolsModuleDir returns it for KueueTools. A CRD that
// carries a conversion webhook stanza is copied into a directory of t's
// without it, so that the API server never calls a webhook (v0.17's do not
// carry one: kustomize adds it in Kueue's release manifests).
func KueueCRDs(t testing.TB, dir string) []CRDFile {
	t.Helper()
	const bases = "config/components/crd/bases"
	ents, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(bases)))
	if err != nil {
		t.Fatalf("Kueue's CRDs: %v", err)
	}
	var crds []CRDFile
	stripped := ""
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".yaml") {
			continue
		}
		path := bases + "/" + ent.Name()
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			t.Fatalf("Kueue's CRDs: %v", err)
		}
		out, changed, err := withoutConversionWebhook(raw)
		if err != nil {
			t.Fatalf("Kueue's CRD %s: %v", path, err)
		}
		if !changed {
			crds = append(crds, CRDFile{Module: KueueModule, Dir: dir, Path: path})
			continue
		}
		if stripped == "" {
			stripped = t.TempDir()
		}
		if err := os.WriteFile(filepath.Join(stripped, ent.Name()), out, 0o600); err != nil {
			t.Fatal(err)
		}
		crds = append(crds, CRDFile{Module: KueueModule, Dir: stripped, Path: ent.Name()})
	}
	if len(crds) == 0 {
		t.Fatalf("no Kueue CRDs in %s/%s", dir, bases)
	}
	return crds
}

// withoutConversionWebhook drops spec.conversion from a CRD manifest whose
// strategy is Webhook.
func withoutConversionWebhook(raw []byte) ([]byte, bool, error) {
	if !bytes.Contains(raw, []byte("conversion:")) {
		return raw, false, nil
	}
	var crd map[string]any
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		return nil, false, err
	}
	strategy, _, _ := unstructured.NestedString(crd, "spec", "conversion", "strategy")
	if strategy != "Webhook" {
		return raw, false, nil
	}
	unstructured.RemoveNestedField(crd, "spec", "conversion")
	out, err := yaml.Marshal(crd)
	return out, true, err
}

// KueueEnvCRDs are the CRDs StartKueueEnv installs: OperatorCRDs, RayCluster
// (Kueue's RayJob controller watches RayClusters and would not start
// without the kind), the Training Operator's Kubeflow CRDs (trainingDir, as
// ToolsModuleDir returns it for TrainingOperatorTools) and Kueue's own
// (kueueDir, see KueueCRDs).
func KueueEnvCRDs(t testing.TB, trainingDir, kueueDir string) []CRDFile {
	t.Helper()
	crds := slices.Concat(OperatorCRDs, []CRDFile{RayClusterCRD}, KubeflowCRDs(trainingDir))
	return append(crds, KueueCRDs(t, kueueDir)...)
}

// Kueue is a running Kueue controller manager.
type Kueue struct {
	// Logs holds the end of its output (JSON lines).
	Logs *TailBuffer
	// StartDuration is how long it took from the process start to ready
	// (webhook server up; controllers started).
	StartDuration time.Duration
	// Binary is the executable that runs.
	Binary string

	exited chan struct{}
}

// KueueBinary returns the Kueue binary: $FLYTEDIST_KUEUE, else the one
// `make operator-bins` links into <repo>/bin/operators. Missing, it skips
// t, or fails it when RequiredEnvVar is set (make test).
func KueueBinary(t testing.TB) string {
	t.Helper()
	path := os.Getenv(KueueBinaryEnvVar)
	if path == "" {
		dirs, err := lookupModuleDirs(mainModule)
		if err != nil {
			t.Fatalf("locating the repository: %v", err)
		}
		path = filepath.Join(dirs[mainModule], "bin", "operators", "kueue")
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		msg := "no Kueue controller at " + path + " (make operator-bins builds it from hack/operators/kueue)"
		if v := os.Getenv(RequiredEnvVar); v != "" && v != "0" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// StartKueueEnv starts a control plane with KueueEnvCRDs installed (the
// versions hack/operators/training-operator and hack/operators/kueue pin)
// and Kueue against it, both until t ends. It skips t (or fails it, see
// RequiredEnvVar) when a binary is missing.
func StartKueueEnv(t testing.TB) (*Env, *Kueue) {
	t.Helper()
	bin := KueueBinary(t)
	kueueDir, err := ToolsModuleDir(KueueTools, KueueModule)
	if err != nil {
		t.Fatal(err)
	}
	trainingDir, err := ToolsModuleDir(TrainingOperatorTools, TrainingOperatorModule)
	if err != nil {
		t.Fatal(err)
	}
	env := StartWithOptions(t, Options{CRDs: KueueEnvCRDs(t, trainingDir, kueueDir)})
	return env, startKueue(t, env, bin)
}

// StartKueue runs the Kueue binary (KueueBinary) against env until t ends
// (see the comment at the top of this file for how) and returns it once
// ready. env must have Kueue's CRDs installed (KueueEnvCRDs; StartKueueEnv
// does both). Kueue's webhooks are not registered: create jobs suspended,
// with KueueQueueLabel.
func StartKueue(t testing.TB, env *Env) *Kueue {
	t.Helper()
	return startKueue(t, env, KueueBinary(t))
}

func startKueue(t testing.TB, env *Env, bin string) *Kueue {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: KueueNamespace}}
	if err := env.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", KueueNamespace, err)
	}
	ensureKueueMetricsCert(t)

	dir := t.TempDir()
	certDir := filepath.Join(dir, "serving-certs")
	cert, key, err := webhookcert.SelfSignedLoopback("kueue webhook (flytedist tests)")
	if err != nil {
		t.Fatal(err)
	}
	if err := webhookcert.WritePair(certDir, cert, key); err != nil {
		t.Fatal(err)
	}
	webhookPort, probePort := freeLoopbackPort(t), freeLoopbackPort(t)
	cfg := map[string]any{
		"apiVersion":             "config.kueue.x-k8s.io/v1beta2",
		"kind":                   "Configuration",
		"namespace":              KueueNamespace,
		"health":                 map[string]any{"healthProbeBindAddress": "127.0.0.1:" + strconv.Itoa(probePort)},
		"metrics":                map[string]any{"bindAddress": "0"},
		"webhook":                map[string]any{"host": "127.0.0.1", "port": webhookPort, "certDir": certDir},
		"leaderElection":         map[string]any{"leaderElect": false},
		"internalCertManagement": map[string]any{"enable": false},
		"integrations":           map[string]any{"frameworks": KueueFrameworks},
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "kueue-config.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(env, kubeconfig); err != nil {
		t.Fatal(err)
	}

	k := &Kueue{Logs: NewTailBuffer(256 << 10), Binary: bin, exited: make(chan struct{})}
	cmd := exec.Command(bin, "--config="+cfgPath, "--kubeconfig="+kubeconfig,
		"--feature-gates="+KueueFeatureGates, "--zap-log-level=2")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TMPDIR=") || strings.HasPrefix(kv, "KUBECONFIG=")
	}), "TMPDIR="+dir)
	cmd.Stdout, cmd.Stderr = k.Logs, k.Logs
	dieWithParent(cmd)
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Kueue: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		close(k.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-k.exited
	})

	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	readyz := "http://127.0.0.1:" + strconv.Itoa(probePort) + "/readyz"
	k.wait(t, "Kueue to be ready", func() (bool, error) {
		resp, err := hc.Get(readyz)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	k.StartDuration = time.Since(begin).Round(10 * time.Millisecond)
	t.Logf("Kueue (%s) ready in %s", filepath.Base(bin), k.StartDuration)
	return k
}

// ensureKueueMetricsCert puts a throwaway pair at kueueMetricsCertDir
// unless one loads from there already.
func ensureKueueMetricsCert(t testing.TB) {
	t.Helper()
	crt, key := filepath.Join(kueueMetricsCertDir, "tls.crt"), filepath.Join(kueueMetricsCertDir, "tls.key")
	if _, err := tls.LoadX509KeyPair(crt, key); err == nil {
		return
	}
	c, k, err := webhookcert.SelfSignedLoopback("kueue metrics (flytedist tests)")
	if err == nil {
		err = webhookcert.WritePair(kueueMetricsCertDir, c, k)
	}
	if err != nil {
		t.Fatalf("Kueue v0.17 with internal cert management off reads its metrics serving pair from %s "+
			"(hard-coded) and exits without one; writing a throwaway pair there failed: %v", kueueMetricsCertDir, err)
	}
}

// wait polls cond every 200 ms until it holds, failing t with Kueue's log
// when it returns an error, Kueue exits, or kueueReadyTimeout passes.
func (k *Kueue) wait(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(kueueReadyTimeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			t.Fatalf("waiting for %s: %v\n--- Kueue's log ---\n%s", what, err, k.Logs.String())
		}
		select {
		case <-k.exited:
			t.Fatalf("Kueue exited while waiting for %s\n--- its log ---\n%s", what, k.Logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\n--- Kueue's log ---\n%s", kueueReadyTimeout, what, k.Logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitWorkload polls the Workload of the job with UID jobUID in ns until
// cond holds for it, and returns it; it fails t (with Kueue's log) after
// 90 s or if Kueue exits. what says what is awaited.
func (k *Kueue) WaitWorkload(t testing.TB, c client.Reader, ns, jobUID, what string, cond func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
	t.Helper()
	var wl *unstructured.Unstructured
	k.wait(t, what, func() (bool, error) {
		var err error
		wl, err = Workload(context.Background(), c, ns, jobUID)
		return err == nil && wl != nil && cond(wl), err
	})
	return wl
}

// Wait polls cond every 200 ms until it holds, failing t with Kueue's log
// after 90 s, when cond returns an error, or if Kueue exits.
func (k *Kueue) Wait(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	k.wait(t, what, cond)
}

// KueueQueueSet names the Kueue objects KueueQueues creates.
type KueueQueueSet struct {
	// Flavor is the ResourceFlavor (cluster-scoped, no node labels).
	Flavor string
	// ClusterQueue is the ClusterQueue (cluster-scoped).
	ClusterQueue string
	// LocalQueue is the LocalQueue in the namespace: the value of
	// KueueQueueLabel.
	LocalQueue string
	// Low and High are WorkloadPriorityClasses (cluster-scoped, values 100
	// and 1000): values of KueuePriorityClassLabel.
	Low, High string
}

// KueueQueues creates, for the namespace ns: a ResourceFlavor; a
// ClusterQueue admitting jobs from every namespace, whose quota is cpuQuota
// of cpu (e.g. "500m") and 1Ti of memory in that flavor (it covers cpu and
// memory: a job requesting another resource is inadmissible), with
// preemption.withinClusterQueue LowerPriority when preemption is set (else
// Never); a LocalQueue in ns pointing at it; and two WorkloadPriorityClasses.
// Cluster-scoped names start with ns, so tests on one control plane do not
// collide. It waits until Kueue reports the ClusterQueue and LocalQueue
// active. Nothing is deleted at the end (the store goes with the control
// plane).
func KueueQueues(t testing.TB, c client.Client, ns, cpuQuota string, preemption bool) KueueQueueSet {
	t.Helper()
	q := KueueQueueSet{
		Flavor: ns + "-flavor", ClusterQueue: ns + "-cq", LocalQueue: "queue",
		Low: ns + "-low", High: ns + "-high",
	}
	within := "Never"
	if preemption {
		within = "LowerPriority"
	}
	spec := func(fields map[string]any) map[string]any { return map[string]any{"spec": fields} }
	quota := func(res, q string) map[string]any { return map[string]any{"name": res, "nominalQuota": q} }
	objs := []*unstructured.Unstructured{
		kueueObject("ResourceFlavor", "", q.Flavor, spec(map[string]any{})),
		kueueObject("ClusterQueue", "", q.ClusterQueue, spec(map[string]any{
			"namespaceSelector": map[string]any{},
			"resourceGroups": []any{map[string]any{
				"coveredResources": []any{"cpu", "memory"},
				"flavors": []any{map[string]any{
					"name":      q.Flavor,
					"resources": []any{quota("cpu", cpuQuota), quota("memory", "1Ti")},
				}},
			}},
			"preemption": map[string]any{"withinClusterQueue": within},
		})),
		kueueObject("LocalQueue", ns, q.LocalQueue, spec(map[string]any{"clusterQueue": q.ClusterQueue})),
		kueueObject("WorkloadPriorityClass", "", q.Low, map[string]any{"value": int64(100), "description": "low (flytedist tests)"}),
		kueueObject("WorkloadPriorityClass", "", q.High, map[string]any{"value": int64(1000), "description": "high (flytedist tests)"}),
	}
	ctx := context.Background()
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating Kueue %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	deadline := time.Now().Add(kueueReadyTimeout)
	for _, o := range objs[1:3] {
		for {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(o.GroupVersionKind())
			err := c.Get(ctx, client.ObjectKeyFromObject(o), u)
			if err == nil {
				if cond := FindCondition(u, "Active"); cond != nil && cond.Status == metav1.ConditionTrue {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("Kueue did not report %s %s active in %s (get error %v, status %v)", o.GetKind(), o.GetName(), kueueReadyTimeout, err, u.Object["status"])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return q
}

// kueueObject is a kueue.x-k8s.io/v1beta2 object with the given top-level
// fields besides apiVersion, kind and metadata.
func kueueObject(kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(kueueGV.WithKind(kind))
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// Workload returns the Workload Kueue created in ns for the job whose UID
// is jobUID (found by KueueJobUIDLabel), or nil and no error when there is
// none yet. More than one (Kueue replaces a Workload whose job changed) is
// an error.
func Workload(ctx context.Context, c client.Reader, ns, jobUID string) (*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(WorkloadGVK.GroupVersion().WithKind(WorkloadGVK.Kind + "List"))
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{KueueJobUIDLabel: jobUID}); err != nil {
		return nil, err
	}
	switch len(list.Items) {
	case 0:
		return nil, nil
	case 1:
		return &list.Items[0], nil
	default:
		names := make([]string, 0, len(list.Items))
		for _, wl := range list.Items {
			names = append(names, wl.GetName())
		}
		return nil, fmt.Errorf("%d Workloads in %s for job UID %s: %s", len(names), ns, jobUID, strings.Join(names, ", "))
	}
}

// DeleteWorkload deletes the Workload of the job whose UID is jobUID in
// ns, if there is one, playing the garbage collector (none runs here):
// once its job is deleted, Kueue drops its finalizer from the Workload but
// leaves the Workload, with its quota reservation, to the garbage
// collector, so on this control plane a deleted job's quota is never
// released until the Workload goes.
func DeleteWorkload(ctx context.Context, c client.Client, ns, jobUID string) error {
	wl, err := Workload(ctx, c, ns, jobUID)
	if err != nil || wl == nil {
		return err
	}
	return client.IgnoreNotFound(c.Delete(ctx, wl))
}

// FindCondition returns the status condition of type condType of a Kueue
// object (a Workload, ClusterQueue, LocalQueue) read as unstructured, or
// nil if it has none or its conditions do not parse.
func FindCondition(u *unstructured.Unstructured, condType string) *metav1.Condition {
	raw, ok, err := unstructured.NestedSlice(u.Object, "status", "conditions")
	if !ok || err != nil {
		return nil
	}
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok || m["type"] != condType {
			continue
		}
		var cond metav1.Condition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &cond); err != nil {
			return nil
		}
		return &cond
	}
	return nil
}

// ConditionIs reports whether u has a condition of type condType with
// status.
func ConditionIs(u *unstructured.Unstructured, condType string, status metav1.ConditionStatus) bool {
	c := FindCondition(u, condType)
	return c != nil && c.Status == status
}

// DescribeConditions lists u's conditions as "Type=Status (Reason): Message"
// lines, for logs and failure messages.
func DescribeConditions(u *unstructured.Unstructured) string {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var lines []string
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		lines = append(lines, fmt.Sprintf("%v=%v (%v): %v", m["type"], m["status"], m["reason"], m["message"]))
	}
	if len(lines) == 0 {
		return "(no conditions)"
	}
	return strings.Join(lines, "\n")
}

// writeKubeconfig writes a kubeconfig reaching env as its administrator.
func writeKubeconfig(env *Env, path string) error {
	cfg := env.Config
	if cfg == nil {
		return errors.New("control plane has no client config")
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}

// freeLoopbackPort returns a TCP port free on loopback a moment ago.
func freeLoopbackPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

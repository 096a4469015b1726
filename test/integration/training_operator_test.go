package integration_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
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

	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/testenv"
	"github.com/flytedist/flyteplugins/internal/webhookcert"
)

// How the real Kubeflow Training Operator (v1.8.1, pinned in
// hack/operators/training-operator) runs against the bare control plane,
// which has no kubelet, no cert-manager and no in-cluster DNS:
//
//   - The operator always starts open-policy-agent's cert rotator and
//     registers no controller until it reports ready (cmd/training-operator.v1
//     has no flag to turn it off). The rotator needs the Secret
//     training-operator-webhook-cert to exist in $MY_POD_NAMESPACE (we set
//     kubeflow, its default); it fills it with a CA and a cert for
//     training-operator.kubeflow.svc (which nothing here uses), and then
//     waits for the kubelet to mount that Secret at the hard-coded
//     /tmp/k8s-webhook-server/serving-certs/tls.crt — it only checks that
//     the file exists. It also injects its CA into the
//     ValidatingWebhookConfiguration validator.training-operator.kubeflow.org
//     if there is one, and carries on if there is none.
//     So we create the namespace and the empty Secret, and, standing in for
//     the kubelet's mount, put a throwaway self-signed pair at that path if
//     nothing is there yet (it is shared by every run on the machine; we
//     never remove it).
//   - The webhook server (controller-runtime) reads its serving cert from
//     $TMPDIR/k8s-webhook-server/serving-certs, on --webhook-server-port. We
//     run the operator with TMPDIR set to a directory of the test holding a
//     self-signed cert for 127.0.0.1, so concurrent runs do not share it.
//   - We register the operator's own webhooks (PyTorchJob, TFJob; MPIJob has
//     none), read from manifests/base/webhook/manifests.yaml of the pinned
//     module, under another name (so the rotator leaves them alone) and
//     with clientConfig.url https://127.0.0.1:<port>/<path> and our CA in
//     place of the in-cluster Service: with v1.8 the webhooks do the
//     validation (container named pytorch/tensorflow, one master, DNS-1035
//     names, ...), and a test should see an invalid job rejected as in a
//     real cluster.
//   - Flags: --enable-scheme for the three kinds we install CRDs for (the
//     others' controllers would fail to watch), --leader-elect=false,
//     --gang-scheduler-name= (no Volcano / scheduler-plugins PodGroups),
//     --namespace= (all namespaces), metrics off, health probes on a free
//     loopback port (readiness = certs ready and webhook server up).
//
// Nothing else runs: no kubelet (tests move pod phases themselves, saying
// so), no DNS, no garbage collector (owner references are set but deleting
// a job leaves its pods).

// trainingOperatorWebhookConfig is the name of the webhook configuration
// we register: not the rotator's validator.training-operator.kubeflow.org.
const trainingOperatorWebhookConfig = "flytedist-training-operator"

// trainingOperatorSchemes are the kinds the operator reconciles here, in
// the order it sets them up: PyTorchJob last, so that its webhook
// answering means every controller is registered.
var trainingOperatorSchemes = []string{"mpijob", "tfjob", "pytorchjob"}

// trainingOperator is the binary make operator-bins links into
// bin/operators, or $FLYTEDIST_TRAINING_OPERATOR. Missing, the test skips —
// or fails when the control plane is required (make test).
func trainingOperator(t *testing.T) string {
	t.Helper()
	return operatorBinary(t, "training-operator", "FLYTEDIST_TRAINING_OPERATOR", "Kubeflow Training Operator")
}

// trainingOperatorModuleDir is the directory of the Training Operator
// module at the version hack/operators/training-operator pins (the one the
// binary is built from).
func trainingOperatorModuleDir(t *testing.T) string {
	t.Helper()
	dir, err := testenv.ToolsModuleDir(testenv.TrainingOperatorTools, testenv.TrainingOperatorModule)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// startTrainingOperatorEnv starts a control plane with the Training
// Operator's PyTorchJob, TFJob and MPIJob CRDs (of the pinned version) and
// the operator against it, both until the test ends. It returns the
// control plane and the operator's log.
func startTrainingOperatorEnv(t *testing.T) (*testenv.Env, *testenv.TailBuffer) {
	t.Helper()
	operator := trainingOperator(t)
	dir := trainingOperatorModuleDir(t)
	env := testenv.StartWithOptions(t, testenv.Options{CRDs: testenv.KubeflowCRDs(dir)})
	return env, startTrainingOperator(t, env, operator, dir)
}

// startTrainingOperator runs the Training Operator binary against env
// until the test ends, with its webhooks registered (see the comment at the
// top of this file), and returns its log once it reconciles and validates
// jobs. dir is the operator's module directory (trainingOperatorModuleDir),
// for its webhook manifest.
func startTrainingOperator(t *testing.T, env *testenv.Env, operator, dir string) *testenv.TailBuffer {
	t.Helper()
	ctx := context.Background()

	// What the rotator needs: its namespace and its (empty) Secret.
	const operatorNS, secretName = "kubeflow", "training-operator-webhook-cert"
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: operatorNS}},
	} {
		if err := env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}

	// The webhook server's cert, in a TMPDIR of the operator's own.
	caPEM, certPEM, keyPEM := selfSignedServingCert(t)
	tmp := t.TempDir()
	writeServingCert(t, filepath.Join(tmp, "k8s-webhook-server", "serving-certs"), certPEM, keyPEM)
	// The file the rotator waits for (see above); any valid pair will do.
	const rotatorCertDir = "/tmp/k8s-webhook-server/serving-certs"
	if _, err := os.Stat(filepath.Join(rotatorCertDir, "tls.crt")); err != nil {
		writeServingCert(t, rotatorCertDir, certPEM, keyPEM)
	}

	webhookPort, probePort := freePort(t), freePort(t)
	args := []string{
		"--kubeconfig=" + writeKubeconfig(t, env),
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:" + strconv.Itoa(probePort),
		"--webhook-server-port=" + strconv.Itoa(webhookPort),
		"--leader-elect=false",
		"--gang-scheduler-name=",
		"--namespace=",
		"--zap-log-level=info",
	}
	for _, s := range trainingOperatorSchemes {
		args = append(args, "--enable-scheme="+s)
	}
	logs := testenv.NewTailBuffer(256 << 10)
	cmd := exec.Command(operator, args...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TMPDIR=") || strings.HasPrefix(kv, "MY_POD_NAMESPACE=") ||
			strings.HasPrefix(kv, "KUBEFLOW_NAMESPACE=") || strings.HasPrefix(kv, "KUBECONFIG=")
	}), "TMPDIR="+tmp, "MY_POD_NAMESPACE="+operatorNS)
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the Training Operator: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// Ready: certs done and webhook server up (its readiness probe), and
	// the PyTorchJob webhook handler registered (the last scheme set up).
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	probe := func(url string, ok func(int) bool) bool {
		resp, err := hc.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return ok(resp.StatusCode)
	}
	base := "https://127.0.0.1:" + strconv.Itoa(webhookPort)
	waitOperator(t, "the Training Operator to be ready", logs, exited, func() bool {
		return probe("http://127.0.0.1:"+strconv.Itoa(probePort)+"/readyz", func(c int) bool { return c == http.StatusOK }) &&
			probe(base+"/validate-kubeflow-org-v1-pytorchjob", func(c int) bool { return c != http.StatusNotFound })
	})

	// The operator's own webhooks, pointed at it.
	vwc := trainingOperatorWebhooks(t, dir, base, caPEM)
	if err := env.Client.Create(ctx, vwc); err != nil {
		t.Fatalf("registering the Training Operator's webhooks: %v", err)
	}
	// Runs before the operator is killed (cleanups run last-in first-out):
	// a failurePolicy=Fail webhook with no server would reject every later
	// PyTorchJob and TFJob on this control plane.
	t.Cleanup(func() {
		if err := env.Client.Delete(context.Background(), vwc); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("removing the Training Operator's webhooks: %v", err)
		}
	})
	// The API server picks the configuration up asynchronously: wait until
	// it rejects an invalid job (a dry run: nothing is stored).
	invalid := &kubeflowv1.PyTorchJob{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook-probe", Namespace: operatorNS},
		Spec: kubeflowv1.PyTorchJobSpec{PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
			kubeflowv1.PyTorchJobReplicaTypeWorker: replicaSpec(1, "not-pytorch", ""),
		}},
	}
	waitOperator(t, "the API server to call the Training Operator's webhooks", logs, exited, func() bool {
		err := env.Client.Create(ctx, invalid.DeepCopy(), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "validator.pytorchjob.training-operator.kubeflow.org")
	})
	return logs
}

// trainingOperatorWebhooks reads the operator's ValidatingWebhookConfiguration
// from its module (dir) and keeps the webhooks for the kinds enabled here,
// pointed at base (https://127.0.0.1:<port>) and trusting caPEM.
func trainingOperatorWebhooks(t *testing.T, dir, base string, caPEM []byte) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifests", "base", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	from := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict(raw, from); err != nil {
		t.Fatalf("the operator's webhook manifest: %v", err)
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: trainingOperatorWebhookConfig}}
	for _, wh := range from.Webhooks {
		enabled := false
		for _, r := range wh.Rules {
			for _, res := range r.Resources {
				enabled = enabled || slices.Contains(trainingOperatorSchemes, strings.TrimSuffix(res, "s"))
			}
		}
		if !enabled || wh.ClientConfig.Service == nil || wh.ClientConfig.Service.Path == nil {
			continue
		}
		url := base + *wh.ClientConfig.Service.Path
		wh.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM}
		vwc.Webhooks = append(vwc.Webhooks, wh)
	}
	if len(vwc.Webhooks) != 2 {
		t.Fatalf("found %d webhooks for %v in the operator's manifest, want 2 (PyTorchJob, TFJob)", len(vwc.Webhooks), trainingOperatorSchemes)
	}
	return vwc
}

// waitOperator polls cond every 200 ms for a minute, failing the test
// with the operator's log if it does not hold by then or the operator exits.
func waitOperator(t *testing.T, what string, logs *testenv.TailBuffer, exited <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("the Training Operator exited while waiting for %s\n--- its log ---\n%s", what, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n--- the Training Operator's log ---\n%s", what, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// selfSignedServingCert is webhookcert's pair; the certificate is its own CA.
func selfSignedServingCert(t *testing.T) (ca, cert, key []byte) {
	t.Helper()
	cert, key, err := webhookcert.SelfSignedLoopback("training-operator webhook (flytedist tests)")
	if err != nil {
		t.Fatal(err)
	}
	return cert, cert, key
}

func writeServingCert(t *testing.T, dir string, cert, key []byte) {
	t.Helper()
	if err := webhookcert.WritePair(dir, cert, key); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port free on loopback a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// replicaSpec is n replicas of a pod with one container (name; the image
// defaults to a placeholder). An empty restart policy is the operator's
// default.
func replicaSpec(n int32, container string, restart kubeflowv1.RestartPolicy) *kubeflowv1.ReplicaSpec {
	return &kubeflowv1.ReplicaSpec{
		Replicas:      &n,
		RestartPolicy: restart,
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: container, Image: "example.com/train:1", Command: []string{"train"}}},
		}},
	}
}

// TestTrainingOperatorSmoke runs the real Kubeflow Training Operator (see
// the top of this file) and checks, on jobs written by hand, what our
// plugins rely on: the pods and services it creates and their names, the
// environment it derives, and the conditions it reports as the pods move —
// moved by this test, acting as the kubelet (none runs here).
func TestTrainingOperatorSmoke(t *testing.T) {
	env, logs := startTrainingOperatorEnv(t)
	o := &operatorCheck{env: env, logs: logs}

	t.Run("PyTorchJob", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		job := &kubeflowv1.PyTorchJob{
			ObjectMeta: metav1.ObjectMeta{Name: "pt", Namespace: ns},
			Spec: kubeflowv1.PyTorchJobSpec{PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
				kubeflowv1.PyTorchJobReplicaTypeMaster: replicaSpec(1, kubeflowv1.PyTorchJobDefaultContainerName, ""),
				kubeflowv1.PyTorchJobReplicaTypeWorker: replicaSpec(2, kubeflowv1.PyTorchJobDefaultContainerName, ""),
			}},
		}
		o.create(t, job)
		names := []string{"pt-master-0", "pt-worker-0", "pt-worker-1"}
		pods := o.pods(t, ns, names...)
		o.services(t, ns, names...)
		o.condition(t, job, kubeflowv1.JobCreated, "PyTorchJobCreated")
		for i, name := range names {
			env := containerEnv(pods[name], kubeflowv1.PyTorchJobDefaultContainerName)
			want := map[string]string{
				"MASTER_ADDR": "pt-master-0", "MASTER_PORT": "23456",
				"PET_MASTER_ADDR": "pt-master-0", "PET_MASTER_PORT": "23456",
				"WORLD_SIZE": "3", "RANK": strconv.Itoa(i), "PET_NODE_RANK": strconv.Itoa(i),
				"PET_NNODES": "3", "PET_NPROC_PER_NODE": "auto", "PYTHONUNBUFFERED": "1",
			}
			checkEnv(t, name, env, want)
		}
		t.Logf("worker init containers: %v", containerNames(pods["pt-worker-0"].Spec.InitContainers))
		t.Logf("pt-master-0: labels %v, restartPolicy %s, owner %+v", pods["pt-master-0"].Labels,
			pods["pt-master-0"].Spec.RestartPolicy, pods["pt-master-0"].OwnerReferences)

		o.kubelet(t, ns, names, corev1.PodRunning)
		got := o.condition(t, job, kubeflowv1.JobRunning, "PyTorchJobRunning")
		if got.StartTime == nil {
			t.Error("Running, but no status.startTime")
		}
		o.kubelet(t, ns, names, corev1.PodSucceeded)
		got = o.condition(t, job, kubeflowv1.JobSucceeded, "PyTorchJobSucceeded")
		if got.CompletionTime == nil {
			t.Error("Succeeded, but no status.completionTime")
		}
		o.logStatus(t, job)
	})

	t.Run("ElasticPyTorchJob", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		minR, maxR, restarts := int32(1), int32(2), int32(3)
		backend, nproc := kubeflowv1.BackendC10D, "2"
		job := &kubeflowv1.PyTorchJob{
			ObjectMeta: metav1.ObjectMeta{Name: "elastic", Namespace: ns},
			Spec: kubeflowv1.PyTorchJobSpec{
				ElasticPolicy: &kubeflowv1.ElasticPolicy{MinReplicas: &minR, MaxReplicas: &maxR, RDZVBackend: &backend, MaxRestarts: &restarts},
				NprocPerNode:  &nproc,
				PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
					kubeflowv1.PyTorchJobReplicaTypeWorker: replicaSpec(2, kubeflowv1.PyTorchJobDefaultContainerName, ""),
				},
			},
		}
		o.create(t, job)
		names := []string{"elastic-worker-0", "elastic-worker-1"}
		pods := o.pods(t, ns, names...)
		o.services(t, ns, names...)
		for _, name := range names {
			env := containerEnv(pods[name], kubeflowv1.PyTorchJobDefaultContainerName)
			checkEnv(t, name, env, map[string]string{
				"PET_RDZV_ENDPOINT": "elastic-worker-0:23456", "PET_RDZV_BACKEND": "c10d",
				"PET_NNODES": "1:2", "PET_MAX_RESTARTS": "3", "PET_NPROC_PER_NODE": "2",
			})
			for _, absent := range []string{"MASTER_ADDR", "WORLD_SIZE", "RANK"} {
				if _, ok := env[absent]; ok {
					t.Errorf("%s: %s=%q set for an elastic job (no master)", name, absent, env[absent])
				}
			}
			t.Logf("%s env: %v", name, env)
		}
		o.kubelet(t, ns, names, corev1.PodRunning)
		o.condition(t, job, kubeflowv1.JobRunning, "PyTorchJobRunning")
		// Elastic: one worker finishing ends the job.
		o.kubelet(t, ns, names[:1], corev1.PodSucceeded)
		o.condition(t, job, kubeflowv1.JobSucceeded, "PyTorchJobSucceeded")
		o.logStatus(t, job)
	})

	t.Run("TFJob", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		c := kubeflowv1.TFJobDefaultContainerName
		job := &kubeflowv1.TFJob{
			ObjectMeta: metav1.ObjectMeta{Name: "tf", Namespace: ns},
			Spec: kubeflowv1.TFJobSpec{TFReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
				kubeflowv1.TFJobReplicaTypeChief:  replicaSpec(1, c, ""),
				kubeflowv1.TFJobReplicaTypePS:     replicaSpec(1, c, ""),
				kubeflowv1.TFJobReplicaTypeWorker: replicaSpec(2, c, ""),
				kubeflowv1.TFJobReplicaTypeEval:   replicaSpec(1, c, ""),
			}},
		}
		o.create(t, job)
		names := []string{"tf-chief-0", "tf-ps-0", "tf-worker-0", "tf-worker-1", "tf-evaluator-0"}
		pods := o.pods(t, ns, names...)
		o.services(t, ns, names...)
		o.condition(t, job, kubeflowv1.JobCreated, "TFJobCreated")
		svc := func(n string) string { return n + "." + ns + ".svc:2222" }
		wantCluster := map[string][]string{
			"chief": {svc("tf-chief-0")}, "ps": {svc("tf-ps-0")},
			"worker": {svc("tf-worker-0"), svc("tf-worker-1")}, "evaluator": {svc("tf-evaluator-0")},
		}
		for _, name := range names {
			raw := containerEnv(pods[name], c)["TF_CONFIG"]
			var cfg struct {
				Cluster map[string][]string `json:"cluster"`
				Task    struct {
					Type  string `json:"type"`
					Index int    `json:"index"`
				} `json:"task"`
				Environment string `json:"environment"`
			}
			if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Errorf("%s: TF_CONFIG %q: %v", name, raw, err)
				continue
			}
			rtype, idx, _ := strings.Cut(strings.TrimPrefix(name, "tf-"), "-")
			if cfg.Task.Type != rtype || strconv.Itoa(cfg.Task.Index) != idx || cfg.Environment != "cloud" || !mapsEqual(cfg.Cluster, wantCluster) {
				t.Errorf("%s: TF_CONFIG %s; want task %s/%s, environment cloud, cluster %v", name, raw, rtype, idx, wantCluster)
			}
		}
		t.Logf("tf-worker-1 TF_CONFIG: %s", containerEnv(pods["tf-worker-1"], c)["TF_CONFIG"])

		o.kubelet(t, ns, names, corev1.PodRunning)
		o.condition(t, job, kubeflowv1.JobRunning, "TFJobRunning")
		// With a chief, the chief finishing ends the job.
		o.kubelet(t, ns, names[:1], corev1.PodSucceeded)
		o.condition(t, job, kubeflowv1.JobSucceeded, "TFJobSucceeded")
		o.logStatus(t, job)
	})

	t.Run("MPIJob", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		slots := int32(2)
		job := &kubeflowv1.MPIJob{
			ObjectMeta: metav1.ObjectMeta{Name: "mpi", Namespace: ns},
			Spec: kubeflowv1.MPIJobSpec{SlotsPerWorker: &slots, MPIReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
				kubeflowv1.MPIJobReplicaTypeLauncher: replicaSpec(1, "mpi", ""),
				kubeflowv1.MPIJobReplicaTypeWorker:   replicaSpec(2, "mpi", ""),
			}},
		}
		o.create(t, job)
		names := []string{"mpi-launcher", "mpi-worker-0", "mpi-worker-1"}
		pods := o.pods(t, ns, names...)
		o.condition(t, job, kubeflowv1.JobCreated, "MPIJobCreated")
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "mpi-config"}, cm); err != nil {
			t.Fatalf("the hostfile ConfigMap: %v", err)
		}
		if want := "mpi-worker-0 slots=2\nmpi-worker-1 slots=2\n"; cm.Data["hostfile"] != want {
			t.Errorf("hostfile %q, want %q", cm.Data["hostfile"], want)
		}
		t.Logf("mpi-config keys: %v", mapKeys(cm.Data))
		for _, obj := range []client.Object{&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}} {
			if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "mpi-launcher"}, obj); err != nil {
				t.Errorf("the launcher's %T: %v", obj, err)
			}
		}
		launcher := pods["mpi-launcher"]
		checkEnv(t, "mpi-launcher", containerEnv(launcher, "mpi"), map[string]string{
			"OMPI_MCA_plm_rsh_agent": "/etc/mpi/kubexec.sh", "OMPI_MCA_orte_default_hostfile": "/etc/mpi/hostfile",
		})
		if launcher.Spec.ServiceAccountName != "mpi-launcher" {
			t.Errorf("launcher service account %q, want mpi-launcher", launcher.Spec.ServiceAccountName)
		}
		t.Logf("launcher init containers: %v; services: %v", containerNames(launcher.Spec.InitContainers), o.serviceNames(t, ns))

		o.kubelet(t, ns, names, corev1.PodRunning)
		o.condition(t, job, kubeflowv1.JobRunning, "MPIJobRunning")
		o.kubelet(t, ns, names[:1], corev1.PodSucceeded)
		o.condition(t, job, kubeflowv1.JobSucceeded, "MPIJobSucceeded")
		o.logStatus(t, job)
	})

	t.Run("PyTorchJobFailed", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		job := &kubeflowv1.PyTorchJob{
			ObjectMeta: metav1.ObjectMeta{Name: "pt", Namespace: ns},
			Spec: kubeflowv1.PyTorchJobSpec{PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
				kubeflowv1.PyTorchJobReplicaTypeMaster: replicaSpec(1, kubeflowv1.PyTorchJobDefaultContainerName, kubeflowv1.RestartPolicyNever),
				kubeflowv1.PyTorchJobReplicaTypeWorker: replicaSpec(2, kubeflowv1.PyTorchJobDefaultContainerName, kubeflowv1.RestartPolicyNever),
			}},
		}
		o.create(t, job)
		names := []string{"pt-master-0", "pt-worker-0", "pt-worker-1"}
		o.pods(t, ns, names...)
		o.kubelet(t, ns, names, corev1.PodRunning)
		o.condition(t, job, kubeflowv1.JobRunning, "PyTorchJobRunning")
		o.kubelet(t, ns, names[2:], corev1.PodFailed)
		got := o.condition(t, job, kubeflowv1.JobFailed, "PyTorchJobFailed")
		if c := findCondition(got, kubeflowv1.JobFailed); !strings.Contains(c.Message, "1 Worker replica(s) failed") {
			t.Errorf("Failed message %q, want it to name the failed worker", c.Message)
		}
		o.logStatus(t, job)
	})

	t.Run("MPIJobFailed", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		job := &kubeflowv1.MPIJob{
			ObjectMeta: metav1.ObjectMeta{Name: "mpi", Namespace: ns},
			Spec: kubeflowv1.MPIJobSpec{MPIReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
				kubeflowv1.MPIJobReplicaTypeLauncher: replicaSpec(1, "mpi", kubeflowv1.RestartPolicyNever),
				kubeflowv1.MPIJobReplicaTypeWorker:   replicaSpec(1, "mpi", kubeflowv1.RestartPolicyNever),
			}},
		}
		o.create(t, job)
		names := []string{"mpi-launcher", "mpi-worker-0"}
		o.pods(t, ns, names...)
		o.kubelet(t, ns, names, corev1.PodRunning)
		o.condition(t, job, kubeflowv1.JobRunning, "MPIJobRunning")
		o.kubelet(t, ns, names[:1], corev1.PodFailed)
		// Sic: v1.8's MPI controller prefixes the kind twice
		// (NewReason(kind, NewReason(kind, "Failed"))).
		got := o.condition(t, job, kubeflowv1.JobFailed, "MPIJobMPIJobFailed")
		if c := findCondition(got, kubeflowv1.JobFailed); !strings.Contains(c.Message, "1 Launcher replica(s) failed") {
			t.Errorf("Failed message %q, want it to name the failed launcher", c.Message)
		}
		o.logStatus(t, job)
	})

	t.Run("Suspended", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		suspend := true
		job := &kubeflowv1.PyTorchJob{
			ObjectMeta: metav1.ObjectMeta{Name: "held", Namespace: ns},
			Spec: kubeflowv1.PyTorchJobSpec{
				RunPolicy: kubeflowv1.RunPolicy{Suspend: &suspend},
				PyTorchReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
					kubeflowv1.PyTorchJobReplicaTypeMaster: replicaSpec(1, kubeflowv1.PyTorchJobDefaultContainerName, ""),
				},
			},
		}
		o.create(t, job)
		got := o.condition(t, job, kubeflowv1.JobSuspended, "PyTorchJobSuspended")
		t.Logf("suspended: startTime %v", got.StartTime)
		if pods := o.podNames(t, ns); len(pods) != 0 {
			t.Errorf("a suspended job has pods %v", pods)
		}
		o.logStatus(t, job)

		// Resume, as Kueue does on admission.
		if err := env.Client.Patch(context.Background(), job, client.RawPatch("application/merge-patch+json",
			[]byte(`{"spec":{"runPolicy":{"suspend":false}}}`))); err != nil {
			t.Fatal(err)
		}
		o.pods(t, ns, "held-master-0")
		got = o.conditionStatus(t, job, kubeflowv1.JobSuspended, corev1.ConditionFalse, "PyTorchJobResumed")
		if got.StartTime == nil {
			t.Error("resumed, but no status.startTime")
		}
		o.logStatus(t, job)
	})

	t.Run("WebhookRejectsInvalid", func(t *testing.T) {
		t.Parallel()
		ns := env.NewNamespace(t)
		job := &kubeflowv1.TFJob{
			ObjectMeta: metav1.ObjectMeta{Name: "tf", Namespace: ns},
			Spec: kubeflowv1.TFJobSpec{TFReplicaSpecs: map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec{
				kubeflowv1.TFJobReplicaTypeWorker: replicaSpec(1, "main", ""),
			}},
		}
		err := env.Client.Create(context.Background(), job)
		if err == nil || !strings.Contains(err.Error(), "must have at least one container with name tensorflow") {
			t.Fatalf("creating a TFJob without a tensorflow container: %v; want the operator's webhook to reject it", err)
		}
		t.Logf("rejected: %v", err)
	})
}

// operatorCheck reads what the operator did, failing with its log.
type operatorCheck struct {
	env  *testenv.Env
	logs *testenv.TailBuffer
}

func (o *operatorCheck) create(t *testing.T, job client.Object) {
	t.Helper()
	if err := o.env.Client.Create(context.Background(), job); err != nil {
		t.Fatalf("creating %s: %v", job.GetName(), err)
	}
}

// wait polls cond every 200 ms for a minute.
func (o *operatorCheck) wait(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last seen: %s\n--- the Training Operator's log ---\n%s", what, state, o.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pods waits for the named pods in ns and returns them by name.
func (o *operatorCheck) pods(t *testing.T, ns string, names ...string) map[string]*corev1.Pod {
	t.Helper()
	got := map[string]*corev1.Pod{}
	o.wait(t, fmt.Sprintf("pods %v", names), func() (bool, string) {
		list := &corev1.PodList{}
		if err := o.env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		clear(got)
		for i := range list.Items {
			got[list.Items[i].Name] = &list.Items[i]
		}
		for _, n := range names {
			if got[n] == nil {
				return false, fmt.Sprintf("pods %v", mapKeys(got))
			}
		}
		return true, ""
	})
	if len(got) != len(names) {
		t.Errorf("pods %v, want exactly %v", mapKeys(got), names)
	}
	return got
}

func (o *operatorCheck) podNames(t *testing.T, ns string) []string {
	t.Helper()
	list := &corev1.PodList{}
	if err := o.env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	return names
}

func (o *operatorCheck) serviceNames(t *testing.T, ns string) []string {
	t.Helper()
	list := &corev1.ServiceList{}
	if err := o.env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list.Items {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// services waits for exactly the named services in ns.
func (o *operatorCheck) services(t *testing.T, ns string, names ...string) {
	t.Helper()
	want := slices.Sorted(slices.Values(names))
	o.wait(t, fmt.Sprintf("services %v", want), func() (bool, string) {
		got := o.serviceNames(t, ns)
		return slices.Equal(got, want), fmt.Sprintf("services %v", got)
	})
}

// status reads job's status.
func (o *operatorCheck) status(t *testing.T, job client.Object) *kubeflowv1.JobStatus {
	t.Helper()
	if err := o.env.Client.Get(context.Background(), client.ObjectKeyFromObject(job), job); err != nil {
		t.Fatal(err)
	}
	switch j := job.(type) {
	case *kubeflowv1.PyTorchJob:
		return &j.Status
	case *kubeflowv1.TFJob:
		return &j.Status
	case *kubeflowv1.MPIJob:
		return &j.Status
	}
	t.Fatalf("no status for %T", job)
	return nil
}

// condition waits until job has condition ct True with reason, and returns
// the status it saw.
func (o *operatorCheck) condition(t *testing.T, job client.Object, ct kubeflowv1.JobConditionType, reason string) *kubeflowv1.JobStatus {
	t.Helper()
	return o.conditionStatus(t, job, ct, corev1.ConditionTrue, reason)
}

// conditionStatus waits until job has condition ct with status and reason,
// and returns the status it saw.
func (o *operatorCheck) conditionStatus(t *testing.T, job client.Object, ct kubeflowv1.JobConditionType, status corev1.ConditionStatus, reason string) *kubeflowv1.JobStatus {
	t.Helper()
	var st *kubeflowv1.JobStatus
	o.wait(t, fmt.Sprintf("%s condition %s=%s (reason %s)", job.GetName(), ct, status, reason), func() (bool, string) {
		st = o.status(t, job)
		c := findCondition(st, ct)
		return c != nil && c.Status == status && c.Reason == reason, fmt.Sprintf("conditions %s", conditionsString(st))
	})
	return st
}

// logStatus logs job's conditions, start and completion time: what the
// operator reported, for the record.
func (o *operatorCheck) logStatus(t *testing.T, job client.Object) {
	t.Helper()
	st := o.status(t, job)
	t.Logf("%s: startTime %v, completionTime %v, conditions %s", job.GetName(), st.StartTime, st.CompletionTime, conditionsString(st))
}

// kubelet does what the kubelet would, which does not run here: it moves
// the named pods to phase, with container statuses to match (running, or
// terminated with exit code 0 for Succeeded and 1 for Failed).
func (o *operatorCheck) kubelet(t *testing.T, ns string, names []string, phase corev1.PodPhase) {
	t.Helper()
	for _, name := range names {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			p := &corev1.Pod{}
			if err := o.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
				return err
			}
			now := metav1.Now()
			p.Status.Phase = phase
			p.Status.PodIP = "10.0.0.1"
			p.Status.StartTime = &now
			ready := corev1.ConditionFalse
			p.Status.ContainerStatuses = nil
			for _, c := range p.Spec.Containers {
				cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr(phase == corev1.PodRunning)}
				switch phase {
				case corev1.PodRunning:
					ready = corev1.ConditionTrue
					cs.Ready = true
					cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
				case corev1.PodSucceeded, corev1.PodFailed:
					code := int32(0)
					reason := "Completed"
					if phase == corev1.PodFailed {
						code, reason = 1, "Error"
					}
					cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: now, FinishedAt: now}
				}
				p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs)
			}
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: now}}
			return o.env.Client.Status().Update(context.Background(), p)
		})
		if err != nil {
			t.Fatalf("acting as the kubelet, moving pod %s to %s: %v", name, phase, err)
		}
	}
}

func findCondition(st *kubeflowv1.JobStatus, ct kubeflowv1.JobConditionType) *kubeflowv1.JobCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == ct {
			return &st.Conditions[i]
		}
	}
	return nil
}

func conditionsString(st *kubeflowv1.JobStatus) string {
	var parts []string
	for _, c := range st.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s(%s: %q)", c.Type, c.Status, c.Reason, c.Message))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// containerEnv is the literal env of pod's container name.
func containerEnv(pod *corev1.Pod, name string) map[string]string {
	env := map[string]string{}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			for _, v := range c.Env {
				env[v.Name] = v.Value
			}
		}
	}
	return env
}

func checkEnv(t *testing.T, pod string, env, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s: %s=%q (set: %v), want %q", pod, k, got, ok, v)
		}
	}
}

func containerNames(cs []corev1.Container) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

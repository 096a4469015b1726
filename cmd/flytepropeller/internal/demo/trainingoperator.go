package demo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"debug/buildinfo"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flytedist/flyteplugins/internal/webhookcert"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// The real Kubeflow Training Operator (cmd/training-operator.v1, built by
// `make operator-bins` from hack/operators/training-operator) runs against
// the local control plane, which has no kubelet, no cert-manager and no
// in-cluster DNS. What it needs there (worked out in
// test/integration/training_operator_test.go):
//
//   - Its cert rotator runs unconditionally and no controller is registered
//     until it is ready: it needs the Secret training-operator-webhook-cert
//     in $MY_POD_NAMESPACE (kubeflow), fills it, and then waits for the
//     kubelet to mount it at the hard-coded
//     /tmp/k8s-webhook-server/serving-certs/tls.crt (it only checks that
//     the file exists). Standing in for that mount, the demo writes a
//     throwaway self-signed pair there if nothing is there yet (shared by
//     every run on the machine; never removed).
//   - The webhook server reads its serving cert from
//     $TMPDIR/k8s-webhook-server/serving-certs: the demo gives the operator
//     a TMPDIR of its own with a self-signed cert for 127.0.0.1.
//   - Flags: only the pytorchjob scheme (the only Kubeflow CRD the demo
//     installs), no leader election, no gang scheduler, all namespaces,
//     metrics off, health probes on a free loopback port.
//
// Its validating webhooks are not registered with the API server (the demo
// does not need them). No kubelet runs, so the demo moves the pods the
// operator creates itself (kubeletStandIn), saying so.

// trainingOperatorNamespace is the operator's own namespace (its
// MY_POD_NAMESPACE), where the cert rotator keeps its Secret.
const (
	trainingOperatorNamespace = "kubeflow"
	trainingOperatorSecret    = "training-operator-webhook-cert" // #nosec G101 -- a Secret's name
	// rotatorCertDir is where the rotator waits for the kubelet's mount.
	rotatorCertDir = "/tmp/k8s-webhook-server/serving-certs"
)

// trainingOperatorVersion is the Training Operator version the binary was
// built from (its Go build info), or "" if unknown.
func trainingOperatorVersion(binary string) string {
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return ""
	}
	if bi.Main.Path == TrainingOperatorModule && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == TrainingOperatorModule {
			return d.Version
		}
	}
	return ""
}

// TrainingOperatorModule is the Kubeflow Training Operator's Go module: it
// ships the PyTorchJob CRD and the binary's main package.
const TrainingOperatorModule = "github.com/kubeflow/training-operator"

// startTrainingOperator runs the Training Operator binary against the
// cluster c (kubeconfig is the same, as a file) until the returned stop is
// called, and waits until it is ready (certs done, webhook server up and
// the PyTorchJob handlers registered). dir is its own directory.
func startTrainingOperator(ctx context.Context, sp *spawner, binary string, c *clients, kubeconfig, dir string, out io.Writer) (stop func(), err error) {
	stop = func() {}
	if binary == "" {
		return stop, fmt.Errorf("no Kubeflow Training Operator binary given: run `make operator-bins` (builds it into bin/operators/training-operator)")
	}
	if fi, err := os.Stat(binary); err != nil || fi.IsDir() {
		return stop, fmt.Errorf("the Kubeflow Training Operator binary %s is missing: run `make operator-bins` (builds the version hack/operators/training-operator pins into bin/operators)", binary)
	}
	// What the cert rotator needs: its namespace and its (empty) Secret.
	if _, err := ensureNamespace(ctx, c, trainingOperatorNamespace); err != nil {
		return stop, fmt.Errorf("namespace %s: %w", trainingOperatorNamespace, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: trainingOperatorSecret, Namespace: trainingOperatorNamespace}}
	if _, err := c.kube.CoreV1().Secrets(trainingOperatorNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return stop, fmt.Errorf("the operator's webhook Secret: %w", err)
	}

	certPEM, keyPEM, err := webhookcert.SelfSignedLoopback("training-operator webhook (flytedist demo)")
	if err != nil {
		return stop, err
	}
	tmp := filepath.Join(dir, "tmp")
	if err := webhookcert.WritePair(filepath.Join(tmp, "k8s-webhook-server", "serving-certs"), certPEM, keyPEM); err != nil {
		return stop, err
	}
	// Standing in for the kubelet's mount of the Secret (see above).
	if _, err := os.Stat(filepath.Join(rotatorCertDir, "tls.crt")); err != nil {
		if err := webhookcert.WritePair(rotatorCertDir, certPEM, keyPEM); err != nil {
			return stop, err
		}
	}

	ports, err := freePorts(2)
	if err != nil {
		return stop, err
	}
	webhookPort, probePort := ports[0], ports[1]
	p, err := sp.start("training-operator", []string{
		binary,
		"--kubeconfig=" + kubeconfig,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:" + strconv.Itoa(probePort),
		"--webhook-server-port=" + strconv.Itoa(webhookPort),
		"--leader-elect=false",
		"--gang-scheduler-name=",
		"--namespace=",
		"--enable-scheme=pytorchjob",
		"--zap-log-level=info",
	}, []string{
		// Later entries win over the demo's own environment.
		"TMPDIR=" + tmp, "MY_POD_NAMESPACE=" + trainingOperatorNamespace, "KUBEFLOW_NAMESPACE=", "KUBECONFIG=",
	}, filepath.Join(dir, "training-operator.log"))
	if err != nil {
		return stop, err
	}
	stop = func() { p.stop(10 * time.Second) }

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	probe := func(url string, ok func(int) bool) bool { return probeHTTP(hc, url, ok) }
	readyz := "http://127.0.0.1:" + strconv.Itoa(probePort) + "/readyz"
	// The PyTorchJob webhook handler is registered with its controller.
	handler := "https://127.0.0.1:" + strconv.Itoa(webhookPort) + "/validate-kubeflow-org-v1-pytorchjob"
	if err := waitFor(ctx, 90*time.Second, p, func() bool {
		return probe(readyz, func(c int) bool { return c == http.StatusOK }) &&
			probe(handler, func(c int) bool { return c != http.StatusNotFound })
	}); err != nil {
		return stop, fmt.Errorf("the Kubeflow Training Operator: %w", err)
	}
	fmt.Fprintf(out, "    ready; log: %s\n", p.logPath)
	return stop, nil
}

// probeHTTP reports whether a GET of url (on loopback) answers with a
// status ok accepts.
func probeHTTP(hc *http.Client, url string, ok func(int) bool) bool {
	resp, err := hc.Get(url) // #nosec G107 -- loopback
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return ok(resp.StatusCode)
}

// kubeletStandIn does for the Training Operator's pods what the kubelet
// would (none runs on the local control plane): it moves each pod of a
// PyTorchJob of the execution from Pending to Running and, a few seconds
// later, to Succeeded, through the pods' status subresource, saying so.
// Workers finish before the master, as in a job whose master waits for
// them.
type kubeletStandIn struct {
	c         *clients
	namespace string // all namespaces if empty
	prefix    string // the PyTorchJobs' names start with it
	label     string // for the output
	actor     string // who acts as the kubelet, for the output; "the demo" if empty
	out       io.Writer
	start     time.Time

	mu   sync.Mutex
	seen map[string]bool // namespace/name
}

// kubeletRunning and kubeletSucceeded are how long after the pod appears
// the stand-in reports it Running, then Succeeded.
const (
	kubeletRunning   = time.Second
	kubeletSucceeded = 3 * time.Second
)

// run watches the pods until ctx ends.
func (k *kubeletStandIn) run(ctx context.Context, wg *sync.WaitGroup) error {
	k.seen = map[string]bool{}
	wi, err := k.c.kube.CoreV1().Pods(k.namespace).Watch(ctx, metav1.ListOptions{LabelSelector: kubeflowv1.JobNameLabel})
	if err != nil {
		return fmt.Errorf("watching the Training Operator's pods: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer wi.Stop()
		for ev := range wi.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type != watch.Added || !strings.HasPrefix(pod.Labels[kubeflowv1.JobNameLabel], k.prefix) {
				continue
			}
			key := pod.Namespace + "/" + pod.Name
			k.mu.Lock()
			dup := k.seen[key]
			k.seen[key] = true
			k.mu.Unlock()
			if dup || pod.Status.Phase != corev1.PodPending {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				k.play(ctx, pod.Namespace, pod.Name, pod.Labels[kubeflowv1.ReplicaTypeLabel])
			}()
		}
	}()
	return nil
}

// play moves one pod to Running, then to Succeeded.
func (k *kubeletStandIn) play(ctx context.Context, namespace, name, replicaType string) {
	finish := kubeletSucceeded
	if replicaType == strings.ToLower(string(kubeflowv1.PyTorchJobReplicaTypeMaster)) {
		finish += time.Second
	}
	for _, s := range []struct {
		after time.Duration
		phase corev1.PodPhase
	}{{kubeletRunning, corev1.PodRunning}, {finish, corev1.PodSucceeded}} {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.after):
		}
		err := retryOnConflict(ctx, func() error {
			p, err := k.c.kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			setPodPhase(p, s.phase, metav1.Now())
			_, err = k.c.kube.CoreV1().Pods(namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			if ctx.Err() == nil && !apierrors.IsNotFound(err) {
				k.logf("pod %s: could not set phase %s: %v", name, s.phase, err)
			}
			return
		}
		from := corev1.PodPending
		if s.phase == corev1.PodSucceeded {
			from = corev1.PodRunning
		}
		actor := k.actor
		if actor == "" {
			actor = "the demo"
		}
		k.logf("pod %s: %s -> %s (%s, acting as the kubelet: no kubelet runs here)", name, from, s.phase, actor)
	}
}

func (k *kubeletStandIn) logf(format string, args ...any) {
	fmt.Fprintf(k.out, "  %6.1fs  %-10s %s\n", time.Since(k.start).Seconds(), k.label, fmt.Sprintf(format, args...))
}

// setPodPhase sets the status the kubelet reports for a pod in phase:
// containers running (and ready), or terminated with exit code 0.
func setPodPhase(p *corev1.Pod, phase corev1.PodPhase, now metav1.Time) {
	p.Status.Phase = phase
	p.Status.PodIP = "10.0.0.1"
	p.Status.HostIP = "127.0.0.1"
	if p.Status.StartTime == nil {
		p.Status.StartTime = &now
	}
	ready := corev1.ConditionFalse
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		started := phase == corev1.PodRunning
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: &started}
		switch phase {
		case corev1.PodRunning:
			ready = corev1.ConditionTrue
			cs.Ready = true
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
		case corev1.PodSucceeded:
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: *p.Status.StartTime, FinishedAt: now}
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs)
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: now}}
}

package integration_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/internal/testenv"
)

// kuberayModule is the operator's module; hack/operators pins its version
// and builds it (make operator-bins).
const kuberayModule = "github.com/ray-project/kuberay/ray-operator"

// TestRayJobReconciledByKubeRay runs the real KubeRay operator (built from
// hack/operators, with the CRDs of that same version) against a control
// plane of its own, and a Ray task through propeller's k8s plugin manager:
// KubeRay must accept the RayJob our plugin builds (its validation fails
// a job it cannot run with ValidationFailed), build the RayCluster, its
// pods and the submitter from it, and report the status our plugin maps.
//
// No kubelet runs here, so this test acts as one: it marks the pods
// KubeRay created Running and Ready. No Ray runs in them either, so the
// job goes no further than Running; abort then deletes the RayJob through
// KubeRay's own finalizer.
func TestRayJobReconciledByKubeRay(t *testing.T) {
	operator := kuberayOperator(t)
	dir, err := testenv.ToolsModuleDir("hack/operators", kuberayModule)
	if err != nil {
		t.Fatal(err)
	}
	var crds []testenv.CRDFile
	for _, kind := range []string{"rayjobs", "rayclusters", "rayservices"} {
		crds = append(crds, testenv.CRDFile{Module: kuberayModule, Dir: dir, Path: "config/crd/bases/ray.io_" + kind + ".yaml"})
	}
	env := testenv.StartWithOptions(t, testenv.Options{CRDs: crds})
	logs := startKubeRay(t, env, operator)

	h := newHarnessOn(t, env)
	e := h.newExecution(t, "ray", rayTask(t, twoWorkerRayJob()))
	ns := e.key().Namespace
	check(t, "launch", e.handle(), round{phase: pluginsCore.PhaseQueued, reason: "task submitted to K8s"})

	// KubeRay validates the job, creates its cluster and reports it.
	tr := e.until(t, pluginsCore.PhaseInitializing, logs)
	rj := &rayv1.RayJob{}
	e.typed(rj)
	if rj.Status.RayClusterName == "" || rj.Status.JobId == "" {
		t.Fatalf("KubeRay reported no cluster or job ID: %+v", rj.Status)
	}
	if !strings.Contains(reasonOf(tr.Info()), "cluster is creating") {
		t.Errorf("reason %q, want the cluster being created", reasonOf(tr.Info()))
	}

	// The pods KubeRay builds from our templates: a head and two workers.
	pods := &corev1.PodList{}
	deadline := time.Now().Add(time.Minute)
	for {
		if err := env.Client.List(context.Background(), pods, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var heads, workers int
	for i := range pods.Items {
		p := &pods.Items[i]
		c := p.Spec.Containers[0]
		switch p.Labels["ray.io/node-type"] {
		case "head":
			heads++
			if c.Name != "ray-head" || !hasEnv(c.Env, "MY_POD_IP") {
				t.Errorf("head pod %s: container %q, env %v; want ray-head with MY_POD_IP", p.Name, c.Name, c.Env)
			}
		case "worker":
			workers++
			if c.Name != "ray-worker" || !hasEnv(c.Env, "MEMORY_LIMITS") || c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
				t.Errorf("worker pod %s: container %q; want ray-worker with MEMORY_LIMITS and a preStop", p.Name, c.Name)
			}
		}
	}
	if heads != 1 || workers != 2 {
		t.Fatalf("KubeRay created %d head and %d worker pods, want 1 and 2", heads, workers)
	}

	// Acting as the kubelet: the pods start.
	for i := range pods.Items {
		p := &pods.Items[i]
		p.Status = corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.0." + string(rune('2'+i)),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		}
		if err := env.Client.Status().Update(context.Background(), p); err != nil {
			t.Fatalf("marking pod %s running: %v", p.Name, err)
		}
	}

	// The cluster is ready: KubeRay submits the job with the submitter pod
	// we built (a small pod of its own, not a copy of the task's).
	e.until(t, pluginsCore.PhaseRunning, logs)
	jobs := &batchv1.JobList{}
	if err := env.Client.List(context.Background(), jobs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 {
		t.Fatalf("KubeRay created %d submitter jobs, want 1", len(jobs.Items))
	}
	sub := jobs.Items[0].Spec.Template.Spec
	if len(sub.Containers) == 0 || sub.Containers[0].Resources.Limits.Cpu().String() != "1" {
		t.Errorf("submitter pod %+v: want our submitter template (1 cpu limit)", sub.Containers)
	}

	// Abort and finalize, as propeller does: the manager deletes the RayJob
	// and drops its own finalizer; KubeRay's finalizer then lets it go.
	e.abort()
	// KubeRay writes the RayJob too, so the manager's finalizer update can
	// meet a stale copy and fail; propeller then retries the next round.
	deadline = time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := e.mgr.Finalize(ctx, e.tCtx())
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Finalize kept failing: %+v", err)
		}
		t.Logf("Finalize: %+v (retrying, as propeller would)", err)
		time.Sleep(500 * time.Millisecond)
	}
	deadline = time.Now().Add(time.Minute)
	for u := e.server(); u != nil; u = e.server() {
		if time.Now().After(deadline) {
			t.Fatalf("the RayJob is still there a minute after abort (finalizers %v)\nKubeRay's log:\n%s", u.GetFinalizers(), logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// until runs manager rounds until the task reaches phase (a minute at most).
func (e *execution) until(t *testing.T, phase pluginsCore.Phase, logs *testenv.TailBuffer) pluginsCore.Transition {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		tr := e.handle()
		if tr.Info().Phase() == phase {
			return tr
		}
		if tr.Info().Phase().IsTerminal() || time.Now().After(deadline) {
			t.Fatalf("phase %v (reason %q, err %v), want %v\nKubeRay's log:\n%s",
				tr.Info().Phase(), reasonOf(tr.Info()), tr.Info().Err(), phase, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, v := range env {
		if v.Name == name {
			return true
		}
	}
	return false
}

// kuberayOperator is the operator binary make operator-bins links into
// bin/operators, or $FLYTEDIST_KUBERAY_OPERATOR. Missing, the test skips —
// or fails when the control plane is required (make test).
func kuberayOperator(t *testing.T) string {
	t.Helper()
	return operatorBinary(t, "kuberay-operator", "FLYTEDIST_KUBERAY_OPERATOR", "KubeRay operator")
}

// operatorBinary returns $envVar if set, else <repo>/bin/operators/<name>
// (where make operator-bins links the operators it builds). When the file
// is missing the test skips, or fails if testenv.RequiredEnvVar is set.
func operatorBinary(t *testing.T, name, envVar, what string) string {
	t.Helper()
	path := os.Getenv(envVar)
	if path == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/flytedist/flyteplugins").Output()
		if err != nil {
			t.Fatalf("locating the repository: %v", err)
		}
		path = filepath.Join(strings.TrimSpace(string(out)), "bin", "operators", name)
	}
	if _, err := os.Stat(path); err != nil {
		msg := "no " + what + " at " + path + " (make operator-bins builds it)"
		if v := os.Getenv(testenv.RequiredEnvVar); v != "" && v != "0" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// startKubeRay runs the operator against env until the test ends, and
// returns its log.
func startKubeRay(t *testing.T, env *testenv.Env, operator string) *testenv.TailBuffer {
	t.Helper()
	logs := testenv.NewTailBuffer(64 << 10)
	cmd := exec.Command(operator, "--kubeconfig="+writeKubeconfig(t, env), "--metrics-addr=0", "--health-probe-bind-address=0",
		"--enable-leader-election=false")
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the KubeRay operator: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return logs
}

// writeKubeconfig writes a kubeconfig reaching env as its administrator
// into a temporary directory of t, for an operator process, and returns
// its path.
func writeKubeconfig(t *testing.T, env *testenv.Env) string {
	t.Helper()
	cfg := env.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	kc.CurrentContext = "local"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

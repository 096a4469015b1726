package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/event"
	"github.com/flyteorg/flyte/flytepropeller/pkg/apis/flyteworkflow"
	"github.com/flyteorg/flyte/flytepropeller/pkg/apis/flyteworkflow/v1alpha1"
	"github.com/flyteorg/flyte/flytestdlib/contextutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils"
	"github.com/flyteorg/flyte/flytestdlib/promutils/labeled"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// Run runs the demo: it starts (or reaches) a cluster, runs FlytePropeller
// against it, submits the Spark/Ray/Dask/Databricks workflow, plays the
// operators when the cluster is local, and reports what propeller did. It
// stops everything it started before returning. An error means the demo
// could not run; a workflow that ran and failed is a Result with that phase.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	begin := time.Now()
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Namespace == "" {
		o.Namespace = "flytedist-demo"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Partitions == 0 {
		o.Partitions = 10
	}
	if len(o.PropellerCommand) == 0 {
		return nil, errors.New("no propeller command given")
	}
	out := o.Out
	local := o.Kubeconfig == ""

	var cleanups []func()
	defer func() {
		if len(cleanups) > 0 {
			step(out, "cleaning up")
		}
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		if res != nil {
			res.Elapsed = time.Since(begin)
		}
		fmt.Fprintf(out, "==> demo finished in %s\n", since(begin))
	}()

	dir := o.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "flytedist-demo-"); err != nil {
			return nil, err
		}
		if o.KeepWorkDir {
			fmt.Fprintf(out, "    work directory %s (kept)\n", dir)
		} else {
			cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sp := newSpawner()

	// 1. The cluster.
	var restConfig *rest.Config
	kubeconfig := o.Kubeconfig
	if local {
		step(out, "starting a local control plane: etcd + kube-apiserver from %s", o.K8sBinDir)
		cp, err := startControlPlane(ctx, sp, o.K8sBinDir, filepath.Join(dir, "k8s"), out)
		cleanups = append(cleanups, cp.stop)
		if err != nil {
			return nil, err
		}
		restConfig, kubeconfig = cp.Config, cp.Kubeconfig
	} else {
		step(out, "using the cluster in KUBECONFIG=%s (no stand-ins: the operators do the work)", o.Kubeconfig)
		if restConfig, kubeconfig, err = clusterConfig(o.Kubeconfig, dir); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "    %s\n", restConfig.Host)
	}
	c, err := newClients(restConfig)
	if err != nil {
		return nil, err
	}
	if local {
		files, err := operatorCRDFiles()
		if err != nil {
			return nil, err
		}
		step(out, "installing the operators' CRDs from their Go modules")
		for _, f := range files {
			fmt.Fprintf(out, "    %s\n", f)
		}
		t := time.Now()
		if _, err := installCRDs(ctx, c, files); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "    established in %s\n", since(t))
	} else {
		// Propeller creates the FlyteWorkflow CRD if it is missing; the
		// demo then removes it again at the end.
		crdName := "flyteworkflows." + flyteworkflow.GroupName
		if _, err := c.ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crdName, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			cleanups = append(cleanups, func() {
				_ = c.ext.ApiextensionsV1().CustomResourceDefinitions().Delete(context.Background(), crdName, metav1.DeleteOptions{})
			})
		}
		for _, k := range operatorKinds {
			name := k.GVR.Resource + "." + k.GVR.Group
			if err := waitCRDEstablished(ctx, c, name, 5*time.Second); err != nil {
				return nil, fmt.Errorf("the cluster has no %s CRD (is the %s installed?): %w", name, k.Operator, err)
			}
		}
	}
	created, err := ensureNamespace(ctx, c, o.Namespace)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", o.Namespace, err)
	}
	if created && !local {
		cleanups = append(cleanups, func() {
			_ = c.kube.CoreV1().Namespaces().Delete(context.Background(), o.Namespace, metav1.DeleteOptions{})
		})
	}

	// 2. Databricks, the event receiver, the blob store.
	var jobsAPI *localJobsAPI
	instance, token := o.DatabricksInstance, o.DatabricksToken
	var propellerEnv []string
	if instance == "" || token == "" {
		step(out, "starting the local Databricks Jobs API over HTTPS (test CA trusted by propeller via SSL_CERT_FILE)")
		if jobsAPI, err = startLocalJobsAPI(dir); err != nil {
			return nil, err
		}
		cleanups = append(cleanups, jobsAPI.stop)
		instance, token = jobsAPI.Instance, jobsAPI.Token
		propellerEnv = append(propellerEnv, "SSL_CERT_FILE="+jobsAPI.CAFile)
		fmt.Fprintf(out, "    https://%s/api/2.1/jobs/runs/... (CA %s)\n", instance, jobsAPI.CAFile)
	} else {
		step(out, "using the Databricks workspace %s", instance)
	}
	propellerEnv = append(propellerEnv, DatabricksTokenEnv+"="+token)

	events, err := startEventReceiver()
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, events.stop)

	blobDir := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(filepath.Join(blobDir, storageContainer), 0o700); err != nil {
		return nil, err
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	cfgPath, err := writePropellerConfig(dir, propellerSettings{
		Kubeconfig:         kubeconfig,
		Namespace:          o.Namespace,
		BlobDir:            blobDir,
		EventAddr:          events.addr,
		ProfilerPort:       ports[0],
		DatabricksInstance: instance,
	})
	if err != nil {
		return nil, err
	}

	// 3. FlytePropeller.
	step(out, "starting FlytePropeller (%s) with %s", filepath.Base(o.PropellerCommand[0]), cfgPath)
	fmt.Fprintf(out, "    blob store: stow local in %s; events: flyteadmin's event API on %s (the demo); catalog: noop\n", blobDir, events.addr)
	argv := append(append([]string(nil), o.PropellerCommand...), "--config", cfgPath)
	propeller, err := sp.start("flytepropeller", argv, append(propellerEnv, o.PropellerEnv...), filepath.Join(dir, "propeller.log"))
	if err != nil {
		return nil, err
	}
	stopped := false
	stopPropeller := func() {
		if !stopped {
			stopped = true
			propeller.stop(15 * time.Second)
		}
	}
	cleanups = append(cleanups, stopPropeller)
	t := time.Now()
	crdName := "flyteworkflows." + flyteworkflow.GroupName
	if err := waitCRD(ctx, c, crdName, propeller); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "    propeller created the %s CRD (%s); log: %s\n", crdName, since(t), propeller.logPath)

	// 4. The workflow.
	tasks, err := demoTasks()
	if err != nil {
		return nil, err
	}
	// The data store's metrics need propeller's metric keys (set the same
	// way propeller sets them; setting them again with the same keys is a no-op).
	labeled.SetMetricKeys(contextutils.ProjectKey, contextutils.DomainKey, contextutils.WorkflowIDKey, contextutils.TaskIDKey)
	store, err := storage.NewDataStore(&storage.Config{
		Type:          storage.TypeStow,
		InitContainer: storageContainer,
		Stow:          storage.StowConfig{Kind: "local", Config: map[string]string{"path": blobDir}},
	}, promutils.NewScope("flytedist_demo"))
	if err != nil {
		return nil, fmt.Errorf("opening the blob store: %w", err)
	}
	execName := executionName()
	sub, err := buildSubmission(ctx, store, tasks, o.Namespace, execName, o.Partitions)
	if err != nil {
		return nil, err
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	cleanups = append(cleanups, func() { stopWatch(); wg.Wait() })
	submitted := time.Now()
	watcher := newResourceWatcher(c, o.Namespace, execName, out, submitted, local)
	if err := watcher.run(watchCtx, &wg); err != nil {
		return nil, err
	}
	progress := newProgress(out, tasks, submitted)
	events.setCallbacks(progress.task, progress.workflow)

	step(out, "submitting workflow %s (execution %s/%s, input %s=%d at %s)", workflowName, o.Namespace, execName, inputName, o.Partitions, sub.Inputs)
	if local {
		fmt.Fprintf(out, "    operators: stand-ins play spark-operator, KubeRay and the Dask operator (status subresource writes)\n")
	}
	wf, err := c.flyte.FlyteworkflowV1alpha1().FlyteWorkflows(o.Namespace).Create(ctx, sub.Workflow, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating the FlyteWorkflow: %w", err)
	}
	if !local {
		cleanups = append(cleanups, func() { deleteWorkflow(c, wf, propeller, out) })
	}

	final, err := waitWorkflow(ctx, c, wf, propeller, o.Timeout)
	if err != nil {
		return nil, err
	}
	// Let the last events arrive before reading them.
	time.Sleep(time.Second)

	res = &Result{Execution: execName, Phase: final.Status.Phase.String()}
	for _, t := range tasks {
		res.Tasks = append(res.Tasks, taskResult(t, final, watcher, events, jobsAPI, submitted))
	}
	report(out, o, res, instance, jobsAPI != nil)
	return res, nil
}

// waitCRD waits for propeller to create the FlyteWorkflow CRD.
func waitCRD(ctx context.Context, c *clients, name string, propeller *proc) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := waitCRDEstablished(ctx, c, name, time.Second); err == nil {
			return nil
		} else if errors.Is(err, errStopped) {
			return err
		}
		if !propeller.running() {
			return propeller.exitError()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("propeller did not create the %s CRD in 2m; last lines of %s:\n%s", name, propeller.logPath, tail(propeller.logPath, 30))
		}
	}
}

// waitWorkflow waits for the workflow to reach a final phase.
func waitWorkflow(ctx context.Context, c *clients, wf *v1alpha1.FlyteWorkflow, propeller *proc, timeout time.Duration) (*v1alpha1.FlyteWorkflow, error) {
	deadline := time.Now().Add(timeout)
	for {
		cur, err := c.flyte.FlyteworkflowV1alpha1().FlyteWorkflows(wf.Namespace).Get(ctx, wf.Name, metav1.GetOptions{})
		if err == nil && v1alpha1.IsWorkflowPhaseTerminal(cur.Status.Phase) {
			return cur, nil
		}
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("reading the FlyteWorkflow: %w", err)
		}
		if !propeller.running() {
			return nil, propeller.exitError()
		}
		if time.Now().After(deadline) {
			phase := "unknown"
			if cur != nil {
				phase = cur.Status.Phase.String()
			}
			return nil, fmt.Errorf("the workflow is still %s after %s; last lines of %s:\n%s", phase, timeout, propeller.logPath, tail(propeller.logPath, 30))
		}
		select {
		case <-ctx.Done():
			return nil, errStopped
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// deleteWorkflow deletes the FlyteWorkflow on a real cluster and waits for
// propeller to finalize it (it removes its finalizer, and its k8s plugins
// their resources), so nothing of the demo stays behind.
func deleteWorkflow(c *clients, wf *v1alpha1.FlyteWorkflow, propeller *proc, out io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	api := c.flyte.FlyteworkflowV1alpha1().FlyteWorkflows(wf.Namespace)
	if err := api.Delete(ctx, wf.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(out, "    deleting FlyteWorkflow %s: %v\n", wf.Name, err)
		return
	}
	for propeller.running() {
		if _, err := api.Get(ctx, wf.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) || ctx.Err() != nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func step(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "==> %s\n", fmt.Sprintf(format, args...))
}

// progress prints task phases as propeller reports them.
type progress struct {
	out   io.Writer
	start time.Time
	label map[string]string // node ID -> task label

	mu   sync.Mutex
	last map[string]string // node ID -> last phase/version printed
	link map[string]bool   // node ID + link name -> printed
}

func newProgress(out io.Writer, tasks []demoTask, start time.Time) *progress {
	p := &progress{out: out, start: start, label: map[string]string{}, last: map[string]string{}, link: map[string]bool{}}
	for _, t := range tasks {
		p.label[t.NodeID] = t.Label
	}
	return p
}

func (p *progress) task(e *event.TaskExecutionEvent) {
	node := e.GetParentNodeExecutionId().GetNodeId()
	label := p.label[node]
	if label == "" {
		label = node
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := fmt.Sprintf("%s/%d", e.GetPhase(), e.GetPhaseVersion())
	at := time.Since(p.start).Seconds()
	if p.last[node] != key {
		p.last[node] = key
		fmt.Fprintf(p.out, "  %6.1fs  %-10s propeller: task %s (v%d)%s\n", at, label, e.GetPhase(), e.GetPhaseVersion(), eventReason(e))
	}
	for _, l := range e.GetLogs() {
		if k := node + "\x00" + l.GetName() + "\x00" + l.GetUri(); !p.link[k] {
			p.link[k] = true
			fmt.Fprintf(p.out, "  %6.1fs  %-10s propeller: link %q %s\n", at, label, l.GetName(), l.GetUri())
		}
	}
}

func (p *progress) workflow(e *event.WorkflowExecutionEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "  %6.1fs  %-10s propeller: workflow %s\n", time.Since(p.start).Seconds(), "workflow", e.GetPhase())
}

// eventReason is the reasons of a task event, joined.
func eventReason(e *event.TaskExecutionEvent) string {
	var rs []string
	for _, r := range e.GetReasons() {
		if r.GetReason() != "" {
			rs = append(rs, r.GetReason())
		}
	}
	if len(rs) == 0 && e.GetReason() != "" {
		rs = append(rs, e.GetReason())
	}
	if len(rs) == 0 {
		return ""
	}
	return " — " + strings.Join(rs, "; ")
}

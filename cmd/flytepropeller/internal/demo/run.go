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

	"github.com/flytedist/flyteplugins/internal/slurmenv"
)

// Run runs the demo: it starts (or reaches) a cluster, runs FlytePropeller
// against it, submits the Spark/Ray/Dask/PyTorch/Databricks(/Slurm) workflow, runs
// the real Kubeflow Training Operator and plays the other operators (and the
// kubelet for the Training Operator's pods) when the cluster is local, and
// reports what propeller did. It
// stops everything it started before returning. An error means the demo
// could not run; a workflow that ran and failed is a Result with that phase.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if len(o.PropellerCommand) == 0 {
		return nil, errors.New("no propeller command given")
	}
	s := &session{o: withDefaults(o), out: o.Out, begin: time.Now(), local: o.Kubeconfig == "", sp: newSpawner()}
	if s.out == nil {
		s.out = os.Stdout
	}
	defer func() {
		s.cleanup()
		if res != nil {
			res.Elapsed = time.Since(s.begin)
		}
		fmt.Fprintf(s.out, "==> demo finished in %s\n", since(s.begin))
	}()
	for _, stage := range []func(context.Context) error{s.workDir, s.cluster, s.trainingOperator, s.kueue, s.databricks, s.slurm, s.startPropeller} {
		if err := stage(ctx); err != nil {
			return nil, err
		}
	}
	return s.runWorkflow(ctx)
}

func withDefaults(o Options) Options {
	if o.Namespace == "" {
		o.Namespace = "flytedist-demo"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Partitions == 0 {
		o.Partitions = 10
	}
	return o
}

// session is one demo run: what it started and must stop, and what the
// stages hand each other.
type session struct {
	o     Options
	out   io.Writer
	begin time.Time
	local bool // a local control plane, the Training Operator and stand-ins
	sp    *spawner

	cleanups []func() // run in reverse order at the end

	dir        string // work directory
	kubeconfig string // for propeller
	c          *clients

	jobsAPI      *localJobsAPI // nil with a real workspace
	instance     string        // Databricks workspace host
	propellerEnv []string

	slurmCluster *slurmenv.Cluster // nil unless local
	queueing     *queueingSettings // nil unless Kueue runs

	events    *eventReceiver
	blobDir   string
	propeller *proc
}

func (s *session) atEnd(f func()) { s.cleanups = append(s.cleanups, f) }

func (s *session) cleanup() {
	if len(s.cleanups) > 0 {
		step(s.out, "cleaning up")
	}
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}

// workDir makes the work directory (a temporary one unless given).
func (s *session) workDir(context.Context) error {
	s.dir = s.o.WorkDir
	if s.dir != "" {
		return os.MkdirAll(s.dir, 0o700)
	}
	var err error
	if s.dir, err = os.MkdirTemp("", "flytedist-demo-"); err != nil {
		return err
	}
	if s.o.KeepWorkDir {
		fmt.Fprintf(s.out, "    work directory %s (kept)\n", s.dir)
	} else {
		s.atEnd(func() { _ = os.RemoveAll(s.dir) })
	}
	return nil
}

// cluster starts the local control plane with the operators' CRDs, or
// checks that the KUBECONFIG cluster has the operators; then makes the
// namespace.
func (s *session) cluster(ctx context.Context) error {
	var restConfig *rest.Config
	if s.local {
		step(s.out, "starting a local control plane: etcd + kube-apiserver from %s", s.o.K8sBinDir)
		cp, err := startControlPlane(ctx, s.sp, s.o.K8sBinDir, filepath.Join(s.dir, "k8s"), s.out)
		s.atEnd(cp.stop)
		if err != nil {
			return err
		}
		restConfig, s.kubeconfig = cp.Config, cp.Kubeconfig
	} else {
		step(s.out, "using the cluster in KUBECONFIG=%s (no stand-ins: the operators do the work)", s.o.Kubeconfig)
		var err error
		if restConfig, s.kubeconfig, err = clusterConfig(s.o.Kubeconfig, s.dir); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "    %s\n", restConfig.Host)
	}
	var err error
	if s.c, err = newClients(restConfig); err != nil {
		return err
	}
	if s.local {
		files, err := operatorCRDFiles()
		if err != nil {
			return err
		}
		step(s.out, "installing the operators' CRDs from their Go modules")
		for _, f := range files {
			fmt.Fprintf(s.out, "    %s\n", f)
		}
		t := time.Now()
		if err := installCRDs(ctx, s.c, files); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "    established in %s\n", since(t))
	} else {
		// Propeller creates the FlyteWorkflow CRD if it is missing; the
		// demo then removes it again at the end.
		crds := s.c.ext.ApiextensionsV1().CustomResourceDefinitions()
		if _, err := crds.Get(ctx, flyteWorkflowCRD, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			s.atEnd(func() { removeCRD(s.c, flyteWorkflowCRD, s.out) })
		}
		for _, k := range operatorKinds {
			name := k.GVR.Resource + "." + k.GVR.Group
			if err := waitCRDEstablished(ctx, s.c, name, 5*time.Second); err != nil {
				return fmt.Errorf("the cluster has no %s CRD (is the %s installed?): %w", name, k.Operator, err)
			}
		}
	}
	created, err := ensureNamespace(ctx, s.c, s.o.Namespace)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", s.o.Namespace, err)
	}
	if created && !s.local {
		s.atEnd(func() {
			_ = s.c.kube.CoreV1().Namespaces().Delete(context.Background(), s.o.Namespace, metav1.DeleteOptions{})
		})
	}
	return nil
}

// trainingOperator starts the real Kubeflow Training Operator against the
// local control plane (on a KUBECONFIG cluster, the cluster's own does the
// work).
func (s *session) trainingOperator(ctx context.Context) error {
	if !s.local {
		return nil
	}
	version := trainingOperatorVersion(s.o.TrainingOperator)
	if version != "" {
		version = " " + version
	}
	step(s.out, "starting the Kubeflow Training Operator%s, the real one (%s), for the PyTorchJob; no kubelet runs, so the demo acts as the kubelet for its pods", version, s.o.TrainingOperator)
	t := time.Now()
	stop, err := startTrainingOperator(ctx, s.sp, s.o.TrainingOperator, s.c, s.kubeconfig, filepath.Join(s.dir, "training-operator"), s.out)
	s.atEnd(stop)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "    reconciling PyTorchJobs in all namespaces (%s)\n", since(t))
	return nil
}

// kueue starts the real Kueue against the local control plane with a
// LocalQueue whose ClusterQueue fits one PyTorch task, and has propeller
// queue the PyTorch tasks there (on a KUBECONFIG cluster, nothing is
// queued).
func (s *session) kueue(ctx context.Context) error {
	if !s.local {
		return nil
	}
	step(s.out, "starting Kueue, the real one (%s), with LocalQueue %s/%s: its ClusterQueue's quota (cpu %s) fits one PyTorch task", s.o.Kueue, s.o.Namespace, kueueQueue, kueueCPUQuota)
	t := time.Now()
	files, err := kueueCRDFiles()
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, s.c, files); err != nil {
		return err
	}
	stop, err := startKueue(ctx, s.sp, s.o.Kueue, s.c, s.kubeconfig, filepath.Join(s.dir, "kueue"), s.out)
	s.atEnd(stop)
	if err != nil {
		return err
	}
	if err := createKueueQueues(ctx, s.c, s.o.Namespace); err != nil {
		return err
	}
	s.queueing = &queueingSettings{TaskType: labelPyTorch, Queue: kueueQueue}
	fmt.Fprintf(s.out, "    queues active (%s); plugins.queueing: provider kueue, pytorch tasks -> %s, other tasks not queued\n", since(t), kueueQueue)
	return nil
}

// databricks starts the local Jobs API unless a real workspace is given.
func (s *session) databricks(context.Context) error {
	token := s.o.DatabricksToken
	s.instance = s.o.DatabricksInstance
	if s.instance != "" && token != "" {
		step(s.out, "using the Databricks workspace %s", s.instance)
	} else {
		step(s.out, "starting the local Databricks Jobs API over HTTPS (test CA trusted by propeller via SSL_CERT_FILE)")
		var err error
		if s.jobsAPI, err = startLocalJobsAPI(s.dir); err != nil {
			return err
		}
		s.atEnd(s.jobsAPI.stop)
		s.instance, token = s.jobsAPI.Instance, s.jobsAPI.Token
		s.propellerEnv = append(s.propellerEnv, "SSL_CERT_FILE="+s.jobsAPI.CAFile)
		fmt.Fprintf(s.out, "    https://%s/api/2.1/jobs/runs/... (CA %s)\n", s.instance, s.jobsAPI.CAFile)
	}
	s.propellerEnv = append(s.propellerEnv, DatabricksTokenEnv+"="+token)
	return nil
}

// startPropeller starts the event receiver and FlytePropeller, and waits for
// propeller to create the FlyteWorkflow CRD.
func (s *session) startPropeller(ctx context.Context) error {
	var err error
	if s.events, err = startEventReceiver(); err != nil {
		return err
	}
	s.atEnd(s.events.stop)
	s.blobDir = filepath.Join(s.dir, "blobs")
	if err := os.MkdirAll(filepath.Join(s.blobDir, storageContainer), 0o700); err != nil {
		return err
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	cfgPath, err := writePropellerConfig(s.dir, propellerSettings{
		Kubeconfig:         s.kubeconfig,
		Namespace:          s.o.Namespace,
		BlobDir:            s.blobDir,
		EventAddr:          s.events.addr,
		ProfilerPort:       ports[0],
		DatabricksInstance: s.instance,
		Slurm:              s.slurmSettings(),
		Queueing:           s.queueing,
	})
	if err != nil {
		return err
	}
	step(s.out, "starting FlytePropeller (%s) with %s", filepath.Base(s.o.PropellerCommand[0]), cfgPath)
	fmt.Fprintf(s.out, "    blob store: stow local in %s; events: flyteadmin's event API on %s (the demo); catalog: noop\n", s.blobDir, s.events.addr)
	argv := append(append([]string(nil), s.o.PropellerCommand...), "--config", cfgPath)
	env := append(append([]string(nil), s.propellerEnv...), s.o.PropellerEnv...)
	if s.propeller, err = s.sp.start("flytepropeller", argv, env, filepath.Join(s.dir, "propeller.log")); err != nil {
		return err
	}
	s.atEnd(func() { s.propeller.stop(15 * time.Second) })
	t := time.Now()
	if err := waitCRD(ctx, s.c, flyteWorkflowCRD, s.propeller); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "    propeller created the %s CRD (%s); log: %s\n", flyteWorkflowCRD, since(t), s.propeller.logPath)
	return nil
}

// runWorkflow submits the workflow, plays the operators (local mode), waits
// for a final phase and reports.
func (s *session) runWorkflow(ctx context.Context) (*Result, error) {
	tasks, err := demoTasks(s.slurmCluster)
	if err != nil {
		return nil, err
	}
	// The data store's metrics need propeller's metric keys (set as
	// propeller sets them; setting the same keys again is a no-op).
	labeled.SetMetricKeys(contextutils.ProjectKey, contextutils.DomainKey, contextutils.WorkflowIDKey, contextutils.TaskIDKey)
	execName := executionName()
	// A metrics scope per run: a process may run the demo more than once.
	store, err := storage.NewDataStore(&storage.Config{
		Type:          storage.TypeStow,
		InitContainer: storageContainer,
		Stow:          storage.StowConfig{Kind: "local", Config: map[string]string{"path": s.blobDir}},
	}, promutils.NewScope("flytedist_demo_"+execName))
	if err != nil {
		return nil, fmt.Errorf("opening the blob store: %w", err)
	}
	sub, err := buildSubmission(ctx, store, tasks, s.o.Namespace, execName, s.o.Partitions)
	if err != nil {
		return nil, err
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	s.atEnd(func() { stopWatch(); wg.Wait() })
	submitted := time.Now()
	watcher := newResourceWatcher(s.c, s.o.Namespace, execName, s.out, submitted, s.local)
	if err := watcher.run(watchCtx, &wg); err != nil {
		return nil, err
	}
	if s.local {
		kubelet := &kubeletStandIn{c: s.c, namespace: s.o.Namespace, prefix: execName, label: labelPyTorch, out: s.out, start: submitted}
		if err := kubelet.run(watchCtx, &wg); err != nil {
			return nil, err
		}
	}
	var slurmJobs *slurmWatcher
	if s.slurmCluster != nil {
		slurmJobs = &slurmWatcher{c: s.slurmCluster, out: &progressWriter{out: s.out, start: submitted}, jobs: map[string]*slurmJob{}}
		slurmJobs.run(watchCtx, &wg)
	}
	progress := newProgress(s.out, tasks, submitted)
	s.events.setCallbacks(progress.task, progress.workflow)

	step(s.out, "submitting workflow %s (execution %s/%s, input %s=%d at %s)", workflowName, s.o.Namespace, execName, inputName, s.o.Partitions, sub.Inputs)
	if s.local {
		fmt.Fprintf(s.out, "    operators: stand-ins play spark-operator, KubeRay and the Dask operator (status subresource writes);\n")
		fmt.Fprintf(s.out, "    the real Kubeflow Training Operator reconciles the PyTorchJobs, the demo acting as the kubelet for their pods;\n")
		fmt.Fprintf(s.out, "    the real Kueue admits the two PyTorchJobs one at a time (quota for one), propeller reporting why one waits;\n")
		fmt.Fprintf(s.out, "    the real local Slurm runs the slurm_fn task's batch job (propeller submits it over SSH)\n")
	}
	wf, err := s.c.flyte.FlyteworkflowV1alpha1().FlyteWorkflows(s.o.Namespace).Create(ctx, sub.Workflow, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating the FlyteWorkflow: %w", err)
	}
	if !s.local {
		s.atEnd(func() { deleteWorkflow(s.c, wf, s.propeller, s.out) })
	}

	final, err := waitWorkflow(ctx, s.c, wf, s.propeller, s.o.Timeout)
	if err != nil {
		return nil, err
	}
	// Let the last events arrive before reading them.
	time.Sleep(time.Second)

	res := &Result{Execution: execName, Phase: final.Status.Phase.String()}
	for _, t := range tasks {
		res.Tasks = append(res.Tasks, taskResult(t, final, watcher, s.events, s.jobsAPI, slurmJobs, submitted))
	}
	res.AdminCalls = s.events.callSummary()
	report(s.out, s.o, res, s.instance, s.jobsAPI != nil)
	return res, nil
}

// flyteWorkflowCRD is the CRD propeller creates (create-flyteworkflow-crd).
var flyteWorkflowCRD = "flyteworkflows." + flyteworkflow.GroupName

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
			return fmt.Errorf("propeller did not create the %s CRD in 2m; last lines of %s:\n%s", name, propeller.logPath, tail(propeller.logPath))
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
			return nil, fmt.Errorf("the workflow is still %s after %s; last lines of %s:\n%s", phase, timeout, propeller.logPath, tail(propeller.logPath))
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

// removeCRD deletes a CRD and waits until the apiserver has removed it:
// deletion is asynchronous (the apiserver first deletes its instances), so
// returning at once would leave it behind for whoever looks right after.
func removeCRD(c *clients, name string, out io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	crds := c.ext.ApiextensionsV1().CustomResourceDefinitions()
	if err := crds.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		if !apierrors.IsNotFound(err) {
			fmt.Fprintf(out, "    deleting CRD %s: %v\n", name, err)
		}
		return
	}
	for {
		_, err := crds.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if ctx.Err() != nil {
			fmt.Fprintf(out, "    CRD %s is still being deleted after 30s (last error: %v)\n", name, err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
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

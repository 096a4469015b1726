package demo

import (
	"io"
	"time"
)

// Options configure a demo run.
type Options struct {
	// PropellerCommand runs our FlytePropeller (the cmd/flytepropeller
	// binary); the demo appends "--config <file>".
	PropellerCommand []string
	// PropellerEnv is added to propeller's environment.
	PropellerEnv []string

	// K8sBinDir holds the kube-apiserver and etcd binaries that
	// hack/k8s/build.sh builds (local mode).
	K8sBinDir string
	// TrainingOperator is the Kubeflow Training Operator binary (`make
	// operator-bins` builds it into bin/operators/training-operator), run
	// against the local control plane for the PyTorch task (local mode).
	TrainingOperator string
	// Kueue is the Kueue binary (`make operator-bins` builds it into
	// bin/operators/kueue), run against the local control plane to queue
	// the PyTorch tasks (local mode).
	Kueue string
	// Kubeconfig, when set, names a real cluster with the Spark, KubeRay,
	// Dask and Kubeflow Training operators installed: the demo then starts
	// no control plane, no operator and plays none, nor the kubelet.
	Kubeconfig string
	// Namespace is where the workflow and its resources run.
	Namespace string

	// DatabricksInstance and DatabricksToken, when both set, send the
	// Databricks task to a real workspace instead of the local Jobs API.
	DatabricksInstance string
	DatabricksToken    string

	// SlurmRoot is the unpacked Slurm tree (hack/slurm/fetch.sh
	// --print-root) the local mode runs a real single-node Slurm from for
	// the slurm_fn task; empty means $FLYTEDIST_SLURM_ROOT.
	SlurmRoot string

	// WorkDir holds everything the demo writes (config, blob store, logs).
	// Empty means a fresh temporary directory, removed at the end.
	WorkDir string
	// KeepWorkDir keeps a temporary WorkDir for inspection.
	KeepWorkDir bool

	// Partitions is the workflow's input.
	Partitions int
	// Timeout bounds the workflow, from submission to a final phase.
	Timeout time.Duration
	// Quiet leaves the full resource YAML out of the report.
	Quiet bool
	// Out receives progress and the report.
	Out io.Writer
}

// Result is what a demo run observed.
type Result struct {
	// Execution is the workflow execution's name.
	Execution string
	// Phase is the workflow's final phase as propeller recorded it in the
	// FlyteWorkflow status, e.g. "Succeeded".
	Phase string
	// Tasks are the tasks (five, and the Slurm one in local mode), in
	// workflow order.
	Tasks []TaskResult
	// AdminCalls lists the flyteadmin API methods propeller called (all on
	// the demo's event receiver), with counts.
	AdminCalls string
	// Elapsed is the whole run, start to cleanup.
	Elapsed time.Duration
}

// TaskResult is what the demo observed of one task.
type TaskResult struct {
	// Label is spark, ray, dask, pytorch, databricks or slurm.
	Label string
	// NodeID is the workflow node.
	NodeID string
	// Kind is the resource kind (or "Databricks run", "Slurm job").
	Kind string
	// Resource is the resource as created, as YAML (the runs/submit body for
	// Databricks, the jobcomp record for Slurm); empty if the demo did not
	// see one.
	Resource string
	// OperatorStates are the operator-side states seen on the resource (for
	// the PyTorchJob, its conditions as they became true).
	OperatorStates []string
	// Transitions are the task phases propeller reported, in order.
	Transitions []Transition
	// Links are the log and dashboard links propeller reported.
	Links []Link
	// NodePhase is the node's final phase in the FlyteWorkflow status.
	NodePhase string
	// NodeMessage is the node's message in the FlyteWorkflow status.
	NodeMessage string
	// Stdout is what the Slurm job wrote to the file its stdout link
	// points at (local mode); empty for the other tasks.
	Stdout string
}

// Transition is one task phase propeller reported in a task event.
type Transition struct {
	// At is the time since the workflow was submitted.
	At time.Duration
	// Phase is the Flyte task phase (QUEUED, RUNNING, SUCCEEDED, ...).
	Phase string
	// Version is the phase version.
	Version uint32
	// Reason is the reason propeller gave, if any.
	Reason string
}

// Link is a log or dashboard link.
type Link struct {
	Name string
	URI  string
	// Phase is the task phase in which the link first appeared.
	Phase string
}

// Command flytedist-demo runs the project's demo: our FlytePropeller with a
// Spark, a Ray, a Dask, a PyTorch and a Databricks task, on a local control
// plane with the real Kubeflow Training Operator (the demo acting as the
// kubelet for its pods) and stand-ins for the other operators, or on the
// cluster KUBECONFIG names with the real operators. `make demo` builds it and runs it; see package demo for
// what it does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flytedist/flyteplugins/cmd/flytepropeller/internal/demo"
)

func main() {
	self, _ := os.Executable()
	binDir := filepath.Dir(self)
	k8sDefault := os.Getenv("KUBEBUILDER_ASSETS")
	if k8sDefault == "" {
		k8sDefault = filepath.Join(binDir, "k8s")
	}
	var o demo.Options
	propeller := flag.String("propeller", filepath.Join(binDir, "flytepropeller"), "our FlytePropeller binary (cmd/flytepropeller)")
	flag.StringVar(&o.K8sBinDir, "k8s-bin", k8sDefault, "directory with the kube-apiserver and etcd binaries (hack/k8s/build.sh)")
	trainingOperator := os.Getenv("FLYTEDIST_TRAINING_OPERATOR")
	if trainingOperator == "" {
		trainingOperator = filepath.Join(binDir, "operators", "training-operator")
	}
	flag.StringVar(&o.TrainingOperator, "training-operator", trainingOperator, "the Kubeflow Training Operator binary (make operator-bins), run against the local control plane")
	kueue := os.Getenv("FLYTEDIST_KUEUE")
	if kueue == "" {
		kueue = filepath.Join(binDir, "operators", "kueue")
	}
	flag.StringVar(&o.Kueue, "kueue", kueue, "the Kueue binary (make operator-bins), run against the local control plane to queue the PyTorch tasks")
	flag.StringVar(&o.SlurmRoot, "slurm-root", os.Getenv("FLYTEDIST_SLURM_ROOT"), "the unpacked Slurm tree (bash hack/slurm/fetch.sh --print-root) the local mode runs a real single-node Slurm from, for the slurm_fn task (needs root)")
	flag.StringVar(&o.Namespace, "namespace", "flytedist-demo", "namespace the workflow runs in")
	flag.StringVar(&o.WorkDir, "workdir", "", "directory for the config, blob store and logs (default: a temporary directory, removed at the end)")
	flag.BoolVar(&o.KeepWorkDir, "keep", false, "keep the temporary work directory (logs, config, blob store)")
	flag.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long the workflow may take")
	flag.IntVar(&o.Partitions, "partitions", 10, "the workflow's input")
	flag.BoolVar(&o.Quiet, "quiet", false, "leave the resources' YAML out of the report")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `Usage: %s [flags]

Runs our FlytePropeller with a Spark, Ray, Dask, PyTorch and Databricks
workflow and prints what it did. Without KUBECONFIG it starts a local
kube-apiserver and etcd, runs the real Kubeflow Training Operator (acting as
the kubelet for its pods) and plays the other operators; with KUBECONFIG it
uses that cluster and its operators. In local mode a slurm_fn task runs on a
real single-node Slurm started from -slurm-root. DATABRICKS_INSTANCE and DATABRICKS_TOKEN send the Databricks task
to a real workspace instead of the local Jobs API.

`, os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	o.PropellerCommand = []string{*propeller}
	o.Kubeconfig = os.Getenv("KUBECONFIG")
	o.DatabricksInstance = os.Getenv("DATABRICKS_INSTANCE")
	o.DatabricksToken = os.Getenv("DATABRICKS_TOKEN")
	o.Out = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := demo.Run(ctx, o)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "demo interrupted; everything it started is stopped")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		os.Exit(1)
	}
	if res.Phase != "Succeeded" {
		os.Exit(1)
	}
}

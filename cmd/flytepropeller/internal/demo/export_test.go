package demo

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"time"
)

// PropellerConfigYAML exposes the demo's propeller config to tests.
func PropellerConfigYAML(dir string) (string, error) {
	return writePropellerConfig(dir, propellerSettings{
		Kubeconfig:         "/dev/null",
		Namespace:          "flytedist-demo",
		BlobDir:            dir,
		EventAddr:          "127.0.0.1:1",
		ProfilerPort:       10254,
		DatabricksInstance: "127.0.0.1:8443",
		Slurm: &slurmSettings{Address: "127.0.0.1:22", User: "root",
			HostKey: "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", JobCompPath: "/tmp/jobcomp.log"},
		Queueing: &queueingSettings{TaskType: labelPyTorch, Queue: kueueQueue},
	})
}

// OperatorCluster starts what a real cluster gives the demo in KUBECONFIG
// mode: a control plane with the operators' CRDs and something reconciling
// every SparkApplication, RayJob and DaskJob in every namespace (here the
// stand-ins, outside the demo), and the real Kubeflow Training Operator
// (trainingOperator, the binary) for PyTorchJobs, with a stand-in for the
// kubelet moving their pods. It returns the cluster's kubeconfig and a
// function that stops it.
func OperatorCluster(ctx context.Context, binDir, trainingOperator, dir string, out io.Writer) (string, func(), error) {
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	sp := newSpawner()
	cp, err := startControlPlane(ctx, sp, binDir, filepath.Join(dir, "cluster"), out)
	stops = append(stops, cp.stop)
	if err != nil {
		return "", stop, err
	}
	c, err := newClients(cp.Config)
	if err != nil {
		return "", stop, err
	}
	files, err := operatorCRDFiles()
	if err != nil {
		return "", stop, err
	}
	if err := installCRDs(ctx, c, files); err != nil {
		return "", stop, err
	}
	stopOperator, err := startTrainingOperator(ctx, sp, trainingOperator, c, cp.Kubeconfig, filepath.Join(dir, "training-operator"), out)
	stops = append(stops, stopOperator)
	if err != nil {
		return "", stop, err
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stops = append(stops, func() { cancel(); wg.Wait() })
	w := newResourceWatcher(c, "", "", out, time.Now(), true)
	if err := w.run(wctx, &wg); err != nil {
		return "", stop, err
	}
	k := &kubeletStandIn{c: c, label: "cluster", actor: "the test cluster's stand-in", out: out, start: time.Now()}
	if err := k.run(wctx, &wg); err != nil {
		return "", stop, err
	}
	return cp.Kubeconfig, stop, nil
}

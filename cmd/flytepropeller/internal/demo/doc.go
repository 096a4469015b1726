// Package demo is `make demo`: our FlytePropeller, built with our Spark,
// Ray, Dask, PyTorch and Databricks plugins (package
// github.com/flytedist/flyteplugins/cmd/flytepropeller), running a workflow
// with one task of each on one machine, and a report of what propeller did.
//
// # What Run does
//
//  1. Starts etcd and kube-apiserver (hack/k8s/build.sh's binaries) on
//     loopback in a temporary directory, and installs the operators' own CRDs
//     (SparkApplication, RayJob, DaskJob: the files internal/testenv
//     installs; PyTorchJob from the Training Operator's module) from their
//     Go modules. Then it starts the real Kubeflow Training Operator
//     (Options.TrainingOperator, built by `make operator-bins`) against it,
//     as test/integration does: namespace kubeflow and an empty webhook
//     Secret for its cert rotator, a stand-in for the kubelet's cert mount,
//     a private TMPDIR with a loopback serving cert (trainingoperator.go).
//     Then it installs Kueue's CRDs and starts the real Kueue
//     (Options.Kueue, built by `make operator-bins`; kueue.go, as
//     internal/testenv runs it) with a LocalQueue "demo" whose ClusterQueue
//     has cpu quota for exactly one of the workflow's two PyTorch tasks;
//     propeller's plugins.queueing (provider kueue, an override for task
//     type pytorch, no default queue) queues those two and nothing else, so
//     the second waits in Kueue, Queued with Kueue's reason, until the
//     first succeeds. With Options.Kubeconfig set it uses that cluster
//     instead, which must have the operators installed; nothing is queued.
//  2. Serves the local Databricks Jobs API (package fakeapi) over HTTPS with
//     a certificate from a throwaway CA; propeller trusts the CA through
//     SSL_CERT_FILE, so the Databricks plugin's production path,
//     https://<instance>/api/2.1/jobs/runs/..., runs unchanged. With a real
//     workspace's instance and token it uses that instead.
//  3. Writes a propeller config (the upstream plugin list and plugin
//     sections an existing platform has; blob storage with stow's local
//     kind; create-flyteworkflow-crd: true; catalog noop; launch plans
//     fail fast) and runs our FlytePropeller as a child process. Propeller
//     creates the FlyteWorkflow CRD itself.
//  4. Compiles the workflow with propeller's compiler, turns it into a
//     FlyteWorkflow with propeller's k8s transformer, writes the inputs to
//     the blob store (offloaded inputs, as flyteadmin does) and creates the
//     object.
//  5. On a local control plane, stands in for spark-operator, KubeRay and the
//     Dask operator: for each resource propeller creates, it writes the
//     status those operators write, step by step, through the status
//     subresource (no kubelet runs, so no pod ever starts). The PyTorchJob
//     is the real Training Operator's to reconcile: it creates the master
//     and worker pods and services and writes the job's conditions; the
//     demo acts as the kubelet for those pods (Pending -> Running ->
//     Succeeded through the pods' status subresource) and says so.
//  6. Prints progress as it happens, then for each task: the resource as
//     created (the runs/submit body for Databricks), the operator states,
//     the task phases with reasons and the log and dashboard links propeller
//     reported, the node's phase; then the workflow's final phase.
//  7. Stops everything it started, in order, and removes its temporary
//     directory. Children are in their own process groups and get a
//     parent-death signal, so they die with the demo even if it is killed.
//
// # flyteadmin
//
// Propeller runs without flyteadmin. It dials flyteadmin only for events,
// launch plans (disabled here: enable-admin-launcher is false), recovery
// and gate nodes (neither used). Its event sink can be `file` or `log`
// instead of `admin`, but those write only the phase of each event: no
// reasons, no log links. The demo therefore points the admin event sink at
// itself: a gRPC server with flyteadmin's event API (CreateWorkflowEvent,
// CreateNodeEvent, CreateTaskEvent; everything else unimplemented), which
// receives exactly what flyteadmin would, and shows it. The report lists
// every admin method propeller called.
package demo

// Package testenv runs a real Kubernetes control plane — kube-apiserver and
// etcd, nothing else — for integration tests, with the operators' own CRDs
// installed, so that what our plugins build is validated against the schemas
// the Spark, KubeRay and Dask operators ship.
//
// The binaries are built from Go modules by hack/k8s/build.sh (`make
// k8s-bins`) and found in $KUBEBUILDER_ASSETS, or else in <repo>/bin/k8s.
// When they are absent, Start and Shared skip the test with a message saying
// how to build them, so a plain `go test ./...` still passes; set
// FLYTEDIST_TESTENV_REQUIRED=1 to make a missing binary a test failure
// instead (CI and `make test` should).
//
// The CRDs are read at run time from the operators' Go modules in the module
// cache (located with `go list -m`), never copied into this repository:
//
//   - SparkApplication: github.com/kubeflow/spark-operator/v2
//     config/crd/bases/sparkoperator.k8s.io_sparkapplications.yaml
//   - RayJob: github.com/ray-project/kuberay/ray-operator
//     config/crd/bases/ray.io_rayjobs.yaml (RayCluster on request, see
//     RayClusterCRD and StartWithOptions)
//   - DaskJob: github.com/dask/dask-kubernetes/v2023
//     dask_kubernetes/operator/deployment/helm/dask-kubernetes-operator/crds/daskjob.yaml
//     (the Helm chart's copy: the file under
//     dask_kubernetes/operator/customresources/ is a template whose pod
//     schemas are $ref placeholders, resolved and patched only by Dask's
//     release tooling; the chart's copy is the resolved, patched CRD that the
//     operator installs)
//   - PyTorchJob, TFJob, MPIJob: github.com/kubeflow/training-operator
//     manifests/base/crds/kubeflow.org_{pytorchjobs,tfjobs,mpijobs}.yaml, on
//     request only (KubeflowCRDs and StartWithOptions), usually at the
//     version hack/operators/training-operator pins (ToolsModuleDir)
//
// No operator, controller manager, scheduler or kubelet runs: objects are
// stored and validated (schema, defaults, pruning, CEL rules) but never
// reconciled. There is no garbage collection and no default service account.
// A test that needs an operator's reaction must play the operator itself,
// e.g. by updating an object's status through the status subresource.
//
// A control plane takes about 3 s to start. Use Start for one per test, or
// share one per test package:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		env := testenv.Shared(t)
//		ns := env.NewNamespace(t)
//		...
//	}
package testenv

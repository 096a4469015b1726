// An empty stand-in for github.com/kubeflow/spark-operator at the
// pseudo-version upstream flyteplugins v1.16.8 requires
// (v0.0.0-20250325114751-1905be6e1dbd), which the module proxy here does not
// serve. Only upstream's spark plugin imports that module, and this build
// leaves that plugin out (ours imports github.com/kubeflow/spark-operator/v2).
// Without a stand-in, resolving github.com/kubeflow/spark-operator/v2/...
// would still try to download it, to rule out that it holds those packages.
module github.com/kubeflow/spark-operator

go 1.24

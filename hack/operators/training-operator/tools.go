//go:build tools

// Package trainingoperator pins the real Kubeflow Training Operator that the
// integration tests run against the local control plane: its v1 main
// package, cmd/training-operator.v1 (PyTorchJob, TFJob, MPIJob, ...).
//
// It is a module of its own, apart from hack/operators (KubeRay), because
// the operator's Kubernetes libraries (k8s.io/* v0.29, controller-runtime
// v0.17 for v1.8.1) must not raise or lower those of the project or of the
// KubeRay operator. Nothing here is compiled into the project;
// ../build.sh builds the operator from the version this go.mod selects,
// and the tests install the CRDs (manifests/base/crds) and read the
// webhook configuration (manifests/base/webhook) of that same version.
package trainingoperator

import (
	_ "github.com/kubeflow/training-operator/cmd/training-operator.v1"
)

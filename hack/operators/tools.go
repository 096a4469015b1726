//go:build tools

// Package operators pins the real operators the integration tests run
// against the local control plane: KubeRay's operator, from the
// ray-operator module (its root is the operator's main package).
//
// Nothing here is compiled into the project; build.sh builds the operator
// from the version this module's go.mod selects, and the tests install the
// CRDs of that same module version.
package operators

import (
	_ "github.com/ray-project/kuberay/ray-operator"
)

//go:build tools

// Package kueue pins the real Kueue controller manager that the integration
// tests run against the local control plane: sigs.k8s.io/kueue/cmd/kueue.
//
// It is a module of its own because Kueue v0.17 needs the Kubernetes v0.35
// library line, which must never reach the project's module (propeller
// v1.16.8 is on v0.34) nor the other operators' modules. Nothing here is
// compiled into the project; ../build.sh builds the controller from the
// version this go.mod selects, and the tests install the CRDs
// (config/components/crd/bases) of that same version.
package kueue

import (
	_ "sigs.k8s.io/kueue/cmd/kueue"
)

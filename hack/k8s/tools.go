//go:build tools

// Package k8s pins the Kubernetes control-plane binaries that the integration
// tests run: kube-apiserver from k8s.io/kubernetes and etcd from
// go.etcd.io/etcd/server/v3 (the module root is etcd's main package).
//
// Nothing here is compiled into the project; build.sh builds the two binaries
// from the versions this module's go.mod selects.
package k8s

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)

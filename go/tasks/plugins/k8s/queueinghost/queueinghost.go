// Package queueinghost is what a process hosting the k8s plugins (a
// propeller build sharing its manager's informer cache, or a test outside
// this tree) uses to hand the plugins the reader they read Kueue's
// Workloads through. The queueing support itself is internal to
// go/tasks/plugins/k8s, out of reach of such a host.
package queueinghost

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// UseReader makes every k8s plugin read Kueue Workloads through r, which
// should be informer-backed (a controller-runtime cache): a GetTaskPhase
// round then reads a local cache, never the API server. nil goes back to
// the reader the plugins build from propeller's kube config on first use.
func UseReader(r client.Reader) { queueing.UseReader(r) }

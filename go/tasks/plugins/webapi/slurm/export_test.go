package slurm

import "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"

// Dials is how many SSH connections the plugin made to a cluster.
func Dials(p webapi.AsyncPlugin, cluster string) int64 {
	if t, ok := p.(*Plugin).transports[cluster].(*sshTransport); ok {
		return t.dials.Load()
	}
	return -1
}

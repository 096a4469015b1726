package plugins_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
)

// Our FlytePropeller carries the Slurm web-API plugin: ID slurm, for task
// types slurm and slurm_fn, registered once.
func TestSlurmIsRegistered(t *testing.T) {
	var found []pluginsCore.PluginEntry
	for _, e := range pluginmachinery.PluginRegistry().GetCorePlugins() {
		if e.ID == "slurm" {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("slurm registered %d times, want once", len(found))
	}
	types := append([]string(nil), found[0].RegisteredTaskTypes...)
	slices.Sort(types)
	if !reflect.DeepEqual(types, []string{"slurm", "slurm_fn"}) {
		t.Errorf("slurm task types %v, want [slurm slurm_fn]", types)
	}
}

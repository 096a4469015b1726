package kit

import (
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/stretchr/testify/assert"
)

// A Running phase at the default version, whatever it shows; an unknown
// state's reason carries the time propeller's event transformer needs.
func TestRunningRulesStartAtDefaultVersion(t *testing.T) {
	logs := &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}}}
	withUI := &pluginsCore.TaskInfo{Logs: []*core.TaskLog{{Uri: "https://logs"}, {Uri: "https://ui"}}}
	for _, info := range []*pluginsCore.TaskInfo{nil, logs, withUI} {
		p := Rule{Outcome: Running}.Phase("", info)
		assert.Equal(t, pluginsCore.PhaseRunning, p.Phase())
		assert.Equal(t, pluginsCore.DefaultPhaseVersion, p.Version())
	}

	unknown := Lookup(map[string]Rule{}, "operator", "NEW_STATE").Phase("", &pluginsCore.TaskInfo{})
	assert.Equal(t, pluginsCore.PhaseRunning, unknown.Phase())
	assert.Contains(t, unknown.Info().AdditionalReasons[0].Reason, `"NEW_STATE"`)
	// Propeller's event transformer dereferences it.
	assert.NotNil(t, unknown.Info().AdditionalReasons[0].OccurredAt)
	assert.Equal(t, pluginsCore.DefaultPhaseVersion, unknown.Version())
}

// stored is the plugin state propeller keeps after reporting p.
func stored(p pluginsCore.PhaseInfo) k8s.PluginState {
	return k8s.PluginState{Phase: p.Phase(), PhaseVersion: p.Version(), Reason: p.Reason()}
}

func running(reason string, links ...string) pluginsCore.PhaseInfo {
	info := &pluginsCore.TaskInfo{}
	for _, l := range links {
		info.Logs = append(info.Logs, &core.TaskLog{Name: l, Uri: "https://logs/" + l})
	}
	return RunningWithReason(reason, info)
}

func queued(reason string) pluginsCore.PhaseInfo {
	return pluginsCore.PhaseInfoQueuedWithTaskInfo(pluginsCore.DefaultPhaseVersion, reason, nil)
}

const bound = 100000

func TestNextVersion(t *testing.T) {
	k := runningBits(bound)
	// A Running phase that has been reported: what propeller stored.
	first := NextVersion(running("2 pods: a, b", "L(a)", "L(b)"), k8s.PluginState{}, bound)
	ranOnce := stored(first)
	high := k8s.PluginState{Phase: pluginsCore.PhaseQueued, PhaseVersion: 41, Reason: "pending quota"}

	for _, tc := range []struct {
		name   string
		phase  pluginsCore.PhaseInfo
		stored k8s.PluginState
		limit  int
		want   func(t *testing.T, v uint32)
	}{
		{"stored state empty, queued", queued("x"), k8s.PluginState{}, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(0), v) }},
		{"different phase keeps the plugin's version", queued("x"),
			k8s.PluginState{Phase: pluginsCore.PhaseNotReady, PhaseVersion: 9, Reason: "x"}, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(0), v) }},
		{"same phase, same reason: the stored version", queued("pending quota"), high, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(41), v) }},
		{"same phase, other reason: one higher", queued("quota reserved"), high, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(42), v) }},
		{"other reason at the bound: the stored version", queued("quota reserved"), high, 41,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(41), v) }},
		{"stored above a lowered bound: never falls", queued("quota reserved"), high, 10,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(41), v) }},
		{"bumps off", queued("quota reserved"), high, 0,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(0), v) }},
		{"first Running carries its fingerprint", running("2 pods: a, b", "L(a)", "L(b)"), high, bound,
			func(t *testing.T, v uint32) { assert.Less(t, v, uint32(1)<<k) }},
		{"Running, same reason and links: the stored version", running("2 pods: a, b", "L(a)", "L(b)"), ranOnce, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, ranOnce.PhaseVersion, v) }},
		{"Running, other reason: higher", running("3 pods: a, b, c", "L(a)", "L(b)"), ranOnce, bound,
			func(t *testing.T, v uint32) { assert.Greater(t, v, ranOnce.PhaseVersion) }},
		{"Running, new link: higher", running("2 pods: a, b", "L(a)", "L(b)", "UI"), ranOnce, bound,
			func(t *testing.T, v uint32) { assert.Greater(t, v, ranOnce.PhaseVersion) }},
		{"Running, stored version high: higher still", running("x"),
			k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: 5000}, bound,
			func(t *testing.T, v uint32) { assert.Greater(t, v, uint32(5000)) }},
		{"Running at the bound: the stored version", running("x"),
			k8s.PluginState{Phase: pluginsCore.PhaseRunning, PhaseVersion: bound - 1}, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(bound-1), v) }},
		{"terminal keeps its version", pluginsCore.PhaseInfoSuccess(nil),
			k8s.PluginState{Phase: pluginsCore.PhaseSuccess, PhaseVersion: 3}, bound,
			func(t *testing.T, v uint32) { assert.Equal(t, uint32(0), v) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NextVersion(tc.phase, tc.stored, tc.limit)
			assert.Equal(t, tc.phase.Phase(), got.Phase())
			assert.Equal(t, tc.phase.Reason(), got.Reason())
			tc.want(t, got.Version())
			assert.LessOrEqual(t, uint64(got.Version()), max(uint64(tc.stored.PhaseVersion), uint64(tc.limit)))
		})
	}
}

// Rounds the way propeller runs them (the version it stores feeds the next
// round): the version grows with each change, holds while nothing
// changes, never falls, and stops at the bound.
func TestNextVersionOverRounds(t *testing.T) {
	for _, limit := range []int{bound, 300, 20} {
		var st k8s.PluginState
		var last uint32
		changes := 0
		for round := 0; round < 400; round++ {
			reason := PodSetReason(nil, 1+round/2) // changes every other round
			p := NextVersion(running(reason), st, limit)
			if round > 0 {
				assert.GreaterOrEqual(t, p.Version(), last, "limit %d round %d", limit, round)
			}
			if p.Version() != last {
				changes++
			}
			assert.LessOrEqual(t, int(p.Version()), limit)
			if round%2 == 1 && round > 1 && uint64(last)+uint64(1)<<runningBits(uint64(limit)) <= uint64(limit) {
				assert.Equal(t, last, p.Version(), "limit %d round %d: nothing changed", limit, round)
			}
			last, st = p.Version(), stored(p)
		}
		assert.Positive(t, changes, "limit %d", limit)
	}
}

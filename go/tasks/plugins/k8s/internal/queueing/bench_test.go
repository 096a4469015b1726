package queueing_test

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// BenchmarkGetTaskPhaseQueue: GetTaskPhase of every Kueue-managed kind
// with a queue configured, admitted and running (the common round: no
// Workload read) and held (the Workload read from the stand-in cache).
func BenchmarkGetTaskPhaseQueue(b *testing.B) {
	setQueueing(b, queueing.Config{Provider: queueing.Kueue, Queue: "team"})
	r := &listReader{}
	queueing.UseReader(r)
	b.Cleanup(func() { queueing.UseReader(nil) })
	for _, id := range []string{"spark", "ray", "pytorch", "tensorflow"} {
		tk := kueueTasks(b)[id]
		p := registered(b, id)
		obj, err := build(b, id, tk)
		if err != nil {
			b.Fatal(err)
		}
		obj.SetNamespace("ns")
		obj.SetName("job-" + id)
		obj.SetUID(types.UID("uid-" + id))
		tCtx := kittest.New(tk)
		for _, state := range []string{"running", "held"} {
			b.Run(id+"/"+state, func(b *testing.B) {
				if state == "running" {
					setSuspend(obj, false)
					setRunning(obj)
				} else {
					setSuspend(obj, true)
					r.items = []*unstructured.Unstructured{workload("w-"+id, "uid-"+id, time.Now(),
						cond("QuotaReserved", "False", "Pending", "couldn't assign flavors to pod set head: insufficient unused quota for cpu in flavor default, 1 more needed"))}
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.GetTaskPhase(context.Background(), tCtx, obj); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

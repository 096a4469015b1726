package queueing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// workload is a Workload as Kueue writes it (only the fields read).
func workload(name, uid string, created time.Time, conds ...map[string]any) *unstructured.Unstructured {
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       "Workload",
		"metadata": map[string]any{
			"name": name, "namespace": "ns",
			"labels": map[string]any{queueing.KueueJobUIDLabel: uid},
		},
		"spec": map[string]any{"queueName": "team"},
	}}
	w.SetCreationTimestamp(metav1.NewTime(created))
	if len(conds) > 0 {
		list := make([]any, len(conds))
		for i, c := range conds {
			list[i] = c
		}
		w.Object["status"] = map[string]any{"conditions": list, "admission": map[string]any{"clusterQueue": "cluster-q"}}
	}
	return w
}

func cond(typ, status, reason, msg string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": msg}
}

func TestWorkloadReason(t *testing.T) {
	now := time.Now()
	pendingMsg := "couldn't assign flavors to pod set head: insufficient unused quota for cpu in flavor default, 1 more needed"
	for _, tc := range []struct {
		name string
		w    *unstructured.Unstructured
		want string
	}{
		{"not yet considered", workload("w", "u", now), `waiting in Kueue queue "team": not yet considered`},
		{"pending quota, with the resource", workload("w", "u", now, cond("QuotaReserved", "False", "Pending", pendingMsg)),
			`waiting in Kueue queue "team" (Pending): ` + pendingMsg},
		{"quota reserved", workload("w", "u", now, cond("QuotaReserved", "True", "QuotaReserved", "Quota reserved in ClusterQueue cluster-q"),
			cond("Admitted", "False", "NoChecks", "The workload has pending admission checks")),
			`Kueue reserved quota in ClusterQueue "cluster-q"; waiting for admission checks: The workload has pending admission checks`},
		{"admitted", workload("w", "u", now, cond("QuotaReserved", "True", "QuotaReserved", ""), cond("Admitted", "True", "Admitted", "")),
			`Kueue admitted the job to ClusterQueue "cluster-q"; starting`},
		{"evicted by preemption", workload("w", "u", now, cond("QuotaReserved", "False", "Pending", ""), cond("Admitted", "False", "NoReservation", ""),
			cond("Evicted", "True", "Preempted", "Preempted to accommodate a workload (UID: x) due to prioritization in the ClusterQueue")),
			`Kueue evicted the job (Preempted); back in queue "team": Preempted to accommodate a workload (UID: x) due to prioritization in the ClusterQueue`},
		{"evicted and requeued: the current wait", workload("w", "u", now, cond("QuotaReserved", "False", "Pending", pendingMsg),
			cond("Evicted", "True", "Preempted", "Preempted to accommodate a workload"), cond("Requeued", "True", "Preempted", "")),
			`Kueue evicted the job (Preempted) and requeued it; waiting in queue "team" (Pending): ` + pendingMsg},
		{"finished", workload("w", "u", now, cond("Finished", "True", "Succeeded", "Job finished successfully")),
			"Kueue: workload w finished: Job finished successfully"},
		{"malformed conditions read as none", &unstructured.Unstructured{Object: map[string]any{
			"spec": map[string]any{"queueName": 3}, "status": map[string]any{"conditions": []any{"x", 4, map[string]any{"type": 5}}}}},
			`waiting in Kueue queue "": not yet considered`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := queueing.ReadWorkload(tc.w).Reason(); got != tc.want {
				t.Fatalf("reason\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// listReader stands in for an informer cache: it serves Lists from
// memory and counts them.
type listReader struct {
	items []*unstructured.Unstructured
	lists int
	err   error
}

func (r *listReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("not used")
}

func (r *listReader) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.lists++
	if r.err != nil {
		return r.err
	}
	o := &client.ListOptions{}
	o.ApplyOptions(opts)
	ul := list.(*unstructured.UnstructuredList)
	if got := ul.GroupVersionKind().String(); got != "kueue.x-k8s.io/v1beta2, Kind=WorkloadList" {
		return errors.New("unexpected list kind " + got)
	}
	for _, w := range r.items {
		if w.GetNamespace() == o.Namespace && (o.LabelSelector == nil || o.LabelSelector.Matches(labels.Set(w.GetLabels()))) {
			ul.Items = append(ul.Items, *w.DeepCopy())
		}
	}
	return nil
}

func TestFindWorkload(t *testing.T) {
	now := time.Now()
	old := workload("old", "job-1", now.Add(-time.Minute))
	newer := workload("new", "job-1", now)
	other := workload("other", "job-2", now)
	r := &listReader{items: []*unstructured.Unstructured{old, newer, other}}
	queueing.UseReader(r)
	t.Cleanup(func() { queueing.UseReader(nil) })

	w, err := queueing.FindWorkload(context.Background(), "", "ns", types.UID("job-1"))
	if err != nil || w == nil || w.GetName() != "new" {
		t.Fatalf("got %v, %v; want the newest Workload of job-1", w, err)
	}
	if w, err := queueing.FindWorkload(context.Background(), "v1beta2", "ns", types.UID("job-3")); err != nil || w != nil {
		t.Fatalf("got %v, %v; want none", w, err)
	}
	if r.lists != 2 {
		t.Fatalf("%d lists, want one per lookup", r.lists)
	}
	r.err = errors.New("cache not synced")
	if _, err := queueing.FindWorkload(context.Background(), "", "ns", types.UID("job-1")); err == nil || !strings.Contains(err.Error(), "cache not synced") {
		t.Fatalf("error %v, want the reader's", err)
	}
}

package queueing

import (
	"context"
	"fmt"
	"strings"
	"sync"

	propellerConfig "github.com/flyteorg/flyte/flytepropeller/pkg/controller/config"
	"github.com/flyteorg/flyte/flytestdlib/logger"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KueueGroup is Kueue's API group.
const KueueGroup = "kueue.x-k8s.io"

// Reading Workloads. The k8s plugin machinery gives a plugin no client, so
// the plugins read Kueue's Workloads through one informer-backed reader per
// process: the one a host hands over with UseReader (our tests, a
// propeller build that shares its manager's cache), else one built on first
// use from propeller's own kube config (`propeller.kube-config` /
// `propeller.master`, in-cluster when both are empty). Either way a
// GetTaskPhase round reads a local cache, never the API server; propeller's
// service account needs get/list/watch on workloads.kueue.x-k8s.io.
var (
	readerMu     sync.Mutex
	sharedReader client.Reader
	readerErr    error
)

// UseReader makes every plugin read Workloads through r, which should be
// informer-backed (a controller-runtime cache). nil goes back to the
// reader built from propeller's config on first use.
func UseReader(r client.Reader) {
	readerMu.Lock()
	defer readerMu.Unlock()
	sharedReader, readerErr = r, nil
}

// workloadReader returns the shared reader, building it once on first use.
func workloadReader(ctx context.Context) (client.Reader, error) {
	readerMu.Lock()
	defer readerMu.Unlock()
	if sharedReader != nil || readerErr != nil {
		return sharedReader, readerErr
	}
	sharedReader, readerErr = newCacheFromPropellerConfig(ctx)
	if readerErr != nil {
		logger.Warnf(ctx, "queueing: no reader for Kueue Workloads, queued tasks show no Kueue reason: %v", readerErr)
	}
	return sharedReader, readerErr
}

// newCacheFromPropellerConfig starts an informer cache (for the Workloads
// the plugins ask about) on propeller's kube config. It lives as long as
// the process.
func newCacheFromPropellerConfig(ctx context.Context) (client.Reader, error) {
	pc := propellerConfig.GetConfig()
	rc, err := clientcmd.BuildConfigFromFlags(pc.MasterURL, pc.KubeConfigPath)
	if err != nil {
		return nil, fmt.Errorf("kube config for Workloads: %w", err)
	}
	rc.QPS, rc.Burst = pc.KubeConfig.QPS, pc.KubeConfig.Burst
	c, err := cache.New(rc, cache.Options{Scheme: runtime.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("informer cache for Workloads: %w", err)
	}
	go func() {
		// The cache outlives the round that built it.
		if err := c.Start(context.WithoutCancel(ctx)); err != nil {
			logger.Errorf(ctx, "queueing: Workload informer stopped: %v", err)
		}
	}()
	return c, nil
}

// FindWorkload returns the Workload Kueue made for the job with uid in ns
// (found by Kueue's job-uid label), or nil when there is none yet.
func FindWorkload(ctx context.Context, apiVersion, ns string, uid types.UID) (*unstructured.Unstructured, error) {
	r, err := workloadReader(ctx)
	if err != nil {
		return nil, err
	}
	if apiVersion == "" {
		apiVersion = "v1beta2"
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(schema.GroupVersionKind{Group: KueueGroup, Version: apiVersion, Kind: "WorkloadList"})
	if err := r.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{KueueJobUIDLabel: string(uid)}); err != nil {
		return nil, fmt.Errorf("listing Kueue Workloads of job %s: %w", uid, err)
	}
	var newest *unstructured.Unstructured
	for i := range list.Items {
		w := &list.Items[i]
		// A job re-created under the same UID cannot happen; several
		// Workloads for one job only while Kueue replaces one: take the newest.
		if newest == nil || w.GetCreationTimestamp().After(newest.GetCreationTimestamp().Time) {
			newest = w
		}
	}
	return newest, nil
}

// Condition is one Workload condition, as the reason needs it.
type Condition struct {
	// Type, Status, Reason and Message are the condition's fields.
	Type, Status, Reason, Message string
}

// WorkloadState is what a waiting task's reason says about its Workload.
type WorkloadState struct {
	// Name of the Workload.
	Name string
	// Queue is the LocalQueue it waits in; ClusterQueue the one that
	// reserved quota for it (once it did).
	Queue, ClusterQueue string
	// Conditions as Kueue lists them (QuotaReserved, Admitted, Evicted,
	// Preempted, Requeued, Finished, PodsReady, ...); Condition finds one.
	Conditions []Condition
}

// Condition returns the condition of type t (the last one listed), or the
// zero Condition.
func (s WorkloadState) Condition(t string) Condition {
	for i := len(s.Conditions) - 1; i >= 0; i-- {
		if s.Conditions[i].Type == t {
			return s.Conditions[i]
		}
	}
	return Condition{}
}

// ReadWorkload extracts the parts of a Workload a reason needs; fields
// missing or of the wrong type read as empty (no panic on any object).
func ReadWorkload(w *unstructured.Unstructured) WorkloadState {
	s := WorkloadState{Name: w.GetName()}
	s.Queue, _, _ = unstructured.NestedString(w.Object, "spec", "queueName")
	s.ClusterQueue, _, _ = unstructured.NestedString(w.Object, "status", "admission", "clusterQueue")
	// NoCopy: NestedSlice deep-copies, and panics on a value that is not
	// JSON-typed; a status we only read needs neither.
	raw, _, _ := unstructured.NestedFieldNoCopy(w.Object, "status", "conditions")
	conds, _ := raw.([]any)
	s.Conditions = make([]Condition, 0, len(conds))
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { v, _ := m[k].(string); return v }
		cond := Condition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: str("message")}
		if cond.Type != "" {
			s.Conditions = append(s.Conditions, cond)
		}
	}
	return s
}

// is reports whether the condition of type t is True.
func (s WorkloadState) is(t string) bool { return s.Condition(t).Status == "True" }

// Reason is the sentence a waiting task shows for its Workload: why it
// waits (pending quota and on which resource, in Kueue's words), quota
// reserved, admitted, or evicted and why.
func (s WorkloadState) Reason() string {
	q := s.Queue
	switch {
	case s.is("Finished"):
		return withMessage(fmt.Sprintf("Kueue: workload %s finished", s.Name), s.Condition("Finished"))
	case s.is("Evicted"):
		c := s.Condition("Evicted")
		// Kueue keeps Evicted once it requeues the job: then the current
		// wait (pending quota) is what the user needs, after the why.
		if qr := s.Condition("QuotaReserved"); s.is("Requeued") && qr.Status == "False" && strings.TrimSpace(qr.Message) != "" {
			return withMessage(fmt.Sprintf("Kueue evicted the job (%s) and requeued it; waiting in queue %q (%s)", orDefault(c.Reason, "Evicted"), q, orDefault(qr.Reason, "Pending")), qr)
		}
		return withMessage(fmt.Sprintf("Kueue evicted the job (%s); back in queue %q", orDefault(c.Reason, "Evicted"), q), c)
	case s.is("Admitted"):
		return fmt.Sprintf("Kueue admitted the job to ClusterQueue %q; starting", s.ClusterQueue)
	case s.is("QuotaReserved"):
		c := s.Condition("Admitted")
		return withMessage(fmt.Sprintf("Kueue reserved quota in ClusterQueue %q; waiting for admission checks", s.ClusterQueue), c)
	}
	if c := s.Condition("QuotaReserved"); c.Type != "" {
		return withMessage(fmt.Sprintf("waiting in Kueue queue %q (%s)", q, orDefault(c.Reason, "Pending")), c)
	}
	return fmt.Sprintf("waiting in Kueue queue %q: not yet considered", q)
}

func withMessage(head string, c Condition) string {
	if msg := strings.TrimSpace(c.Message); msg != "" {
		return head + ": " + msg
	}
	return head
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

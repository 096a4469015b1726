package queueing_test

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// FuzzWorkloadReason: any Workload the API could hand back (any JSON
// object) reads into a reason without panicking.
func FuzzWorkloadReason(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"spec":{"queueName":"team"},"status":{"conditions":[{"type":"QuotaReserved","status":"False","reason":"Pending","message":"insufficient quota for cpu"}]}}`,
		`{"status":{"admission":{"clusterQueue":"cq"},"conditions":[{"type":"Admitted","status":"True"}]}}`,
		`{"status":{"conditions":[{"type":"Evicted","status":"True","reason":"Preempted"}]}}`,
		`{"status":{"conditions":"nope","admission":7}}`,
		`{"status":{"conditions":[null,1,"x",{"type":{}}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj := map[string]any{}
		if err := json.Unmarshal(data, &obj); err != nil {
			return
		}
		_ = queueing.ReadWorkload(&unstructured.Unstructured{Object: obj}).Reason()
	})
}

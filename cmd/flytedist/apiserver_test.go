package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flytedist/flyteplugins/internal/apicheck"
	"github.com/flytedist/flyteplugins/internal/testenv"
)

// TestRenderedResourcesAcceptedByAPIServer renders each example task with
// the example propeller config and creates the output, as printed, on a
// real kube-apiserver with the operators' CRDs (server-side dry run): the
// server must accept it and keep every value it carries. Skips when the
// control-plane binaries are missing (see internal/testenv).
func TestRenderedResourcesAcceptedByAPIServer(t *testing.T) {
	crds := append(slices.Clone(testenv.OperatorCRDs), testenv.KubeflowCRDs("")...)
	env := testenv.StartWithOptions(t, testenv.Options{CRDs: crds})
	ns := env.NewNamespace(t)
	for _, tc := range []struct {
		task  string
		flags []string
		kind  string
		// pruned are paths the CRD is known to prune, harmlessly (see
		// test/integration: the Dask operator takes the cluster's labels
		// and annotations from the DaskJob's own, which carry them too).
		pruned []string
	}{
		{task: "spark-task.json", kind: "SparkApplication"},
		{task: "spark-task.json", flags: []string{"--interruptible"}, kind: "SparkApplication"},
		{task: "ray-task.json", kind: "RayJob"},
		{task: "dask-task.json", kind: "DaskJob", pruned: []string{"spec.cluster.metadata"}},
		{task: "pytorch-task.json", kind: "PyTorchJob"},
		{task: "pytorch-task.json", flags: []string{"--interruptible"}, kind: "PyTorchJob"},
		{task: "tensorflow-task.json", kind: "TFJob"},
		{task: "mpi-task.json", kind: "MPIJob"},
	} {
		t.Run(strings.Join(append([]string{tc.task}, tc.flags...), " "), func(t *testing.T) {
			args := append([]string{"render", "--config", examples + "propeller.yaml", "--task", examples + tc.task,
				"--namespace", ns, "--name", "f6b2c3d4e5a6b7c8d9e0-n0-0"}, tc.flags...)
			out, errOut, code := cli(t, args...)
			if code != 0 {
				t.Fatalf("render exited %d: %s", code, errOut)
			}
			rendered := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(out), &rendered.Object); err != nil {
				t.Fatalf("render printed no YAML object: %v\n%s", err, out)
			}
			if rendered.GetKind() != tc.kind {
				t.Fatalf("rendered a %q, want %s", rendered.GetKind(), tc.kind)
			}

			stored := rendered.DeepCopy()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := env.Client.Create(ctx, stored, client.DryRunAll); err != nil {
				t.Fatalf("the API server rejected the rendered %s: %v", tc.kind, err)
			}
			sent := map[string]any{"spec": rendered.Object["spec"], "metadata": map[string]any{
				"labels": rendered.GetLabels(), "annotations": rendered.GetAnnotations(),
			}}
			lost, err := apicheck.Lost(sent, stored.Object)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lost {
				known := false
				for _, p := range tc.pruned {
					known = known || strings.HasPrefix(l, p)
				}
				if !known {
					t.Errorf("the API server did not keep what render printed: %s", l)
				}
			}
		})
	}
}

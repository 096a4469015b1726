package testenv

import (
	daskv1 "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// NewScheme returns a scheme with the built-in Kubernetes types (core/v1 and
// the rest of client-go's scheme) and the operator types our plugins build:
// SparkApplication (sparkoperator.k8s.io/v1beta2), RayJob and RayCluster
// (ray.io/v1), DaskJob (kubernetes.dask.org/v1) and the Kubeflow Training
// Operator's PyTorchJob, TFJob and MPIJob (kubeflow.org/v1).
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		sparkv1beta2.AddToScheme,
		rayv1.AddToScheme,
		daskv1.AddToScheme,
		kubeflowv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

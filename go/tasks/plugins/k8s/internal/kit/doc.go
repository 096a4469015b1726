// Package kit holds what the k8s plugins share.
package kit

import (
	_ "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	_ "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	_ "github.com/flyteorg/flyte/flytepropeller/pkg/controller/nodes/task/k8s"
	_ "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	_ "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	_ "github.com/stretchr/testify/assert"
	_ "sigs.k8s.io/controller-runtime/pkg/client"
)

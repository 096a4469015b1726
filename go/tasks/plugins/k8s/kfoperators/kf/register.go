package kf

import (
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Register registers a Kubeflow plugin with propeller's plugin registry
// under id, for taskType, watching resource; the kubeflow.org/v1 types go
// into client-go's scheme, which propeller's informers decode with.
func Register(id, taskType string, resource client.Object, plugin k8s.Plugin) {
	if err := kubeflowv1.AddToScheme(scheme.Scheme); err != nil {
		panic(err)
	}
	pluginmachinery.PluginRegistry().RegisterK8sPlugin(k8s.PluginEntry{
		ID:                  id,
		RegisteredTaskTypes: []pluginsCore.TaskType{taskType},
		ResourceToWatch:     resource,
		Plugin:              plugin,
	})
}

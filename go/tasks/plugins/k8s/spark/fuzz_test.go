package spark_test

import (
	"context"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
)

// FuzzBuildResource feeds arbitrary custom structs to BuildResource: it may
// reject them, never panic.
func FuzzBuildResource(f *testing.F) {
	for _, seed := range []string{
		`{"mainApplicationFile":"local:///app.py","sparkConf":{"spark.executor.instances":"2"}}`,
		`{"applicationType":"JAVA","mainClass":"Main","sparkConf":{"spark.driver.cores":"1.5","spark.flyte.x.enabled":"true"}}`,
		`{"mainApplicationFile":"f","driverPod":{"primaryContainerName":"p","podSpec":{"containers":[{"name":"p","resources":{"limits":{"cpu":"2","nvidia.com/gpu":"1"}}}]}}}`,
		`{"mainApplicationFile":"f","executorPod":{"podSpec":{"containers":"x"}}}`,
		`{"mainApplicationFile":"f","sparkConf":{"spark.executor.cores":"-1","spark.executor.instances":"99999999999"}}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		custom := &structpb.Struct{}
		if err := protojson.Unmarshal(raw, custom); err != nil {
			return
		}
		task := pythonTask(t)
		task.Template = cloneTemplate(task.Template)
		task.Template.Custom = custom
		_, _ = registered(t).BuildResource(context.Background(), kittest.New(task))
	})
}

// FuzzGetTaskPhase feeds arbitrary status to GetTaskPhase: any state maps
// to a phase without an error and without a panic.
func FuzzGetTaskPhase(f *testing.F) {
	f.Add("RUNNING", "", "driver-pod", "ui.example.com", "app-1")
	f.Add("FAILED", "OOMKilled", "", "", "")
	f.Add("SOMETHING_NEW", "{{ .podName }}", "%s%d", "http://", "../../x")
	f.Fuzz(func(t *testing.T, state, message, driverPod, ui, appID string) {
		_ = config.GetK8sPluginConfig()
		app := application(sparkv1beta2.ApplicationStateType(state))
		app.Status.AppState.ErrorMessage = message
		app.Status.DriverInfo.PodName = driverPod
		app.Status.DriverInfo.WebUIIngressAddress = ui
		app.Status.SparkApplicationID = appID
		if _, err := registered(t).GetTaskPhase(context.Background(), kittest.New(pythonTask(t)), app); err != nil {
			t.Fatalf("state %q: %v", state, err)
		}
	})
}

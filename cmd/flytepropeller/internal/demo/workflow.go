package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flyteidl/clients/go/coreutils"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/admin"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/utils"
	"github.com/flyteorg/flyte/flytepropeller/pkg/apis/flyteworkflow/v1alpha1"
	"github.com/flyteorg/flyte/flytepropeller/pkg/compiler"
	"github.com/flyteorg/flyte/flytepropeller/pkg/compiler/common"
	"github.com/flyteorg/flyte/flytepropeller/pkg/compiler/transformers/k8s"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	"github.com/flytedist/flyteplugins/internal/slurmenv"
)

// The demo workflow's identity. Project and domain give the namespace
// convention flyteadmin uses (<project>-<domain>), but the demo runs in
// Options.Namespace.
const (
	project      = "flytesnacks"
	domain       = "development"
	workflowName = "flytedist.demo.distributed"
	version      = "v1"
	// inputName is the workflow's one input, passed to every task.
	inputName = "partitions"
)

// The demo's task labels: one task per plugin, labelled with its plugin ID.
const (
	labelSpark   = spark.PluginID
	labelRay     = ray.PluginID
	labelDask    = dask.PluginID
	labelPyTorch = pytorch.PluginID
	// labelPyTorch2 is a second PyTorch task, run alongside the first: with
	// Kueue (local mode) it waits in the queue until the first finishes.
	labelPyTorch2   = pytorch.PluginID + "-2"
	labelDatabricks = "databricks"
	labelSlurm      = "slurm"
)

// Public images the tasks run for real in KUBECONFIG mode.
const (
	sparkImage    = "apache/spark:3.5.3-python3"
	rayImage      = "rayproject/ray:2.40.0"
	daskImage     = "ghcr.io/dask/dask:2024.12.1-py3.12"
	pytorchImage  = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"
	flytekitImage = "ghcr.io/flyteorg/flytekit:py3.11-1.16.0"
)

// demoTask is one task of the demo workflow.
type demoTask struct {
	// Label names the task in the demo's output: spark, ray, dask, pytorch,
	// databricks.
	Label string
	// NodeID is the workflow node running it.
	NodeID string
	// Kind is the resource the plugin creates (SparkApplication, RayJob,
	// DaskJob, PyTorchJob) or "Databricks run".
	Kind string
	// Template is the task.
	Template *core.TaskTemplate
}

// demoTasks are a Spark, a Ray, a Dask, a PyTorch and a Databricks task,
// and with a Slurm cluster (local mode) a slurm_fn task.
// The PyTorch task is flytekit's current form (task_type_version 1, the
// flyteidl.plugins.kubeflow proto): a master and two workers. Their images
// and commands are public ones that run for real on a cluster with the
// operators (KUBECONFIG mode); they read the workflow input through Flyte's
// {{.inputs.partitions}} template, which the plugins fill from the inputs in
// blob storage.
func demoTasks(slurmCluster *slurmenv.Cluster) ([]demoTask, error) {
	mk := func(name, taskType string, typeVersion int32, image string, args []string, custom proto.Message) (*core.TaskTemplate, error) {
		st, err := utils.MarshalObjToStruct(custom)
		if err != nil {
			return nil, err
		}
		return &core.TaskTemplate{
			Id:              &core.Identifier{ResourceType: core.ResourceType_TASK, Project: project, Domain: domain, Name: name, Version: version},
			Type:            taskType,
			TaskTypeVersion: typeVersion,
			Metadata: &core.TaskMetadata{
				Runtime: &core.RuntimeMetadata{Type: core.RuntimeMetadata_FLYTE_SDK, Version: "1.16.0", Flavor: "python"}, //nolint:goconst // the SDK's flavor, not a command,
				Timeout: durationpb.New(10 * time.Minute),
				Retries: &core.RetryStrategy{},
			},
			Interface: &core.TypedInterface{
				Inputs:  &core.VariableMap{Variables: map[string]*core.Variable{inputName: {Type: &core.LiteralType{Type: &core.LiteralType_Simple{Simple: core.SimpleType_INTEGER}}}}},
				Outputs: &core.VariableMap{Variables: map[string]*core.Variable{}},
			},
			Custom: st,
			Target: &core.TaskTemplate_Container{Container: &core.Container{
				Image: image,
				Args:  args,
				Resources: &core.Resources{
					Requests: []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "1"}, {Name: core.Resources_MEMORY, Value: "1Gi"}},
					Limits:   []*core.Resources_ResourceEntry{{Name: core.Resources_CPU, Value: "1"}, {Name: core.Resources_MEMORY, Value: "1Gi"}},
				},
			}},
		}, nil
	}

	databricksConf, err := structpb.NewStruct(map[string]any{
		"new_cluster": map[string]any{
			"spark_version": "15.4.x-scala2.12",
			"node_type_id":  "i3.xlarge",
			"num_workers":   2,
		},
	})
	if err != nil {
		return nil, err
	}
	specs := []struct {
		label, node, kind, name, taskType, image string
		typeVersion                              int32
		args                                     []string
		custom                                   proto.Message
	}{
		{
			label: labelSpark, node: "spark-pi", kind: "SparkApplication", name: "demo.spark_pi", taskType: spark.TaskType,
			image: sparkImage,
			args:  []string{"{{.inputs.partitions}}"},
			custom: &plugins.SparkJob{
				ApplicationType:     plugins.SparkApplication_PYTHON,
				MainApplicationFile: "local:///opt/spark/examples/src/main/python/pi.py",
				ExecutorPath:        "/usr/bin/python3",
				SparkConf: map[string]string{
					"spark.driver.cores":       "1",
					"spark.driver.memory":      "1g",
					"spark.executor.cores":     "1",
					"spark.executor.memory":    "1g",
					"spark.executor.instances": "2",
				},
			},
		},
		{
			label: labelRay, node: "ray-sum", kind: "RayJob", name: "demo.ray_sum", taskType: ray.TaskType,
			image: rayImage,
			args: []string{"python", "-c",
				"import ray\nray.init()\n@ray.remote\ndef square(i):\n    return i * i\nprint(sum(ray.get([square.remote(i) for i in range({{.inputs.partitions}})])))"},
			custom: &plugins.RayJob{
				RayCluster: &plugins.RayCluster{
					HeadGroupSpec:   &plugins.HeadGroupSpec{RayStartParams: map[string]string{"num-cpus": "1"}},
					WorkerGroupSpec: []*plugins.WorkerGroupSpec{{GroupName: "workers", Replicas: 2, MinReplicas: 1, MaxReplicas: 4}},
				},
				ShutdownAfterJobFinishes: true,
				TtlSecondsAfterFinished:  120,
			},
		},
		{
			label: labelDask, node: "dask-sum", kind: "DaskJob", name: "demo.dask_sum", taskType: dask.TaskType,
			image: daskImage,
			args: []string{"python", "-c",
				"from dask.distributed import Client; import dask.array as da; Client(); print(da.ones(({{.inputs.partitions}} * 1000,), chunks=1000).sum().compute())"},
			custom: &plugins.DaskJob{
				Scheduler: &plugins.DaskScheduler{Image: daskImage},
				Workers:   &plugins.DaskWorkerGroup{NumberOfWorkers: 2, Image: daskImage},
			},
		},
		{
			label: labelPyTorch, node: "pytorch-train", kind: "PyTorchJob", name: "demo.pytorch_allreduce", taskType: pytorch.TaskType,
			typeVersion: 1, image: pytorchImage,
			// The operator sets MASTER_ADDR, WORLD_SIZE and RANK in every
			// replica; each adds its rank to the input and all-reduces.
			args: []string{"python", "-c",
				"import torch, torch.distributed as dist\ndist.init_process_group('gloo')\nt = torch.tensor([{{.inputs.partitions}} + dist.get_rank()])\ndist.all_reduce(t)\nprint(dist.get_world_size(), 'replicas, sum', t.item())"},
			custom: &kfplugins.DistributedPyTorchTrainingTask{
				MasterReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 1}},
				WorkerReplicas: &kfplugins.DistributedPyTorchTrainingReplicaSpec{Common: &plugins.CommonReplicaSpec{Replicas: 2}},
			},
		},
		{
			label: labelDatabricks, node: "databricks-run", kind: "Databricks run", name: "demo.databricks_count", taskType: databricks.TaskTypeDatabricks,
			image: flytekitImage,
			args: []string{"pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}",
				"--raw-output-data-prefix", "{{.rawOutputDataPrefix}}", "--resolver",
				"flytekit.core.python_auto_container.default_task_resolver", "--", "task-module", "demo", "task-name", "databricks_count"},
			custom: &plugins.SparkJob{
				ApplicationType: plugins.SparkApplication_PYTHON,
				DatabricksConf:  databricksConf,
				SparkConf:       map[string]string{"spark.sql.shuffle.partitions": "8"},
			},
		},
	}
	// A second PyTorch task, the same job under another name, run alongside
	// the first: with Kueue (local mode) it waits until the first finishes.
	for i, s := range specs {
		if s.label == labelPyTorch {
			s.label, s.node, s.name = labelPyTorch2, "pytorch-train-2", "demo.pytorch_allreduce_2"
			specs = slices.Insert(specs, i+1, s)
			break
		}
	}
	var out []demoTask
	for _, s := range specs {
		t, err := mk(s.name, s.taskType, s.typeVersion, s.image, s.args, s.custom)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", s.name, err)
		}
		out = append(out, demoTask{Label: s.label, NodeID: s.node, Kind: s.kind, Template: t})
	}
	if slurmCluster != nil {
		t, err := slurmTask(slurmCluster.Partition)
		if err != nil {
			return nil, err
		}
		out = append(out, demoTask{Label: labelSlurm, NodeID: "slurm-fn", Kind: "Slurm job", Template: t})
	}
	return out, nil
}

// slurmTask is what flytekitplugins-slurm's SlurmFunctionTask sends
// (examples/slurm-task.json): custom ssh_config, sbatch_config and a script
// whose {task.fn} the plugin replaces with the container's args. Here the
// script and the args are plain shell commands, so the node needs no Python
// or flytekit; the interface is empty, so propeller expects no outputs.
func slurmTask(partition string) (*core.TaskTemplate, error) {
	custom, err := structpb.NewStruct(map[string]any{
		"ssh_config":    map[string]any{"host": slurmClusterName, "username": "ignored"},
		"sbatch_config": map[string]any{"partition": partition, "time": "0:05:00", "cpus-per-task": "1"},
		"script": "#!/bin/bash\necho \"flytedist demo: slurm_fn job $SLURM_JOB_ID on $(hostname) in partition $SLURM_JOB_PARTITION\"\n" +
			"sleep 2\n{task.fn}\n",
	})
	if err != nil {
		return nil, err
	}
	return &core.TaskTemplate{
		Id:   &core.Identifier{ResourceType: core.ResourceType_TASK, Project: project, Domain: domain, Name: "demo.slurm_fn", Version: version},
		Type: "slurm_fn",
		Metadata: &core.TaskMetadata{
			Runtime: &core.RuntimeMetadata{Type: core.RuntimeMetadata_FLYTE_SDK, Version: "1.16.0", Flavor: "python"},
			Timeout: durationpb.New(10 * time.Minute),
			Retries: &core.RetryStrategy{},
		},
		Interface: &core.TypedInterface{
			Inputs:  &core.VariableMap{Variables: map[string]*core.Variable{}},
			Outputs: &core.VariableMap{Variables: map[string]*core.Variable{}},
		},
		Custom: custom,
		Target: &core.TaskTemplate_Container{Container: &core.Container{
			Image: flytekitImage,
			Args:  []string{"echo", "flytedist demo: the task's command ran"},
		}},
	}, nil
}

// workflowTemplate runs every task in parallel, on the workflow's input
// when the task takes it.
func workflowTemplate(tasks []demoTask) *core.WorkflowTemplate {
	wf := &core.WorkflowTemplate{
		Id: &core.Identifier{ResourceType: core.ResourceType_WORKFLOW, Project: project, Domain: domain, Name: workflowName, Version: version},
		Interface: &core.TypedInterface{
			Inputs:  &core.VariableMap{Variables: map[string]*core.Variable{inputName: {Type: &core.LiteralType{Type: &core.LiteralType_Simple{Simple: core.SimpleType_INTEGER}}}}},
			Outputs: &core.VariableMap{Variables: map[string]*core.Variable{}},
		},
		Metadata:         &core.WorkflowMetadata{},
		MetadataDefaults: &core.WorkflowMetadataDefaults{},
	}
	for _, t := range tasks {
		var inputs []*core.Binding
		if _, ok := t.Template.GetInterface().GetInputs().GetVariables()[inputName]; ok {
			inputs = []*core.Binding{{
				Var: inputName,
				Binding: &core.BindingData{Value: &core.BindingData_Promise{Promise: &core.OutputReference{
					NodeId: common.StartNodeID, Var: inputName,
				}}},
			}}
		}
		wf.Nodes = append(wf.Nodes, &core.Node{
			Id:       t.NodeID,
			Metadata: &core.NodeMetadata{Name: t.Template.GetId().GetName(), Retries: &core.RetryStrategy{}},
			Inputs:   inputs,
			Target: &core.Node_TaskNode{TaskNode: &core.TaskNode{
				Reference: &core.TaskNode_ReferenceId{ReferenceId: t.Template.GetId()},
			}},
		})
	}
	return wf
}

// submission is what the demo submits: the FlyteWorkflow object and where
// its inputs are.
type submission struct {
	Workflow *v1alpha1.FlyteWorkflow
	Inputs   storage.DataReference
}

// buildSubmission compiles the workflow with propeller's compiler, turns it
// into a FlyteWorkflow with propeller's k8s transformer (what flyteadmin
// does on an execution), writes the inputs to the blob store and points the
// object at them.
func buildSubmission(ctx context.Context, store *storage.DataStore, tasks []demoTask, namespace, execName string, partitions int) (*submission, error) {
	var compiled []*core.CompiledTask
	for _, t := range tasks {
		ct, err := compiler.CompileTask(t.Template)
		if err != nil {
			return nil, fmt.Errorf("compiling task %s: %w", t.Template.GetId().GetName(), err)
		}
		compiled = append(compiled, ct)
	}
	closure, err := compiler.CompileWorkflow(workflowTemplate(tasks), nil, compiled, nil)
	if err != nil {
		return nil, fmt.Errorf("compiling the workflow: %w", err)
	}
	lit, err := coreutils.MakeLiteral(partitions)
	if err != nil {
		return nil, err
	}
	inputs := &core.LiteralMap{Literals: map[string]*core.Literal{inputName: lit}}
	execID := &core.WorkflowExecutionIdentifier{Project: project, Domain: domain, Name: execName}
	wf, err := k8s.BuildFlyteWorkflow(closure, inputs, execID, namespace)
	if err != nil {
		return nil, fmt.Errorf("building the FlyteWorkflow: %w", err)
	}

	// Offload the inputs to the blob store, as flyteadmin does.
	ref, err := store.ConstructReference(ctx, store.GetBaseContainerFQN(ctx), "metadata", project, domain, execName, "inputs.pb")
	if err != nil {
		return nil, err
	}
	if err := store.WriteProtobuf(ctx, ref, storage.Options{}, inputs); err != nil {
		return nil, fmt.Errorf("writing the inputs to %s: %w", ref, err)
	}
	wf.Inputs = nil
	wf.OffloadedInputs = ref

	now := metav1.Now()
	wf.AcceptedAt = &now
	wf.ExecutionID = v1alpha1.ExecutionID{WorkflowExecutionIdentifier: execID}
	wf.Labels["app.kubernetes.io/managed-by"] = "flytedist-demo"
	raw, err := store.ConstructReference(ctx, store.GetBaseContainerFQN(ctx), "raw")
	if err != nil {
		return nil, err
	}
	wf.RawOutputDataConfig = v1alpha1.RawOutputDataConfig{RawOutputDataConfig: &admin.RawOutputDataConfig{OutputLocationPrefix: raw.String()}}
	wf.WorkflowMeta = &v1alpha1.WorkflowMeta{EventVersion: v1alpha1.EventVersion2}
	return &submission{Workflow: wf, Inputs: ref}, nil
}

// executionName is a fresh, DNS-safe execution name.
func executionName() string {
	s, err := randomHex(4)
	if err != nil {
		s = fmt.Sprint(time.Now().UnixNano() % 1e8)
	}
	return "fd" + strings.ToLower(s)
}

package kf

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Task is one Kubeflow task being built: its template and its pod, built
// once with the kit, from which every replica's pod is derived.
type Task struct {
	Template *core.TaskTemplate
	Pod      *kit.TaskPod
	Meta     pluginsCore.TaskExecutionMetadata
	// Container is the name the operator requires for the primary
	// container ("pytorch", "tensorflow", "mpi").
	Container string
}

// ReadTask reads the template, decodes the custom proto the template's
// task_type_version selects (v0 for 0, v1 for 1; any other version is a
// BadTaskSpecification naming it) and returns the version read.
func ReadTask(ctx context.Context, tCtx pluginsCore.TaskExecutionContext, v0, v1 proto.Message) (*core.TaskTemplate, int32, error) {
	tmpl, err := kit.ReadTemplate(ctx, tCtx.TaskReader())
	if err != nil {
		return nil, 0, err
	}
	version := tmpl.GetTaskTypeVersion()
	var msg proto.Message
	switch version {
	case 0:
		msg = v0
	case 1:
		msg = v1
	default:
		return nil, 0, kit.BadSpec("task_type_version", version, "this plugin reads versions 0 (flyteidl.plugins) and 1 (flyteidl.plugins.kubeflow)")
	}
	if err := kit.UnmarshalCustom(tmpl, msg); err != nil {
		return nil, 0, err
	}
	return tmpl, version, nil
}

// NewTask builds the task's pod once, for every replica to derive from.
func NewTask(ctx context.Context, tCtx pluginsCore.TaskExecutionContext, tmpl *core.TaskTemplate, container string) (*Task, error) {
	pod, err := kit.BuildTaskPod(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	return &Task{Template: tmpl, Pod: pod, Meta: tCtx.TaskExecutionMetadata(), Container: container}, nil
}

// ObjectMeta is the job object's own metadata: the labels and annotations
// every replica pod gets (platform defaults, the pod template's metadata,
// the execution's), so that what reads the job (Kueue's queue label,
// policy engines) sees them too.
func (t *Task) ObjectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Labels: t.Pod.Labels(), Annotations: t.Pod.Annotations()}
}

// RunPolicy is the job's run policy from the task's: clean-pod policy, TTL
// after finished, active deadline and backoff limit as the task says
// (zero means unset, as upstream reads them). Without a deadline of its
// own, the task's timeout becomes the job's active deadline. field names
// the proto field in errors.
func (t *Task) RunPolicy(field string, rp *kfplugins.RunPolicy) (kubeflowv1.RunPolicy, error) {
	out := kubeflowv1.RunPolicy{}
	if rp != nil {
		policy, ok := cleanPodPolicies[rp.GetCleanPodPolicy()]
		if !ok {
			return out, kit.BadSpec(field+".cleanPodPolicy", rp.GetCleanPodPolicy(), "not a clean-pod policy (NONE, RUNNING, ALL)")
		}
		out.CleanPodPolicy = &policy
		if v := rp.GetBackoffLimit(); v != 0 {
			if v < 0 {
				return out, kit.BadSpec(field+".backoffLimit", v, "cannot be negative")
			}
			out.BackoffLimit = &v
		}
		if v := rp.GetTtlSecondsAfterFinished(); v != 0 {
			if v < 0 {
				return out, kit.BadSpec(field+".ttlSecondsAfterFinished", v, "cannot be negative")
			}
			out.TTLSecondsAfterFinished = &v
		}
		if v := rp.GetActiveDeadlineSeconds(); v != 0 {
			if v < 0 {
				return out, kit.BadSpec(field+".activeDeadlineSeconds", v, "cannot be negative")
			}
			out.ActiveDeadlineSeconds = new(int64(v))
		}
	}
	if out.ActiveDeadlineSeconds == nil {
		if secs := kit.TimeoutSeconds(t.Template); secs > 0 {
			out.ActiveDeadlineSeconds = new(min(secs, math.MaxInt64))
		}
	}
	return out, nil
}

var cleanPodPolicies = map[kfplugins.CleanPodPolicy]kubeflowv1.CleanPodPolicy{
	kfplugins.CleanPodPolicy_CLEANPOD_POLICY_NONE:    kubeflowv1.CleanPodPolicyNone,
	kfplugins.CleanPodPolicy_CLEANPOD_POLICY_RUNNING: kubeflowv1.CleanPodPolicyRunning,
	kfplugins.CleanPodPolicy_CLEANPOD_POLICY_ALL:     kubeflowv1.CleanPodPolicyAll,
}

// ReplicaField names a replica type's field in the custom proto, for
// error messages ("workerReplicas").
func ReplicaField(rt kubeflowv1.ReplicaType) string {
	return strings.ToLower(string(rt[:1])) + string(rt[1:]) + "Replicas"
}

// CheckCount rejects a negative replica count, naming the field.
func CheckCount(field string, n int32) error {
	if n < 0 {
		return kit.BadSpec(field, n, "a replica count cannot be negative")
	}
	return nil
}

// Need is the BadTaskSpecification for a replica type the job cannot run
// without.
func Need(field string, n int32, why string) error {
	return kit.BadSpec(field, n, fmt.Sprintf("need at least one: %s", why))
}

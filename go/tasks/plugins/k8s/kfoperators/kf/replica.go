package kf

import (
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	kfplugins "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins/kubeflow"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Replica is one replica type of a job as the task asks for it.
type Replica struct {
	Type kubeflowv1.ReplicaType
	// Field names the replica's proto field in errors ("workerReplicas").
	Field string
	Count int32
	// Image and Resources replace the task's for this replica when set.
	Image     string
	Resources *core.Resources
	// RestartPolicy is the proto's; its default (NEVER) is Never.
	RestartPolicy kfplugins.RestartPolicy
	// Args, when set (or when ReplaceArgs says so, even empty), replace
	// the primary container's args; Command with ReplaceCommand its command.
	Args           []string
	ReplaceArgs    bool
	Command        []string
	ReplaceCommand bool
	// PrimaryFirst moves the primary container to the front of the pod:
	// for operators that take containers[0] as the replica's main one.
	PrimaryFirst bool
	// Interruptible places the replica on interruptible nodes.
	Interruptible bool
	// Env is set by name on the primary container (error aggregation).
	Env []v1.EnvVar
}

// ReplicaSource is what the v1 protos' replica specs have in common.
type ReplicaSource interface {
	GetReplicas() int32
	GetImage() string
	GetResources() *core.Resources
	GetRestartPolicy() kfplugins.RestartPolicy
	GetCommon() *kfplugins.CommonReplicaSpec
}

// FromV1 reads a v1 replica spec: `common` wins over the deprecated
// replicas/image/resources/restart_policy fields when it is set.
func FromV1(rt kubeflowv1.ReplicaType, field string, spec ReplicaSource) Replica {
	r := Replica{Type: rt, Field: field}
	if c := spec.GetCommon(); c != nil {
		r.Count, r.Image, r.Resources, r.RestartPolicy = c.GetReplicas(), c.GetImage(), c.GetResources(), c.GetRestartPolicy()
		return r
	}
	r.Count, r.Image, r.Resources, r.RestartPolicy = spec.GetReplicas(), spec.GetImage(), spec.GetResources(), spec.GetRestartPolicy()
	return r
}

var restartPolicies = map[kfplugins.RestartPolicy]kubeflowv1.RestartPolicy{
	kfplugins.RestartPolicy_RESTART_POLICY_NEVER:      kubeflowv1.RestartPolicyNever,
	kfplugins.RestartPolicy_RESTART_POLICY_ON_FAILURE: kubeflowv1.RestartPolicyOnFailure,
	kfplugins.RestartPolicy_RESTART_POLICY_ALWAYS:     kubeflowv1.RestartPolicyAlways,
}

// ReplicaSpec derives the replica's pod from the task pod: the primary
// container renamed to the operator's name, the replica's image,
// resources, args and restart policy, the interruptible delta when the
// replica follows an interruptible task.
func (t *Task) ReplicaSpec(r Replica) (*kubeflowv1.ReplicaSpec, error) {
	if err := CheckCount(r.Field+".replicas", r.Count); err != nil {
		return nil, err
	}
	restart, ok := restartPolicies[r.RestartPolicy]
	if !ok {
		return nil, kit.BadSpec(r.Field+".restartPolicy", r.RestartPolicy, "not a restart policy (NEVER, ON_FAILURE, ALWAYS)")
	}
	res, err := kit.CustomResources(r.Field+".resources", r.Resources, t.Meta)
	if err != nil {
		return nil, err
	}
	pod, err := t.Pod.Role(kit.RoleOptions{
		Interruptible: r.Interruptible,
		PrimaryName:   t.Container,
	})
	if err != nil {
		return nil, err
	}
	c := pod.Primary()
	if r.Image != "" {
		c.Image = r.Image
	}
	if res != nil {
		c.Resources = *res
		kit.AddResourceTolerations(pod.Spec)
	}
	if len(r.Args) > 0 || r.ReplaceArgs {
		c.Args = r.Args
	}
	if r.ReplaceCommand {
		c.Command = r.Command
	}
	kit.SetEnv(c, r.Env...)
	if r.PrimaryFirst {
		kit.MoveFirst(pod.Spec.Containers, t.Container)
	}
	// The operator gives the pod the replica's policy (ExitCode as Never);
	// the pod spec says the same so nothing reading it is misled.
	pod.Spec.RestartPolicy = v1.RestartPolicy(restart)
	if restart == kubeflowv1.RestartPolicyExitCode {
		pod.Spec.RestartPolicy = v1.RestartPolicyNever
	}
	return &kubeflowv1.ReplicaSpec{
		Replicas: new(r.Count),
		Template: v1.PodTemplateSpec{
			ObjectMeta: podMeta(pod),
			Spec:       *pod.Spec,
		},
		RestartPolicy: restart,
	}, nil
}

// Replicas builds the replica specs of the job, leaving out replica types
// with no replicas.
func (t *Task) Replicas(rs ...Replica) (map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec, error) {
	out := make(map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec, len(rs))
	for _, r := range rs {
		if err := CheckCount(r.Field+".replicas", r.Count); err != nil {
			return nil, err
		}
		if r.Count == 0 {
			continue
		}
		spec, err := t.ReplicaSpec(r)
		if err != nil {
			return nil, err
		}
		out[r.Type] = spec
	}
	return out, nil
}

func podMeta(p *kit.RolePod) metav1.ObjectMeta {
	return metav1.ObjectMeta{Labels: p.Labels, Annotations: p.Annotations}
}

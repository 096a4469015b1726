package kit

import (
	"context"
	"errors"
	"reflect"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	flyteerrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/flytek8s/config"
	flytestderrors "github.com/flyteorg/flyte/flytestdlib/errors"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TaskPod is the task's pod as Flyte builds any task pod (platform
// tolerations, node selectors, affinity, scheduler name, DNS config, security
// contexts, host network, service account, default env, default pod
// template, resource overrides), built non-interruptible. Build it once per
// BuildResource and derive a RolePod for each role.
type TaskPod struct {
	Spec *v1.PodSpec
	Meta *metav1.ObjectMeta
	// PrimaryName is the name of the container that runs the task.
	PrimaryName string

	metadata pluginsCore.TaskExecutionMetadata
}

// BuildTaskPod builds the task's pod through flytek8s.ToK8sPodSpec with the
// interruptible flag forced off; RoleOptions.Interruptible adds it back per
// role.
func BuildTaskPod(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*TaskPod, error) {
	// Render only the templated arguments (see podargs.go).
	if tmpl, err := tCtx.TaskReader().Read(ctx); err == nil && !overridesPodSpec(tCtx) {
		if reduced, n := templatedArgsTask(tmpl); reduced != nil {
			short := withTemplate{TaskExecutionContext: tCtx, reader: templateReader{TaskReader: tCtx.TaskReader(), tmpl: reduced}}
			spec, meta, primary, err := toTaskPodSpec(ctx, short)
			if err != nil {
				return nil, err
			}
			if restoreArgs(spec, primary, tmpl.GetContainer().GetArgs(), n) {
				return newTaskPod(spec, meta, primary, tCtx.TaskExecutionMetadata()), nil
			}
		}
	}
	spec, meta, primary, err := toTaskPodSpec(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	return newTaskPod(spec, meta, primary, tCtx.TaskExecutionMetadata()), nil
}

func newTaskPod(spec *v1.PodSpec, meta *metav1.ObjectMeta, primary string, md pluginsCore.TaskExecutionMetadata) *TaskPod {
	// Flyte's pod building names the metadata's service account and ignores
	// the execution's run-as one (securityContext.runAs.k8sServiceAccount),
	// which is the identity the platform gave this run: every role pod of
	// every plugin runs as it.
	sc := md.GetSecurityContext()
	if sa := sc.GetRunAs().GetK8SServiceAccount(); sa != "" {
		spec.ServiceAccountName = sa
	}
	return &TaskPod{Spec: spec, Meta: meta, PrimaryName: primary, metadata: md}
}

// ServiceAccount is the service account of the task's pods, one rule for
// every plugin: the plugin config's override when set, else the
// execution's run-as service account, else the task pod's (its pod
// template's, else the task metadata's). A role's own pod template still
// wins for that role (it is merged after).
func (t *TaskPod) ServiceAccount(override string) string {
	if override != "" {
		return override
	}
	return t.Spec.ServiceAccountName
}

// toTaskPodSpec is Flyte's pod building, non-interruptible.
func toTaskPodSpec(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (*v1.PodSpec, *metav1.ObjectMeta, string, error) {
	nonInterruptible := flytek8s.NewPluginTaskExecutionContext(tCtx, flytek8s.WithInterruptible(false))
	spec, meta, primary, err := flytek8s.ToK8sPodSpec(ctx, nonInterruptible)
	if err != nil {
		return nil, nil, "", asFlyteError(err, "task pod")
	}
	return spec, meta, primary, nil
}

// asFlyteError keeps errors that already carry a Flyte code (pod building
// returns BadTaskSpecification for what it rejects) and marks the rest,
// which come from decoding the task, as bad specifications.
func asFlyteError(err error, field string) error {
	var coded interface {
		Code() flytestderrors.ErrorCode
	}
	if errors.As(err, &coded) {
		return err
	}
	return flyteerrors.Wrapf(flyteerrors.BadTaskSpecification, err, "invalid %s", field)
}

// RoleOptions says how one role's pod differs from the task pod.
type RoleOptions struct {
	// Interruptible places the role on interruptible nodes. Roles whose loss
	// kills the job (Spark driver, Ray head, Dask scheduler and runner) pass
	// false; roles that only lose work pass the task's flag.
	Interruptible bool
	// PrimaryName renames the primary container (e.g. "ray-head"); empty
	// keeps the task's name.
	PrimaryName string
	// Overlay is the role's K8sPod from the task's custom config, merged
	// over the role pod with MergePodSpec. May be nil.
	Overlay *core.K8SPod
	// OverlayField names the overlay in error messages ("driverPod").
	OverlayField string
	// Customize, when set, sets the role's own defaults on its pod (container
	// name is already the role's, interruptible delta applied) before the
	// overlay is merged, so the user's overlay still wins over them. The
	// RolePod it gets has Spec and PrimaryName set, not yet labels or
	// annotations.
	Customize func(pod *RolePod)
}

// RolePod is one role's pod: the spec plus the pod metadata the operator
// should stamp on it.
type RolePod struct {
	Spec        *v1.PodSpec
	Labels      map[string]string
	Annotations map[string]string
	PrimaryName string
}

// Primary returns the role's primary container. It is never nil: the task
// pod always has one and overlays merge into it.
func (p *RolePod) Primary() *v1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == p.PrimaryName {
			return &p.Spec.Containers[i]
		}
	}
	return nil
}

// Sidecars returns every container except the primary.
func (p *RolePod) Sidecars() []v1.Container {
	var out []v1.Container
	for _, c := range p.Spec.Containers {
		if c.Name != p.PrimaryName {
			out = append(out, c)
		}
	}
	return out
}

// Role derives a role's pod. The task pod is not modified; the result shares
// no memory with it.
func (t *TaskPod) Role(opts RoleOptions) (*RolePod, error) {
	spec := t.Spec.DeepCopy()
	if opts.Interruptible {
		ApplyInterruptible(spec)
	}
	primary := t.PrimaryName
	if opts.PrimaryName != "" && opts.PrimaryName != primary {
		renameContainer(spec.Containers, primary, opts.PrimaryName)
		primary = opts.PrimaryName
	}

	if opts.Customize != nil {
		opts.Customize(&RolePod{Spec: spec, PrimaryName: primary})
	}

	labels, annotations := t.metaSources()

	if opts.Overlay != nil {
		overlay, err := UnmarshalPodSpec(opts.OverlayField+".podSpec", opts.Overlay.GetPodSpec())
		if err != nil {
			return nil, err
		}
		if overlay != nil {
			t.mapPrimary(overlay, opts.Overlay.GetPrimaryContainerName(), primary)
			if err := checkOverlayContainers(spec, overlay, opts.OverlayField, primary); err != nil {
				return nil, err
			}
			MergePodSpec(spec, overlay)
			// Resources the overlay requests (GPUs) get their platform
			// tolerations, as Flyte gives the task pod's.
			AddResourceTolerations(spec)
		}
		labels = append(labels, opts.Overlay.GetMetadata().GetLabels())
		annotations = append(annotations, opts.Overlay.GetMetadata().GetAnnotations())
	}
	return &RolePod{
		Spec:        spec,
		Labels:      MergeMaps(labels...),
		Annotations: MergeMaps(annotations...),
		PrimaryName: primary,
	}, nil
}

// metaSources are the label and annotation maps every role pod starts from,
// lowest precedence first: platform defaults, the task pod's, the execution's.
func (t *TaskPod) metaSources() (labels, annotations []map[string]string) {
	cfg := config.GetK8sPluginConfig()
	return []map[string]string{cfg.DefaultLabels, t.Meta.GetLabels(), t.metadata.GetLabels()},
		[]map[string]string{cfg.DefaultAnnotations, t.Meta.GetAnnotations(), t.metadata.GetAnnotations()}
}

// Labels are the labels of a role pod without an overlay (platform defaults,
// task pod, execution), for pods a plugin builds itself (a job submitter).
// The result is a new map.
func (t *TaskPod) Labels() map[string]string {
	labels, _ := t.metaSources()
	return MergeMaps(labels...)
}

// Annotations are the annotations of a role pod without an overlay, as Labels.
func (t *TaskPod) Annotations() map[string]string {
	_, annotations := t.metaSources()
	return MergeMaps(annotations...)
}

// mapPrimary renames the overlay's container for the task's primary
// container to the role's primary name: the one the overlay names as
// primary_container_name, else one named like the task's primary container
// (a pod template written for the task, reused for a role), unless the
// overlay already addresses the role's container by its own name.
func (t *TaskPod) mapPrimary(overlay *v1.PodSpec, named, primary string) {
	if named != "" {
		if named != primary {
			renameContainer(overlay.Containers, named, primary)
		}
		return
	}
	if t.PrimaryName == primary || hasContainer(overlay.Containers, primary) {
		return
	}
	renameContainer(overlay.Containers, t.PrimaryName, primary)
}

// checkOverlayContainers rejects an overlay container that matches no
// container of the role's pod and has no image: merged, it would be an
// extra container Kubernetes refuses, so the operator could never create
// the pod.
func checkOverlayContainers(base, overlay *v1.PodSpec, field, primary string) error {
	for _, lists := range []struct {
		name          string
		base, overlay []v1.Container
	}{
		{"containers", base.Containers, overlay.Containers},
		{"initContainers", base.InitContainers, overlay.InitContainers},
	} {
		for i := range lists.overlay {
			c := &lists.overlay[i]
			if c.Image == "" && !hasContainer(lists.base, c.Name) {
				return BadSpecf(field+".podSpec."+lists.name+".name", c.Name,
					"matches no container of the pod (the primary one is %q) and sets no image", primary)
			}
		}
	}
	return nil
}

func hasContainer(containers []v1.Container, name string) bool {
	for i := range containers {
		if containers[i].Name == name {
			return true
		}
	}
	return false
}

func renameContainer(containers []v1.Container, from, to string) {
	for i := range containers {
		if containers[i].Name == from {
			containers[i].Name = to
			return
		}
	}
}

// ApplyInterruptible turns a pod Flyte built as non-interruptible into the
// one it builds for an interruptible task: the platform's interruptible
// tolerations and node selector are added, and the non-interruptible
// node-affinity requirement is swapped for the interruptible one.
func ApplyInterruptible(spec *v1.PodSpec) {
	cfg := config.GetK8sPluginConfig()
	for _, tol := range cfg.InterruptibleTolerations {
		if !hasToleration(spec.Tolerations, tol) {
			spec.Tolerations = append(spec.Tolerations, tol)
		}
	}
	if len(cfg.InterruptibleNodeSelector) > 0 {
		spec.NodeSelector = MergeMaps(spec.NodeSelector, cfg.InterruptibleNodeSelector)
	}
	if req := cfg.NonInterruptibleNodeSelectorRequirement; req != nil && spec.Affinity != nil {
		removeRequirement(spec.Affinity, *req)
	}
	if req := cfg.InterruptibleNodeSelectorRequirement; req != nil {
		if spec.Affinity == nil {
			spec.Affinity = &v1.Affinity{}
		}
		flytek8s.AddRequiredNodeSelectorRequirements(spec.Affinity, *req.DeepCopy())
	}
}

// AddResourceTolerations gives spec the tolerations Flyte's pod building
// gives the task pod for its resources — the extended-resource ones and
// plugins.k8s.resource-tolerations for every resource a container of spec
// requests or limits — for resources set after that build (an overlay, a
// plugin's own resources). Ones already there are not repeated.
func AddResourceTolerations(spec *v1.PodSpec) {
	flytek8s.AddTolerationsForExtendedResources(spec)
	addResourceTolerations(spec)
}

func addResourceTolerations(spec *v1.PodSpec) {
	byResource := config.GetK8sPluginConfig().ResourceTolerations
	if len(byResource) == 0 {
		return
	}
	add := func(list v1.ResourceList) {
		for name := range list {
			for _, tol := range byResource[name] {
				if !hasToleration(spec.Tolerations, tol) {
					spec.Tolerations = append(spec.Tolerations, tol)
				}
			}
		}
	}
	for _, cs := range [][]v1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			add(cs[i].Resources.Requests)
			add(cs[i].Resources.Limits)
		}
	}
}

func hasToleration(list []v1.Toleration, t v1.Toleration) bool {
	for i := range list {
		if reflect.DeepEqual(list[i], t) {
			return true
		}
	}
	return false
}

// removeRequirement undoes flytek8s.AddRequiredNodeSelectorRequirements: it
// drops the last occurrence of req from every required term (the one Flyte
// appended) and prunes what that leaves empty.
func removeRequirement(aff *v1.Affinity, req v1.NodeSelectorRequirement) {
	na := aff.NodeAffinity
	if na == nil || na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	kept := terms[:0]
	for _, term := range terms {
		for i := len(term.MatchExpressions) - 1; i >= 0; i-- {
			if reflect.DeepEqual(term.MatchExpressions[i], req) {
				term.MatchExpressions = append(term.MatchExpressions[:i:i], term.MatchExpressions[i+1:]...)
				break
			}
		}
		if len(term.MatchExpressions) > 0 || len(term.MatchFields) > 0 {
			kept = append(kept, term)
		}
	}
	if len(kept) == 0 {
		na.RequiredDuringSchedulingIgnoredDuringExecution = nil
		if na.PreferredDuringSchedulingIgnoredDuringExecution == nil {
			aff.NodeAffinity = nil
		}
		return
	}
	na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = kept
}

package kf

import (
	"context"
	"fmt"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Parts are the pieces of a Kubeflow job the shared code reads.
type Parts struct {
	Replicas  map[kubeflowv1.ReplicaType]*kubeflowv1.ReplicaSpec
	RunPolicy *kubeflowv1.RunPolicy
	Status    *kubeflowv1.JobStatus
}

// Kind describes one Kubeflow job kind (PyTorchJob, TFJob, MPIJob) to Job.
type Kind[T client.Object] struct {
	// Name is the kind, for reasons ("PyTorchJob").
	Name string
	// Container is the primary container's name the operator requires.
	Container string
	// New returns an empty job with its type meta.
	New func() T
	// Build builds the job for a task.
	Build func(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (T, error)
	// Parts exposes the job's replicas, run policy and status.
	Parts func(T) Parts
	// LinkOrder lists the replica types in the order their links show.
	LinkOrder []kubeflowv1.ReplicaType
	// PodName names replica pods; nil is DefaultPodName.
	PodName PodNamer
	// Properties are the plugin's propeller properties; nil is none.
	Properties func() k8s.PluginProperties
	// KueueManaged says Kueue has an integration for the kind (it admits
	// PyTorchJob and TFJob, but its kubeflow.org/mpijob is the MPI
	// Operator's v2beta1 MPIJob): only then does the plugin hand the job
	// to Kueue suspended.
	KueueManaged bool
}

// Job is the kit.Job every Kubeflow plugin is: its kind's build, and the
// shared status, links and timing. Safe for concurrent use.
type Job[T client.Object] struct {
	kind  Kind[T]
	links kit.LogLinks
}

// NewJob returns the Job for a kind.
func NewJob[T client.Object](kind Kind[T]) *Job[T] {
	if kind.PodName == nil {
		kind.PodName = DefaultPodName
	}
	return &Job[T]{kind: kind}
}

// Identity is an empty job with its type meta.
func (j *Job[T]) Identity() T { return j.kind.New() }

// Build builds the job for a task.
func (j *Job[T]) Build(ctx context.Context, tCtx pluginsCore.TaskExecutionContext) (T, error) {
	return j.kind.Build(ctx, tCtx)
}

// Properties are the kind's propeller properties.
func (j *Job[T]) Properties() k8s.PluginProperties {
	if j.kind.Properties == nil {
		return k8s.PluginProperties{}
	}
	return j.kind.Properties()
}

// Terminal reports whether the operator is done with the job.
func (j *Job[T]) Terminal(obj T) bool { return Terminal(j.kind.Parts(obj).Status) }

// Finished is when a terminal job finished.
func (j *Job[T]) Finished(obj T) time.Time {
	return Finished(j.kind.Parts(obj).Status, obj.GetCreationTimestamp().Time)
}

// Phase maps the job's current condition to a phase, with a link per
// replica pod.
func (j *Job[T]) Phase(ctx context.Context, pluginContext k8s.PluginContext, obj T, tmpl *core.TaskTemplate) (pluginsCore.PhaseInfo, error) {
	parts := j.kind.Parts(obj)
	cfg := GetConfig()
	// The current condition is found once per round: links, timing and
	// the phase all follow from it.
	cur := Current(parts.Status.Conditions)
	var finish time.Time
	if terminal(cur) {
		finish = finished(parts.Status, cur, obj.GetCreationTimestamp().Time)
	}
	meta := objectMeta(obj)
	links, err := renderLinks(&j.links, logs.GetLogConfig(), linkRequest{
		meta:      &meta,
		replicas:  parts.Replicas,
		order:     j.kind.LinkOrder,
		podName:   j.kind.PodName,
		container: j.kind.Container,
		finish:    finish,
		execID:    pluginContext.TaskExecutionMetadata().GetTaskExecutionID(),
		tmpl:      tmpl,
		limit:     cfg.MaxReplicaLinks,
		podCap:    kit.MaxPodLinks(),
	})
	if err != nil {
		return pluginsCore.PhaseInfoUndefined, err
	}
	info := &pluginsCore.TaskInfo{Logs: links.links}

	suspended := parts.RunPolicy != nil && parts.RunPolicy.Suspend != nil && *parts.RunPolicy.Suspend
	if cur.Type == noCondition {
		switch {
		case suspended:
			return conditionTable[kubeflowv1.JobSuspended].Phase("", info), nil
		case j.lost(parts.Status, meta.CreationTimestamp.Time, cfg.Timeout.Duration):
			return notPickedUp.Phase(fmt.Sprintf(
				"%s %s/%s has had no status from the training operator in the %s since it was created: is the Kubeflow Training Operator installed and watching this namespace?",
				j.kind.Name, meta.Namespace, meta.Name, cfg.Timeout.Duration), info), nil
		}
	}

	rule := kit.Lookup(conditionTable, operator, cur.Type)
	var d string
	switch cur.Type {
	case kubeflowv1.JobFailed:
		opts := failure
		opts.Present.Reason = j.kind.Name + " failed"
		opts.Absent.Reason = opts.Present.Reason
		opts.Strategy = j.Properties().ErrorAggregationStrategy
		var taskErr string
		rule, taskErr, err = kit.ClassifyByErrorFile(ctx, pluginContext, opts)
		if err != nil {
			return pluginsCore.PhaseInfoUndefined, err
		}
		d = detail(cur)
		if taskErr != "" {
			d += "; the task reported " + taskErr
		}
	case kubeflowv1.JobRestarting:
		d = detail(cur)
	}
	if rule.Outcome == kit.Running {
		d = kit.JoinReason(d, links.reason())
	}
	return rule.Phase(d, info), nil
}

// lost reports a job the operator never wrote a status for, past the
// configured patience.
func (j *Job[T]) lost(status *kubeflowv1.JobStatus, created time.Time, patience time.Duration) bool {
	if status.StartTime != nil || len(status.Conditions) > 0 || created.IsZero() || patience <= 0 {
		return false
	}
	return time.Since(created) > patience
}

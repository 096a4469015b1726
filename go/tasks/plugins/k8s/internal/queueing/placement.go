package queueing

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels Kueue reads on a job object.
const (
	// KueueQueueLabel names the LocalQueue a job is submitted to.
	KueueQueueLabel = "kueue.x-k8s.io/queue-name"
	// KueuePriorityClassLabel names the job's WorkloadPriorityClass.
	KueuePriorityClassLabel = "kueue.x-k8s.io/priority-class"
	// KueueJobUIDLabel is how Kueue ties a Workload to its job.
	KueueJobUIDLabel = "kueue.x-k8s.io/job-uid"
)

// Labels users already put on tasks or executions to pick a Volcano or
// YuniKorn queue by hand; they win over config as Kueue's does.
const (
	// VolcanoQueueLabel is Volcano's queue label (KubeRay reads it too).
	VolcanoQueueLabel = "volcano.sh/queue-name"
	// YunikornQueueLabel is YuniKorn's queue label.
	YunikornQueueLabel = "yunikorn.apache.org/queue"
)

// Placement is where a task's job goes: the provider, the queue and the
// priority class, and where the queue came from (for reasons and logs).
type Placement struct {
	// Provider is the queueing system (None: the job is created runnable).
	Provider Provider
	// Queue is the queue name; empty with Kueue means the namespace's
	// default LocalQueue is not used and the job is not queued.
	Queue string
	// PriorityClass is the priority class, or empty.
	PriorityClass string
	// QueueFrom says where Queue came from: "label", "override" or "default".
	QueueFrom string
	// JobName is the name the job will have (YuniKorn's application ID).
	JobName string
}

// Queued reports whether the job goes through a queue.
func (p Placement) Queued() bool { return p.Provider != None && p.Provider != "" && p.Queue != "" }

// Task is what Resolve needs to know of a task.
type Task struct {
	// Project and Domain of the execution.
	Project, Domain string
	// Namespace the job is created in.
	Namespace string
	// TaskType is the task's type (spark, ray, pytorch, ...).
	TaskType string
	// Labels are the labels the task or execution carries, the
	// execution's first; a provider's queue label here wins over config.
	Labels []map[string]string
}

// Resolve picks the task's placement: a queue label the task or execution
// carries wins; else the most specific matching override (the first of
// equally specific ones); else the defaults. An unknown provider or a queue
// name that cannot be a label value is an error naming the field.
func Resolve(cfg *Config, t Task) (Placement, error) {
	p := Placement{Provider: cfg.Provider}
	switch cfg.Provider {
	case "", None:
		return Placement{Provider: None}, nil
	case Kueue, Volcano, Yunikorn:
	default:
		return p, fmt.Errorf("plugins.queueing.provider %q is not one of none, kueue, volcano, yunikorn", cfg.Provider)
	}
	p.Queue, p.PriorityClass, p.QueueFrom = cfg.Queue, cfg.PriorityClass, "default"
	if p.Queue == "" {
		p.QueueFrom = ""
	}
	if o := bestOverride(cfg.Overrides, t); o != nil {
		if o.Queue != "" {
			p.Queue, p.QueueFrom = o.Queue, "override"
		}
		if o.PriorityClass != "" {
			p.PriorityClass = o.PriorityClass
		}
	}
	queueKey, priorityKey := labelKeys(cfg.Provider)
	for _, labels := range t.Labels {
		if q := labels[queueKey]; q != "" && p.QueueFrom != "label" {
			p.Queue, p.QueueFrom = q, "label"
		}
		if priorityKey != "" {
			if pc := labels[priorityKey]; pc != "" {
				p.PriorityClass = pc
			}
		}
	}
	if p.Queue != "" {
		if errs := validation.IsValidLabelValue(p.Queue); len(errs) > 0 {
			return p, fmt.Errorf("queue %q (from %s) cannot be a label value: %s", p.Queue, p.QueueFrom, errs[0])
		}
	}
	if p.PriorityClass != "" {
		if errs := validation.IsValidLabelValue(p.PriorityClass); len(errs) > 0 {
			return p, fmt.Errorf("priority class %q cannot be a label value: %s", p.PriorityClass, errs[0])
		}
	}
	return p, nil
}

// labelKeys are the labels a provider's users set by hand.
func labelKeys(provider Provider) (queue, priority string) {
	switch provider {
	case Kueue:
		return KueueQueueLabel, KueuePriorityClassLabel
	case Volcano:
		return VolcanoQueueLabel, ""
	default:
		return YunikornQueueLabel, ""
	}
}

// bestOverride is the most specific override matching t: the one that
// names the most of project, domain, namespace and task type; the first
// of equally specific ones.
func bestOverride(overrides []Override, t Task) *Override {
	var best *Override
	bestScore := -1
	for i := range overrides {
		o := &overrides[i]
		score, ok := o.match(t)
		if ok && score > bestScore {
			best, bestScore = o, score
		}
	}
	return best
}

// match reports whether o applies to t and how many fields it names.
func (o *Override) match(t Task) (int, bool) {
	score := 0
	for _, f := range [...]struct{ want, got string }{
		{o.Project, t.Project}, {o.Domain, t.Domain}, {o.Namespace, t.Namespace}, {o.TaskType, t.TaskType},
	} {
		if f.want == "" {
			continue
		}
		if f.want != f.got {
			return 0, false
		}
		score++
	}
	return score, true
}

package queueing

import (
	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
)

//go:generate pflags Config --default-var=defaultConfig

// Provider names the queueing system a platform runs.
type Provider = string

// The providers the k8s plugins can place jobs with.
const (
	// None: jobs are created runnable, as upstream does.
	None Provider = "none"
	// Kueue: jobs carry Kueue's labels and are created suspended; Kueue
	// admits (unsuspends) them.
	Kueue Provider = "kueue"
	// Volcano: the operators hand the pods to Volcano's gang scheduler.
	Volcano Provider = "volcano"
	// Yunikorn: the operators hand the pods to Apache YuniKorn.
	Yunikorn Provider = "yunikorn"
)

// Config is the `plugins.queueing` section, shared by every k8s plugin
// (ours; upstream has none). It places each task's job in a queue and sets
// how much of the job's life the console shows.
type Config struct {
	// Provider is the queueing system: none, kueue, volcano or yunikorn.
	Provider Provider `json:"provider" pflag:",Queueing system the k8s plugins place jobs with: none, kueue, volcano or yunikorn"`
	// Queue is the default queue: a Kueue LocalQueue in the task's
	// namespace, or a Volcano / YuniKorn queue.
	Queue string `json:"queue" pflag:",Default queue (Kueue LocalQueue, Volcano or YuniKorn queue)"`
	// PriorityClass is the default priority class: a Kueue
	// WorkloadPriorityClass, or a PriorityClass for Volcano / YuniKorn.
	PriorityClass string `json:"priorityClass" pflag:",Default priority class (Kueue WorkloadPriorityClass, else a PriorityClass)"`
	// Overrides change the queue or priority class for tasks matching
	// them; the most specific match wins (see Resolve).
	Overrides []Override `json:"overrides" pflag:"-"`
	// Kueue holds what only Kueue needs.
	Kueue KueueConfig `json:"kueue" pflag:",Kueue settings"`
	// LiveView bounds the per-pod links and phase versions of the live
	// view every k8s plugin gives the console.
	LiveView LiveViewConfig `json:"liveView" pflag:",Per-pod links and phase-version bounds"`
}

// Override places the tasks it matches in another queue or priority
// class. Empty match fields match anything; empty Queue / PriorityClass
// keep the value from a less specific rule.
type Override struct {
	// Project the task's execution runs in.
	Project string `json:"project,omitempty"`
	// Domain the task's execution runs in.
	Domain string `json:"domain,omitempty"`
	// Namespace the task's job is created in.
	Namespace string `json:"namespace,omitempty"`
	// TaskType of the task (spark, ray, dask, pytorch, tensorflow, mpi).
	TaskType string `json:"taskType,omitempty"`
	// Queue for the matching tasks.
	Queue string `json:"queue,omitempty"`
	// PriorityClass for the matching tasks.
	PriorityClass string `json:"priorityClass,omitempty"`
}

// KueueConfig holds what only Kueue needs.
type KueueConfig struct {
	// AllowRayAutoscaling lets Ray tasks with autoscaling through; Kueue
	// admits them only where its elastic-job support is enabled.
	AllowRayAutoscaling bool `json:"allowRayAutoscaling" pflag:",Let autoscaling Ray tasks through (Kueue's ElasticJobsViaWorkloadSlices)"`
	// WorkloadAPIVersion is the Workload version the plugins read
	// (v1beta2 from Kueue v0.15; v1beta1 before).
	WorkloadAPIVersion string `json:"workloadAPIVersion" pflag:",Version of kueue.x-k8s.io Workloads to read (v1beta2 or v1beta1)"`
}

// LiveViewConfig bounds the per-pod links and phase versions.
type LiveViewConfig struct {
	// MaxPodLinks caps the per-pod links of a task; pods beyond it are
	// reached through one aggregate link. 0 means no cap.
	MaxPodLinks int `json:"maxPodLinks" pflag:",Most per-pod links shown for a task; the rest share one aggregate link (0: no cap)"`
	// MaxPhaseVersions bounds the phase versions a task reports for one
	// phase; keep it at or below propeller's tasks.max-plugin-phase-versions
	// (propeller fails a task that goes beyond).
	MaxPhaseVersions int `json:"maxPhaseVersions" pflag:",Most phase versions one phase may report (at most propeller's max-plugin-phase-versions)"`
}

var (
	defaultConfig = Config{
		Provider: None,
		Kueue:    KueueConfig{WorkloadAPIVersion: "v1beta2"},
		LiveView: LiveViewConfig{MaxPodLinks: 32, MaxPhaseVersions: 100000},
	}

	configSection = pluginsConfig.MustRegisterSubSection("queueing", &defaultConfig)
)

// GetConfig returns the current `plugins.queueing` section. Treat it as
// read-only.
func GetConfig() *Config {
	return configSection.GetConfig().(*Config)
}

// SetConfig replaces the `plugins.queueing` section (tests and tools).
func SetConfig(cfg *Config) error {
	return configSection.SetConfig(cfg)
}

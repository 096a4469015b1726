package dask

import (
	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
)

//go:generate pflags Config --default-var=defaultConfig

// Config is the `plugins.dask` section. The `logs` key is upstream
// flyteplugins v1.16.8's, so an existing propeller config keeps working;
// the other keys are new and default to upstream's behaviour.
type Config struct {
	// Logs are the log links rendered for the job-runner pod.
	Logs logs.LogConfig `json:"logs,omitempty"`
	// SchedulerServiceType is the type of the Service in front of the Dask
	// scheduler: NodePort (upstream's fixed choice), ClusterIP or
	// LoadBalancer.
	SchedulerServiceType string `json:"schedulerServiceType" pflag:",Kubernetes Service type of the Dask scheduler: NodePort (upstream's fixed choice) or ClusterIP or LoadBalancer."`
	// DashboardURLTemplate, when set, adds a link to the scheduler's
	// dashboard while the cluster is up. Besides the standard log-template
	// variables it can use {{ .daskClusterName }} and
	// {{ .daskSchedulerService }} (the scheduler Service's name; the
	// dashboard is its port 8787, named "dashboard").
	DashboardURLTemplate *tasklog.TemplateLogPlugin `json:"dashboardURLTemplate" pflag:"-,Template for the URL of the Dask dashboard of a job's scheduler."`
}

var (
	defaultConfig = Config{
		Logs:                 logs.DefaultConfig,
		SchedulerServiceType: "NodePort",
	}

	configSection = pluginsConfig.MustRegisterSubSection("dask", &defaultConfig)
)

// GetConfig returns the current `plugins.dask` section.
func GetConfig() *Config {
	return configSection.GetConfig().(*Config)
}

// SetConfig replaces the `plugins.dask` section (tests and tools).
func SetConfig(cfg *Config) error {
	return configSection.SetConfig(cfg)
}

package spark

import (
	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
)

//go:generate pflags Config --default-var=defaultConfig

// Config is the `plugins.spark` section. Keys and meanings are upstream
// flyteplugins v1.16.8's, so an existing propeller config keeps working.
type Config struct {
	// DefaultSparkConfig is applied to every application first; the task's
	// own spark conf wins over it.
	DefaultSparkConfig map[string]string `json:"spark-config-default" pflag:"-,Key value pairs of default spark configuration that should be applied to every SparkJob"`
	// SparkHistoryServerURL enables the Spark History UI link of finished
	// applications.
	SparkHistoryServerURL string `json:"spark-history-server-url" pflag:",URL for SparkHistory Server that each job will publish the execution history to."`
	// Features are named spark-config bundles a task switches on with
	// `spark.flyte.<name>.enabled: "true"`.
	Features []Feature `json:"features" pflag:"-,List of optional features supported."`
	// LogConfig holds one log-link config per kind of link.
	LogConfig LogConfig `json:"logs" pflag:",Config for log links for spark applications."`
}

// LogConfig is the `plugins.spark.logs` section: one full log-link config
// per link the plugin renders.
type LogConfig struct {
	// Mixed links the driver pod's logs ("(Driver Logs)") once it has a name.
	Mixed logs.LogConfig `json:"mixed" pflag:",Defines the log config that's not split into user/system."`
	// User links the driver's user logs ("(User Logs)").
	User logs.LogConfig `json:"user" pflag:",Defines the log config for user logs."`
	// System links the application's system logs ("(System Logs)").
	System logs.LogConfig `json:"system" pflag:",Defines the log config for system logs."`
	// AllUser links the logs of every pod of the app, shown while pending.
	AllUser logs.LogConfig `json:"all-user" pflag:",All user logs across driver and executors."`
}

// Feature is a named bundle of spark config.
type Feature struct {
	Name        string            `json:"name"`
	SparkConfig map[string]string `json:"spark-config"`
}

var (
	defaultConfig = &Config{
		LogConfig: LogConfig{
			Mixed: logs.LogConfig{
				IsKubernetesEnabled:   true,
				KubernetesTemplateURI: "http://localhost:30082/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}",
			},
		},
	}

	configSection = pluginsConfig.MustRegisterSubSection("spark", defaultConfig)
)

// GetConfig returns the current `plugins.spark` section.
func GetConfig() *Config {
	return configSection.GetConfig().(*Config)
}

// SetConfig replaces the `plugins.spark` section (tests and tools).
func SetConfig(cfg *Config) error {
	return configSection.SetConfig(cfg)
}

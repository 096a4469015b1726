package kf

import (
	"time"

	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
	"github.com/flyteorg/flyte/flytestdlib/config"
)

//go:generate pflags Config --default-var=defaultConfig

// Config is the `plugins.kf-operator` section the three Kubeflow plugins
// share. Its key `timeout` and its default are upstream flyteplugins
// v1.16.8's; `maxReplicaLinks` is ours.
type Config struct {
	// Timeout is how long a job may go without the operator picking it up
	// (no status at all) before the task fails, system-retryable.
	Timeout config.Duration `json:"timeout,omitempty" pflag:",How long the training operator may take to pick a job up before the task fails as system-retryable"`
	// MaxReplicaLinks caps the log links of one replica type (a job with
	// 64 workers links the first MaxReplicaLinks of them); 0 means no cap.
	MaxReplicaLinks int `json:"maxReplicaLinks,omitempty" pflag:",Most log links shown per replica type (workers beyond it get none); 0 for no cap"`
}

var (
	defaultConfig = Config{
		Timeout:         config.Duration{Duration: time.Minute},
		MaxReplicaLinks: 32,
	}

	configSection = pluginsConfig.MustRegisterSubSection("kf-operator", &defaultConfig)
)

// GetConfig returns the current `plugins.kf-operator` section. Treat it as
// read-only.
func GetConfig() *Config {
	return configSection.GetConfig().(*Config)
}

// SetConfig replaces the `plugins.kf-operator` section (tests and tools).
func SetConfig(cfg *Config) error {
	return configSection.SetConfig(cfg)
}

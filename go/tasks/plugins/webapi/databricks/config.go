package databricks

import (
	"fmt"
	"time"

	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/flyteorg/flyte/flytestdlib/config"
)

//go:generate pflags Config --default-var=defaultConfig

// DefaultTokenKey is the secret key the Databricks token is read from unless
// databricksTokenKey or namespaceTokenKeys say otherwise.
const DefaultTokenKey = "FLYTE_DATABRICKS_API_TOKEN" // #nosec G101 -- the name of a secret, not a secret

var (
	// defaultConfig holds upstream's defaults for upstream's keys.
	defaultConfig = Config{
		WebAPI: webapi.PluginConfig{
			ResourceQuotas: map[core.ResourceNamespace]int{
				"default": 1000,
			},
			ReadRateLimiter: webapi.RateLimiterConfig{
				Burst: 100,
				QPS:   10,
			},
			WriteRateLimiter: webapi.RateLimiterConfig{
				Burst: 100,
				QPS:   10,
			},
			Caching: webapi.CachingConfig{
				Size:              500000,
				ResyncInterval:    config.Duration{Duration: 30 * time.Second},
				Workers:           10,
				MaxSystemFailures: 5,
			},
		},
		ResourceConstraints: core.ResourceConstraintsSpec{
			ProjectScopeResourceConstraint: &core.ResourceConstraint{
				Value: 100,
			},
			NamespaceScopeResourceConstraint: &core.ResourceConstraint{
				Value: 50,
			},
		},
		DefaultWarehouse: "COMPUTE_CLUSTER",
		TokenKey:         DefaultTokenKey,
		HTTPTimeout:      config.Duration{Duration: 30 * time.Second},
		Retry: RetryPolicy{
			MaxAttempts:      5,
			BaseBackoff:      config.Duration{Duration: 500 * time.Millisecond},
			MaxBackoff:       config.Duration{Duration: 10 * time.Second},
			OutageBackoff:    config.Duration{Duration: 30 * time.Second},
			OutageMaxBackoff: config.Duration{Duration: 5 * time.Minute},
		},
	}

	configSection = pluginsConfig.MustRegisterSubSection(pluginID, &defaultConfig)
)

// Config is the plugins.databricks config section. The first six keys are
// upstream flyteplugins v1.16.8's, with its defaults; the rest are new.
type Config struct {
	// WebAPI configures the web-API plugin machinery (quotas, rate limiters,
	// the status cache). It has no generated flags: flytestdlib v1.16.8's
	// pflags cannot generate float64 flags (readRateLimiter.qps).
	WebAPI webapi.PluginConfig `json:"webApi" pflag:"-,Defines config for the base WebAPI plugin."`

	// ResourceConstraints bounds how many runs a project or namespace may have
	// in flight.
	ResourceConstraints core.ResourceConstraintsSpec `json:"resourceConstraints" pflag:"-,Defines resource constraints on how many executions to be created per project/overall at any given time."`

	// DefaultWarehouse is upstream's key, kept so existing configs still load.
	// The Jobs API has no use for it.
	DefaultWarehouse string `json:"defaultWarehouse" pflag:",Kept for compatibility with upstream configs; unused."`

	// TokenKey is the secret key the Databricks token is read from.
	TokenKey string `json:"databricksTokenKey" pflag:",Name of the key where to find Databricks token in the secret manager."`

	// DatabricksInstance is the workspace host (for example
	// dbc-a1b2c3d4-e5f6.cloud.databricks.com) runs go to.
	DatabricksInstance string `json:"databricksInstance" pflag:",Databricks workspace instance name."`

	// EntrypointFile is the Python file Databricks runs when a task gives no
	// task of its own; DBFS and cloud storage URLs work.
	EntrypointFile string `json:"entrypointFile" pflag:",A URL of the entrypoint file. DBFS and cloud storage (s3://, gcs://, adls://, etc) locations are supported."`

	// AllowedInstances lists the workspace hosts a task may pick through its
	// databricksInstance; any other host is ignored in favour of
	// DatabricksInstance. DatabricksInstance itself is always allowed.
	AllowedInstances []string `json:"allowedInstances" pflag:",Workspace hosts a task may choose with databricksInstance; other hosts fall back to databricksInstance."`

	// NamespaceTokenKeys maps a Kubernetes namespace to the secret key its
	// runs' token is read from, instead of TokenKey.
	NamespaceTokenKeys map[string]string `json:"namespaceTokenKeys" pflag:",Map of namespace to the secret key holding the Databricks token for runs from that namespace."`

	// HTTPTimeout bounds each HTTP request to Databricks.
	HTTPTimeout config.Duration `json:"httpTimeout" pflag:",Timeout of one HTTP request to the Databricks API."`

	// Retry says how requests that failed for a passing reason are retried.
	Retry RetryPolicy `json:"retry" pflag:",Retry policy for Databricks API requests."`
}

// RetryPolicy bounds the retries of one API call. Throttling (429), server
// errors (5xx), connection failures, timeouts and unreadable answers are
// retried; every other failure is not.
type RetryPolicy struct {
	// MaxAttempts is how many times a call is tried in all (1 = no retry).
	MaxAttempts int `json:"maxAttempts" pflag:",How many times a request is tried in all, the first try included."`
	// BaseBackoff is the wait before the first retry; it doubles with each
	// retry after that.
	BaseBackoff config.Duration `json:"baseBackoff" pflag:",Wait before the first retry; doubles per retry."`
	// MaxBackoff caps any one wait. A Retry-After longer than this ends the
	// call instead (with a retryable error), so a call never blocks for long.
	MaxBackoff config.Duration `json:"maxBackoff" pflag:",Longest single wait between tries; a longer Retry-After ends the call."`
	// OutageBackoff is the backoff across polls for a submission Databricks
	// has not confirmed: after the n-th failed submission in a row to a
	// workspace, no submission goes to it for OutageBackoff·2^(n-1) (capped
	// at OutageMaxBackoff, jittered), from any task, and each later try is a
	// single request. 0 turns it off (every poll submits again).
	OutageBackoff config.Duration `json:"outageBackoff" pflag:",Backoff across polls after a failed submission to a workspace; doubles per failure in a row; 0 disables."`
	// OutageMaxBackoff caps OutageBackoff's growth.
	OutageMaxBackoff config.Duration `json:"outageMaxBackoff" pflag:",Longest backoff across polls between submissions to a failing workspace."`
}

// GetConfig returns the current plugins.databricks config.
func GetConfig() *Config {
	return configSection.GetConfig().(*Config)
}

// SetConfig replaces the plugins.databricks config.
func SetConfig(cfg *Config) error {
	return configSection.SetConfig(cfg)
}

// validate checks the keys this plugin adds and the ones it depends on.
func (c *Config) validate() error {
	if c.Retry.MaxAttempts < 1 {
		return fmt.Errorf("plugins.databricks.retry.maxAttempts must be at least 1, got %d", c.Retry.MaxAttempts)
	}
	if c.Retry.BaseBackoff.Duration < 0 || c.Retry.MaxBackoff.Duration < c.Retry.BaseBackoff.Duration {
		return fmt.Errorf("plugins.databricks.retry: need 0 <= baseBackoff (%v) <= maxBackoff (%v)",
			c.Retry.BaseBackoff.Duration, c.Retry.MaxBackoff.Duration)
	}
	if c.Retry.OutageBackoff.Duration < 0 || (c.Retry.OutageBackoff.Duration > 0 && c.Retry.OutageMaxBackoff.Duration < c.Retry.OutageBackoff.Duration) {
		return fmt.Errorf("plugins.databricks.retry: need 0 <= outageBackoff (%v) <= outageMaxBackoff (%v)",
			c.Retry.OutageBackoff.Duration, c.Retry.OutageMaxBackoff.Duration)
	}
	if c.HTTPTimeout.Duration <= 0 {
		return fmt.Errorf("plugins.databricks.httpTimeout must be positive, got %v", c.HTTPTimeout.Duration)
	}
	if c.DatabricksInstance != "" {
		if _, err := normalizeInstance(c.DatabricksInstance); err != nil {
			return fmt.Errorf("plugins.databricks.databricksInstance: %w", err)
		}
	}
	for i, h := range c.AllowedInstances {
		if _, err := normalizeInstance(h); err != nil {
			return fmt.Errorf("plugins.databricks.allowedInstances[%d]: %w", i, err)
		}
	}
	if c.TokenKey == "" {
		return fmt.Errorf("plugins.databricks.databricksTokenKey must not be empty")
	}
	for ns, key := range c.NamespaceTokenKeys {
		if key == "" {
			return fmt.Errorf("plugins.databricks.namespaceTokenKeys[%q] must not be empty", ns)
		}
	}
	return nil
}

package slurm

import (
	"fmt"
	"time"

	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/flyteorg/flyte/flytestdlib/config"
)

//go:generate pflags Config --default-var=defaultConfig

// Transports a cluster can be reached by.
const (
	TransportSSH  = "ssh"
	TransportREST = "rest"
)

var (
	defaultConfig = Config{
		WebAPI: webapi.PluginConfig{
			ResourceQuotas:   map[core.ResourceNamespace]int{"default": 1000},
			ReadRateLimiter:  webapi.RateLimiterConfig{Burst: 100, QPS: 10},
			WriteRateLimiter: webapi.RateLimiterConfig{Burst: 100, QPS: 10},
			Caching: webapi.CachingConfig{
				Size:              500000,
				ResyncInterval:    config.Duration{Duration: 30 * time.Second},
				Workers:           10,
				MaxSystemFailures: 5,
			},
		},
		ResourceConstraints: core.ResourceConstraintsSpec{
			ProjectScopeResourceConstraint:   &core.ResourceConstraint{Value: 100},
			NamespaceScopeResourceConstraint: &core.ResourceConstraint{Value: 50},
		},
		CallTimeout: config.Duration{Duration: 30 * time.Second},
		Retry: RetryPolicy{
			MaxAttempts:      3,
			BaseBackoff:      config.Duration{Duration: 500 * time.Millisecond},
			MaxBackoff:       config.Duration{Duration: 10 * time.Second},
			OutageBackoff:    config.Duration{Duration: 30 * time.Second},
			OutageMaxBackoff: config.Duration{Duration: 5 * time.Minute},
		},
		ScriptDir: ".flyte-slurm",
	}

	configSection = pluginsConfig.MustRegisterSubSection(pluginID, &defaultConfig)
)

// Config is the plugins.slurm config section.
type Config struct {
	// WebAPI configures the web-API machinery (quotas, rate limiters, the
	// status cache); no generated flags (pflags cannot do its float64s).
	WebAPI webapi.PluginConfig `json:"webApi" pflag:"-,Defines config for the base WebAPI plugin."`
	// ResourceConstraints bounds how many jobs a project or namespace may
	// have in flight.
	ResourceConstraints core.ResourceConstraintsSpec `json:"resourceConstraints" pflag:"-,Limits on jobs in flight per project and namespace."`
	// Clusters are the only places jobs go; a task picks one by name (its
	// ssh_config.host or cluster field).
	Clusters []Cluster `json:"clusters" pflag:"-,Slurm clusters tasks may run on."`
	// Logs are the log link templates.
	Logs LogTemplates `json:"logs" pflag:",Log link templates."`
	// CallTimeout bounds each remote call (an SSH command, an HTTP request).
	CallTimeout config.Duration `json:"callTimeout" pflag:",Timeout of one call to a cluster."`
	// Retry says how failed calls are retried.
	Retry RetryPolicy `json:"retry" pflag:",Retry policy for calls to clusters."`
	// ScriptDir is where, relative to the SSH user's home (or absolute),
	// inline batch scripts are written before sbatch runs them.
	ScriptDir string `json:"scriptDir" pflag:",Directory on the cluster (relative to the SSH user's home) for inline batch scripts."`
}

// Cluster is one Slurm cluster the platform offers.
type Cluster struct {
	// Name is what a task's ssh_config.host (or cluster) must say.
	Name string `json:"name"`
	// Aliases are other names tasks may use for it (a login node's host
	// name as flytekit tasks write it).
	Aliases []string `json:"aliases"`
	// Transport is "ssh" or "rest".
	Transport string `json:"transport"`
	// Address is host:port for SSH, the base URL (http(s)://host:port) for
	// REST.
	Address string `json:"address"`
	// User is the SSH login, or X-SLURM-USER-NAME for REST.
	User string `json:"user"`
	// HostKey is the SSH host key in known_hosts format (one or more
	// lines; the host pattern may be "*" or the address). Required for SSH.
	HostKey string `json:"hostKey"`
	// APIVersion is the slurmrestd OpenAPI version ("v0.0.38", "v0.0.40",
	// ...). Required for REST.
	APIVersion string `json:"apiVersion"`
	// SecretKey names the secret holding the SSH private key (PEM) or the
	// JWT.
	SecretKey string `json:"secretKey"`
	// JobCompPath is jobcomp/filetxt's file (JobCompLoc): read with cat
	// over SSH; for REST it must be readable where propeller runs. A job the
	// controller has purged is resolved from it.
	JobCompPath string `json:"jobCompPath"`
}

// LogTemplates are Go templates over {{ .slurmJobID }}, {{ .slurmCluster }},
// {{ .stdout }} and {{ .stderr }}; an empty template makes no link.
type LogTemplates struct {
	Stdout string `json:"stdout" pflag:",Template of the stdout link."`
	Stderr string `json:"stderr" pflag:",Template of the stderr link."`
}

// RetryPolicy bounds the retries of a call and the backoff across polls.
type RetryPolicy struct {
	MaxAttempts      int             `json:"maxAttempts" pflag:",How many times a call is tried in all."`
	BaseBackoff      config.Duration `json:"baseBackoff" pflag:",Wait before the first retry; doubles per retry."`
	MaxBackoff       config.Duration `json:"maxBackoff" pflag:",Longest wait between tries."`
	OutageBackoff    config.Duration `json:"outageBackoff" pflag:",Backoff across polls after a failed call to a cluster; doubles per failure in a row; 0 disables."`
	OutageMaxBackoff config.Duration `json:"outageMaxBackoff" pflag:",Longest backoff across polls."`
}

// GetConfig returns the current plugins.slurm config.
func GetConfig() *Config { return configSection.GetConfig().(*Config) }

// SetConfig replaces the plugins.slurm config.
func SetConfig(cfg *Config) error { return configSection.SetConfig(cfg) }

func (c *Config) validate() error {
	if c.Retry.MaxAttempts < 1 {
		return fmt.Errorf("plugins.slurm.retry.maxAttempts must be at least 1, got %d", c.Retry.MaxAttempts)
	}
	if c.CallTimeout.Duration <= 0 {
		return fmt.Errorf("plugins.slurm.callTimeout must be positive, got %v", c.CallTimeout.Duration)
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		at := fmt.Sprintf("plugins.slurm.clusters[%d]", i)
		if cl.Name == "" {
			return fmt.Errorf("%s.name is empty", at)
		}
		for _, n := range append([]string{cl.Name}, cl.Aliases...) {
			if seen[n] {
				return fmt.Errorf("%s: name %q is used twice", at, n)
			}
			seen[n] = true
		}
		if cl.Address == "" || cl.User == "" || cl.SecretKey == "" {
			return fmt.Errorf("%s (%s): address, user and secretKey are required", at, cl.Name)
		}
		switch cl.Transport {
		case TransportSSH:
			if cl.HostKey == "" {
				return fmt.Errorf("%s (%s): hostKey is required for ssh (host keys are always verified)", at, cl.Name)
			}
			if _, err := hostKeyCallback(cl.HostKey); err != nil {
				return fmt.Errorf("%s (%s).hostKey: %w", at, cl.Name, err)
			}
		case TransportREST:
			if _, err := restShapeFor(cl.APIVersion); err != nil {
				return fmt.Errorf("%s (%s).apiVersion: %w", at, cl.Name, err)
			}
		default:
			return fmt.Errorf("%s (%s).transport is %q; want ssh or rest", at, cl.Name, cl.Transport)
		}
	}
	return nil
}

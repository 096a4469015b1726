package ray

import (
	pluginsConfig "github.com/flyteorg/flyte/flyteplugins/go/tasks/config"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/tasklog"
	v1 "k8s.io/api/core/v1"
)

//go:generate pflags Config --default-var=defaultConfig

// Config is the `plugins.ray` section. Its keys and defaults are upstream
// flyteplugins v1.16.8's, so an existing propeller config keeps working. The
// plugin only reads it: maps in it are copied, never written, per task.
type Config struct {
	// ShutdownAfterJobFinishes deletes the Ray cluster once the job ends.
	ShutdownAfterJobFinishes bool `json:"shutdownAfterJobFinishes,omitempty" pflag:",Delete the Ray cluster once the Ray job finishes"`
	// TTLSecondsAfterFinished is how long KubeRay keeps a finished cluster
	// before deleting it; only used when the cluster is shut down.
	TTLSecondsAfterFinished int32 `json:"ttlSecondsAfterFinished,omitempty" pflag:",Seconds KubeRay keeps a finished Ray cluster before deleting it (with shutdownAfterJobFinishes)"`
	// ServiceType is the head service's type: ClusterIP, NodePort or LoadBalancer.
	ServiceType string `json:"serviceType,omitempty" pflag:",Kubernetes service type of the Ray head service (ClusterIP or NodePort or LoadBalancer)"`
	// EnableIngress makes KubeRay create an Ingress for the head. Off by
	// default: exposing the head is the platform's security decision.
	EnableIngress bool `json:"enableIngress,omitempty" pflag:",Let KubeRay create an Ingress for the Ray head"`
	// IncludeDashboard starts the Ray dashboard on the head unless the task
	// says otherwise in its start parameters.
	IncludeDashboard bool `json:"includeDashboard,omitempty" pflag:",Start the Ray dashboard on the head node"`
	// DashboardHost is the address the dashboard binds to.
	DashboardHost string `json:"dashboardHost,omitempty" pflag:",Host the Ray dashboard binds to (0.0.0.0 for all interfaces)"`
	// DeprecatedNodeIPAddress is the node IP address of both groups, read
	// only where defaults.{headNode,workerNode}.ipAddress is empty.
	DeprecatedNodeIPAddress string `json:"nodeIPAddress,omitempty" pflag:"-,DEPRECATED. Use defaults.headNode.ipAddress and defaults.workerNode.ipAddress"`
	// RemoteClusterConfig runs Ray jobs in another Kubernetes cluster.
	RemoteClusterConfig k8s.ClusterConfig `json:"remoteClusterConfig" pflag:",Configuration of remote K8s cluster for ray jobs"`
	// Logs are the log links of a Ray job; templates can use
	// {{ .rayClusterName }} and {{ .rayJobID }}.
	Logs logs.LogConfig `json:"logs" pflag:"-,Log configuration for ray jobs"`
	// LogsSidecar is added to the head pod with the Ray log directory
	// (/tmp/ray) mounted read-only.
	LogsSidecar *v1.Container `json:"logsSidecar" pflag:"-,Sidecar to inject into head pods for capturing ray job logs"`
	// DashboardURLTemplate is the Ray dashboard link shown while the job runs.
	DashboardURLTemplate *tasklog.TemplateLogPlugin `json:"dashboardURLTemplate" pflag:"-,Template for URL of Ray dashboard running on a head node."`
	// Defaults are the start parameters and IP address of each group when
	// the task sets none.
	Defaults DefaultConfig `json:"defaults" pflag:"-,Default configuration for ray jobs"`
	// EnableUsageStats lets Ray report usage stats (usage-stats.ray.io);
	// off, every node gets disable-usage-stats; on, the one in the default
	// start parameters is dropped (a task's own is kept).
	EnableUsageStats bool `json:"enableUsageStats" pflag:",Enable usage stats for ray jobs. These stats are submitted to usage-stats.ray.io per https://docs.ray.io/en/latest/cluster/usage-stats.html"`
	// ServiceAccount, when set, is the service account of every Ray pod,
	// whatever the task's; a group's own k8s_pod still wins for that group.
	ServiceAccount string `json:"serviceAccount" pflag:",The k8s service account to run as"`
}

// DefaultConfig holds the per-group defaults.
type DefaultConfig struct {
	// HeadNode applies to the head group.
	HeadNode NodeConfig `json:"headNode,omitempty" pflag:"-,Default configuration for head node of ray jobs"`
	// WorkerNode applies to every worker group.
	WorkerNode NodeConfig `json:"workerNode,omitempty" pflag:"-,Default configuration for worker node of ray jobs"`
}

// NodeConfig is one group's defaults.
type NodeConfig struct {
	// StartParameters are the group's `ray start` parameters when the task
	// sets none for it.
	StartParameters map[string]string `json:"startParameters,omitempty" pflag:"-,Start parameters for the node"`
	// IPAddress is the group's node-ip-address start parameter unless the
	// task's parameters have one.
	IPAddress string `json:"ipAddress,omitempty" pflag:"-,IP address of the node"`
}

var (
	defaultConfig = Config{
		ShutdownAfterJobFinishes: true,
		TTLSecondsAfterFinished:  3600,
		ServiceType:              "NodePort",
		EnableIngress:            false,
		IncludeDashboard:         true,
		DashboardHost:            "0.0.0.0",
		EnableUsageStats:         false,
		Defaults: DefaultConfig{
			HeadNode: NodeConfig{
				StartParameters: map[string]string{paramDisableUsageStats: "true"},
				IPAddress:       "$MY_POD_IP",
			},
			WorkerNode: NodeConfig{
				StartParameters: map[string]string{paramDisableUsageStats: "true"},
				IPAddress:       "$MY_POD_IP",
			},
		},
	}

	configSection = pluginsConfig.MustRegisterSubSection("ray", &defaultConfig)
)

// GetConfig returns the current `plugins.ray` section. Treat it as read-only.
func GetConfig() *Config {
	return configSection.GetConfig().(*Config)
}

// SetConfig replaces the `plugins.ray` section (tests and tools).
func SetConfig(cfg *Config) error {
	return configSection.SetConfig(cfg)
}

// headIPAddress is the head's node-ip-address default, falling back to the
// deprecated top-level key.
func (c *Config) headIPAddress() string {
	if c.Defaults.HeadNode.IPAddress != "" {
		return c.Defaults.HeadNode.IPAddress
	}
	return c.DeprecatedNodeIPAddress
}

// workerIPAddress is the workers' node-ip-address default, as headIPAddress.
func (c *Config) workerIPAddress() string {
	if c.Defaults.WorkerNode.IPAddress != "" {
		return c.Defaults.WorkerNode.IPAddress
	}
	return c.DeprecatedNodeIPAddress
}

package demo

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// DatabricksTokenEnv is the environment variable propeller's secret manager
// reads the Databricks token from: the env-prefix FLYTE_SECRET_ plus the
// plugin's default token key.
const DatabricksTokenEnv = "FLYTE_SECRET_FLYTE_DATABRICKS_API_TOKEN" // #nosec G101 -- a variable name

// storageContainer is the blob-store container (a directory with stow's local
// kind).
const storageContainer = "flytedist-demo"

// propellerSettings are the values the demo's propeller config needs.
type propellerSettings struct {
	Kubeconfig         string
	Namespace          string
	BlobDir            string
	EventAddr          string
	ProfilerPort       int
	DatabricksInstance string
	// Slurm is the local Slurm cluster; nil leaves the slurm plugin out.
	Slurm *slurmSettings
	// Queueing sends one task type to a Kueue LocalQueue; nil queues
	// nothing.
	Queueing *queueingSettings
}

// queueingSettings are the demo's plugins.queueing: provider kueue, no
// default queue (so no other task is queued) and one override.
type queueingSettings struct {
	TaskType string
	Queue    string
}

// storageConfig is the flytestdlib storage section: stow's local kind in a
// directory, with one container.
//
//nolint:goconst // config keys read best as they appear in YAML
func storageConfig(blobDir string) map[string]any {
	return map[string]any{
		"type":      "stow",
		"container": storageContainer,
		"stow": map[string]any{
			"kind":   "local",
			"config": map[string]any{"path": blobDir},
		},
		"enable-multicontainer": false,
	}
}

// logsURL is the Kubernetes dashboard the log links point at.
const logsURL = "http://localhost:30082"

// propellerConfig is a complete FlytePropeller config: the upstream task
// plugin list and plugin sections an existing platform has, plus what a
// one-machine run needs (local blob store, no flyteadmin, quick
// re-evaluation).
//
//nolint:goconst // config keys and plugin IDs read best as they appear in YAML
func propellerConfig(s propellerSettings) map[string]any {
	cfg := baseConfig(s)
	if s.Slurm != nil {
		tp := cfg["tasks"].(map[string]any)["task-plugins"].(map[string]any)
		tp["enabled-plugins"] = append(tp["enabled-plugins"].([]string), "slurm")
		types := tp["default-for-task-types"].(map[string]any)
		types["slurm"] = "slurm"
		types["slurm_fn"] = "slurm"
		cfg["plugins"].(map[string]any)["slurm"] = slurmConfig(*s.Slurm)
	}
	if q := s.Queueing; q != nil {
		cfg["plugins"].(map[string]any)["queueing"] = map[string]any{
			"provider":  "kueue",
			"overrides": []any{map[string]any{"taskType": q.TaskType, "queue": q.Queue}},
		}
	}
	return cfg
}

// baseConfig is propellerConfig without the slurm plugin.
//
//nolint:goconst // config keys and plugin IDs read best as they appear in YAML
func baseConfig(s propellerSettings) map[string]any {
	return map[string]any{
		"propeller": map[string]any{
			"kube-config":              s.Kubeconfig,
			"create-flyteworkflow-crd": true,
			"limit-namespace":          s.Namespace,
			"workers":                  4,
			"workflow-reeval-duration": "2s",
			"downstream-eval-duration": "2s",
			"metadata-prefix":          "metadata/propeller",
			"rawoutput-prefix":         "file://" + storageContainer + "/raw",
			// Launch plans are flyteadmin's: fail fast instead of calling it.
			"enable-admin-launcher": false,
			"leader-election":       map[string]any{"enabled": false},
			"prof-port":             s.ProfilerPort,
			"max-workflow-retries":  3,
			"node-config": map[string]any{
				"default-max-attempts": 1,
			},
			"kube-client-config": map[string]any{"qps": 50, "burst": 100, "timeout": "30s"},
		},
		// Events go to the demo's event receiver over flyteadmin's event API
		// (see eventReceiver); nothing else of flyteadmin is used.
		"admin": map[string]any{
			"endpoint": "dns:///" + s.EventAddr,
			"insecure": true,
		},
		"event": map[string]any{
			"type":     "admin",
			"rate":     500,
			"capacity": 1000,
		},
		"catalog-cache": map[string]any{"type": "noop"},
		"storage":       storageConfig(s.BlobDir),
		"logger":        map[string]any{"level": 4, "show-source": true},
		"tasks": map[string]any{
			"task-plugins": map[string]any{
				"enabled-plugins": []string{"container", "sidecar", "k8s-array", "spark", "ray", "dask", "pytorch", "databricks"},
				"default-for-task-types": map[string]any{
					"container":       "container",
					"sidecar":         "sidecar",
					"container_array": "k8s-array",
					"spark":           "spark",
					"ray":             "ray",
					"dask":            "dask",
					"pytorch":         "pytorch",
					"databricks":      "databricks",
				},
			},
		},
		"plugins": map[string]any{
			// The platform-wide log links: the Kubeflow plugins render them
			// once per replica pod ("Kubernetes Logs(master-0)", ...).
			"logs": map[string]any{
				"kubernetes-enabled":      true,
				"kubernetes-template-uri": logsURL + "/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}",
			},
			"spark": map[string]any{
				"spark-config-default": map[string]string{
					"spark.kubernetes.allocation.batch.size": "50",
				},
				"spark-history-server-url": "https://spark-history.example.com",
				"logs": map[string]any{
					"mixed": map[string]any{
						"kubernetes-enabled": true,
						"kubernetes-url":     logsURL,
					},
				},
			},
			"ray": map[string]any{
				"ttlSecondsAfterFinished": 3600,
				"dashboardURLTemplate": map[string]any{
					"displayName":  "Ray Dashboard",
					"templateUris": []string{"http://localhost:30080/ray/{{ .namespace }}/{{ .rayClusterName }}/"},
				},
				"logs": map[string]any{
					"kubernetes-enabled": true,
					"kubernetes-url":     logsURL,
				},
			},
			"dask": map[string]any{
				"dashboardURLTemplate": map[string]any{
					"displayName":  "Dask Dashboard",
					"templateUris": []string{"http://localhost:30080/dask/{{ .namespace }}/{{ .daskSchedulerService }}/status"},
				},
				"logs": map[string]any{
					"kubernetes-enabled": true,
					"kubernetes-url":     logsURL,
				},
			},
			"databricks": map[string]any{
				"databricksInstance": s.DatabricksInstance,
				"entrypointFile":     "dbfs:///FileStore/tables/entrypoint.py",
				// Poll the run every 5 s, the least the web-API machinery allows
				// (upstream's default is 30 s).
				"webApi": map[string]any{
					"caching": map[string]any{"resyncInterval": "5s"},
				},
			},
		},
	}
}

// writePropellerConfig writes the config as YAML to dir/propeller.yaml.
func writePropellerConfig(dir string, s propellerSettings) (string, error) {
	b, err := yaml.Marshal(propellerConfig(s))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "propeller.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("writing the propeller config: %w", err)
	}
	return path, nil
}

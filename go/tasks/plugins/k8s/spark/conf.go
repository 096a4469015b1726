package spark

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
)

// Spark configuration keys the plugin reads or writes.
const (
	keyPysparkPython        = "spark.pyspark.python"
	keyPysparkDriverPython  = "spark.pyspark.driver.python"
	keyDriverCores          = "spark.driver.cores"
	keyExecutorCores        = "spark.executor.cores"
	keyDriverMemory         = "spark.driver.memory"
	keyExecutorMemory       = "spark.executor.memory"
	keyExecutorInstances    = "spark.executor.instances"
	keyDriverRequestCores   = "spark.kubernetes.driver.request.cores"
	keyExecutorRequestCores = "spark.kubernetes.executor.request.cores"
	keyDriverLimitCores     = "spark.kubernetes.driver.limit.cores"
	keyExecutorLimitCores   = "spark.kubernetes.executor.limit.cores"
	keyPodNamePrefix        = "spark.kubernetes.executor.podNamePrefix"
	keyStartTime            = "spark.kubernetes.driverEnv.FLYTE_START_TIME"
	keyBatchScheduler       = "spark.batchScheduler"
	// Options of the batch scheduler (new keys of ours; upstream has none).
	keyBatchSchedulerQueue    = "spark.batchScheduler.queue"
	keyBatchSchedulerPriority = "spark.batchScheduler.priorityClassName"
)

// maxPodNamePrefix is the longest executor pod-name prefix Spark accepts:
// executor pods are named "<prefix>-exec-<n>" and must stay a DNS label.
const maxPodNamePrefix = 47

// sparkConf assembles the application's spark conf, in order: the platform
// defaults, the python interpreter from executorPath, then the task's conf
// (features it switches on expand first, so the task's explicit keys win),
// then the limits and the values the plugin owns.
func sparkConf(cfg *Config, job *plugins.SparkJob, podNamePrefix string, now time.Time) map[string]string {
	conf := make(map[string]string, len(cfg.DefaultSparkConfig)+len(job.GetSparkConf())+6)
	for k, v := range cfg.DefaultSparkConfig {
		conf[k] = v
	}
	if p := job.GetExecutorPath(); p != "" {
		conf[keyPysparkPython] = p
		conf[keyPysparkDriverPython] = p
	}
	// Features expand in name order so two features that set one key give
	// the same result every time.
	var enabled []*Feature
	for k, v := range job.GetSparkConf() {
		if name, ok := featureName(k); ok && strings.EqualFold(strings.TrimSpace(v), "true") {
			if f := findFeature(cfg.Features, name); f != nil {
				enabled = append(enabled, f)
			}
		}
	}
	slices.SortFunc(enabled, func(a, b *Feature) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range enabled {
		for k, v := range f.SparkConfig {
			conf[k] = v
		}
	}
	for k, v := range job.GetSparkConf() {
		if name, ok := featureName(k); ok && strings.EqualFold(strings.TrimSpace(v), "true") && findFeature(cfg.Features, name) != nil {
			continue
		}
		conf[k] = v
	}
	defaultLimit(conf, keyDriverLimitCores, keyDriverRequestCores, keyDriverCores)
	defaultLimit(conf, keyExecutorLimitCores, keyExecutorRequestCores, keyExecutorCores)
	conf[keyPodNamePrefix] = podNamePrefix
	conf[keyStartTime] = strconv.FormatInt(now.UnixMilli(), 10)
	return conf
}

// featureName recognises spark.flyte.<name>.enabled and
// spark.flyteorg.<name>.enabled.
func featureName(key string) (string, bool) {
	const suffix = ".enabled"
	if !strings.HasSuffix(key, suffix) {
		return "", false
	}
	rest := strings.TrimSuffix(key, suffix)
	for _, prefix := range [...]string{"spark.flyteorg.", "spark.flyte."} {
		if name, ok := strings.CutPrefix(rest, prefix); ok && name != "" {
			return name, true
		}
	}
	return "", false
}

func findFeature(features []Feature, name string) *Feature {
	for i := range features {
		if features[i].Name == name {
			return &features[i]
		}
	}
	return nil
}

// defaultLimit sets a core limit the task left unset from the matching
// request, else from the role's cores, so the pod gets a CPU limit Spark
// itself would not set.
func defaultLimit(conf map[string]string, limit string, fallbacks ...string) {
	if conf[limit] != "" {
		return
	}
	for _, k := range fallbacks {
		if v := conf[k]; v != "" {
			conf[limit] = v
			return
		}
	}
}

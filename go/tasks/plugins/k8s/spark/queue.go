package spark

import (
	"strings"

	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// A SparkApplication can wait in a queue: spark-operator 2.5 honours
// spec.suspend (Kueue's SparkApplication integration admits by clearing
// it) and hands pods to Volcano or YuniKorn through spec.batchScheduler.
var (
	_ kit.Suspender[*sparkv1beta2.SparkApplication]      = (*job)(nil)
	_ kit.KueueChecker[*sparkv1beta2.SparkApplication]   = (*job)(nil)
	_ kit.BatchScheduled[*sparkv1beta2.SparkApplication] = (*job)(nil)
)

// keyDynamicAllocation is Spark's switch for growing and shrinking the
// executor set at run time.
const keyDynamicAllocation = "spark.dynamicAllocation.enabled"

// Suspend creates the application suspended, with its memory sizes in the
// lower-case units Kueue can read: Kueue v0.17 converts them with
// spark-operator's helper, which turns "1000M" into "1000MMi", fails to
// parse it and never makes a Workload, so the task would wait forever.
// Spark reads JVM sizes case-insensitively, so nothing else changes.
func (j *job) Suspend(app *sparkv1beta2.SparkApplication) {
	app.Spec.Suspend = ptr(true)
	for _, m := range []**string{&app.Spec.Driver.Memory, &app.Spec.Driver.MemoryLimit, &app.Spec.Executor.Memory, &app.Spec.Executor.MemoryLimit} {
		if *m != nil {
			*m = ptr(strings.ToLower(**m))
		}
	}
}

// Suspended reports whether the application is held.
func (j *job) Suspended(app *sparkv1beta2.SparkApplication) bool {
	return app.Spec.Suspend != nil && *app.Spec.Suspend
}

// CheckKueue refuses what Kueue cannot admit: dynamic allocation (Kueue
// reserves a fixed executor count; its webhook rejects the application
// unless elastic workloads are on, and a conf switch would grow past the
// quota unseen).
func (j *job) CheckKueue(app *sparkv1beta2.SparkApplication) error {
	if app.Spec.DynamicAllocation != nil && app.Spec.DynamicAllocation.Enabled {
		return kit.BadSpec("spec.dynamicAllocation.enabled", true, "Kueue admits a SparkApplication with a fixed executor count only; turn dynamic allocation off or run the task outside the queue")
	}
	if v, ok := app.Spec.SparkConf[keyDynamicAllocation]; ok && strings.EqualFold(strings.TrimSpace(v), "true") {
		return kit.BadSpec("custom.sparkConf."+keyDynamicAllocation, v, "Kueue admits a SparkApplication with a fixed executor count only; set it to false or run the task outside the queue")
	}
	return nil
}

// ScheduleWith hands the application to Volcano or YuniKorn with its queue
// and priority class, unless the task's sparkConf already chose a batch
// scheduler (spark.batchScheduler): what the task says wins, as a queue
// label does.
func (j *job) ScheduleWith(app *sparkv1beta2.SparkApplication, p queueing.Placement) {
	if app.Spec.BatchScheduler != nil && *app.Spec.BatchScheduler != "" {
		return
	}
	app.Spec.BatchScheduler = ptr(p.Provider)
	opts := &sparkv1beta2.BatchSchedulerConfiguration{Queue: ptr(p.Queue)}
	if p.PriorityClass != "" {
		opts.PriorityClassName = ptr(p.PriorityClass)
	}
	app.Spec.BatchSchedulerOptions = opts
}

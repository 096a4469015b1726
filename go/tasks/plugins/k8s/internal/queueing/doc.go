// Package queueing is what the k8s plugins share to place a task's job in a
// platform's queue (Kueue, Volcano, YuniKorn) and to tell the user why it
// waits: the `plugins.queueing` config section, the rule that picks a
// task's queue and priority class, and the reader of Kueue's Workload for a
// job. The kit applies it to every plugin through small optional
// interfaces a job kind implements (kit.Suspender, kit.BatchScheduled).
package queueing

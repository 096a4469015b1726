// Package pytorch is the `pytorch` k8s plugin: flytekit's PyTorch and
// Elastic (nnodes > 1) tasks become the Training Operator's PyTorchJob
// (kubeflow.org/v1), drop-in for upstream flyteplugins v1.16.8's plugin of
// the same ID, task type and config section (`plugins.kf-operator`).
//
// Every replica is derived from the task pod (kf, kit) with the primary
// container named `pytorch`; the master is always one replica and may be
// alone (no workers); an elastic task drops the master, as upstream, and
// needs at least one worker; its min/max replicas, rendezvous backend and
// max restarts go to the operator's elasticPolicy and processes per node to
// the job's nprocPerNode (the operator's webhook deprecates
// elasticPolicy.nProcPerNode); zero values are left to the operator's
// defaults.
//
// Decisions where the spec page is silent: every replica's primary
// container (master and workers, both proto versions) gets
// FLYTE_INTERNAL_WORKER_NAME (its pod's name) and, when
// plugins.k8s.enable-distributed-error-aggregation is on, the aggregation
// strategy, so each replica's error file is its own (upstream sets them on
// v1 workers only, on containers[0]); master and workers follow the task's
// interruptible flag, as upstream.
package pytorch

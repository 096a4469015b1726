// Package mpi is the `mpi` k8s plugin: flytekit's MPI and Horovod tasks
// become the Training Operator's MPIJob (kubeflow.org/v1, not
// mpi-operator's v2beta1), drop-in for upstream flyteplugins v1.16.8's
// plugin of the same ID, task type and config section
// (`plugins.kf-operator`).
//
// One launcher and the workers are derived from the task pod (kf, kit)
// with the primary container named `mpi`. v0 tasks: one launcher
// (num_launcher_replicas 0 or 1; more is a BadTaskSpecification, since the
// operator never reconciles such a job, where the spec's max(1, n) would
// leave it hanging), the workers run the task config's
// `worker_spec_command` split on whitespace. v1 tasks: the launcher's
// `command` becomes its args, as upstream, and is always one replica; the
// workers' `command` is their command. Workers get their command as the
// container's command, args cleared, not as args (upstream's way): the
// operator (v1.8) replaces an empty worker command with `sleep 365d`, so
// upstream's worker commands never run. Without one the workers keep the
// operator's sleep (mpirun reaches them through kubectl exec). The primary
// container is first in every MPI pod: the operator takes containers[0]
// as the main one.
// `slots` sets slotsPerWorker for both versions (upstream drops v1's);
// unset is 1. The launcher is never interruptible (it holds mpirun and no
// GPUs); workers follow the task. Links include the launcher
// (`<job>-launcher`), which upstream's lack.
package mpi

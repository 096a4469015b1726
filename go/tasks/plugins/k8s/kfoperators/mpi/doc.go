// Package mpi is the `mpi` k8s plugin: flytekit's MPI and Horovod tasks
// become the Training Operator's MPIJob (kubeflow.org/v1, not
// mpi-operator's v2beta1), drop-in for upstream flyteplugins v1.16.8's
// plugin of the same ID, task type and config section
// (`plugins.kf-operator`).
//
// One launcher and the workers are derived from the task pod (kf, kit)
// with the primary container named `mpi`. v0 tasks: launchers =
// max(1, num_launcher_replicas), the workers' args are the task config's
// `worker_spec_command` split on whitespace with the command cleared (no
// key: the image's entrypoint, as upstream). v1 tasks: a replica's
// `command` becomes its args, as upstream; the launcher is always one.
// `slots` sets slotsPerWorker for both versions (upstream drops v1's);
// unset is 1. The launcher is never interruptible (it holds mpirun and no
// GPUs); workers follow the task. Links include the launcher
// (`<job>-launcher`), which upstream's lack.
package mpi

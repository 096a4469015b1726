// Package dask is the Flyte k8s plugin for `dask` tasks: it turns a task into
// a DaskJob (kubernetes.dask.org/v1, the dask-kubernetes operator) and maps
// the job's status to Flyte phases with log and dashboard links. It
// registers itself as plugin "dask" in init, a drop-in replacement for
// upstream flyteplugins v1.16.8's, and reads the `plugins.dask` section.
//
// A DaskJob has three roles, all derived from the task's pod as Flyte builds
// it (platform config, the task's and the execution's pod templates,
// resources), see kit.BuildTaskPod:
//
//   - the job runner (container "job-runner") runs the task itself: the
//     task's image, command, args, env and resources; restart Never;
//   - the scheduler (container "scheduler") runs `dask scheduler` with ports
//     tcp-comm 8786 and dashboard 8787 behind a Service of the configured type;
//   - the workers (container "dask-worker"), number_of_workers of them, run
//     `dask worker --name $(DASK_WORKER_NAME)` with --nthreads and
//     --memory-limit from their cpu and memory limits.
//
// The runner and scheduler are never interruptible (losing either loses the
// job); the workers follow the task's interruptible flag.
//
// Decisions taken where spec/dask.md is silent:
//
//   - The scheduler and workers run the image's entrypoint: the task's
//     command (a pyflyte entrypoint, if any) is dropped there, since
//     appending `dask scheduler` to it would run nonsense.
//   - A role's image from the custom proto wins over the execution's image
//     override, as upstream; without one the role keeps the task's image
//     (override included).
//   - The custom proto's resources count as set when at least one quantity is
//     non-zero; a zero quantity means unset, as Flyte treats a container's.
//     GPUs are named nvidia.com/gpu as for the task's own container. A
//     negative quantity is a BadTaskSpecification, like one that does not
//     parse. Extended resources they ask for (GPUs) get the platform's
//     tolerations, as Flyte gives the task pod for its own. The platform
//     resources handed in by propeller are never modified.
//   - --nthreads is the cpu limit rounded up (at least 1); --memory-limit is
//     the memory limit in bytes, which Dask reads without ambiguity (a
//     Kubernetes suffix such as "m" means something else to Dask).
//   - number_of_workers above 2147483647 is a BadTaskSpecification too: the
//     operator's Deployment cannot hold that many replicas.
//   - Labels and annotations (platform defaults, pod template, execution) go
//     on the DaskJob and on its cluster's metadata, as upstream. The
//     operator copies the DaskJob's onto the cluster, the runner pod, the
//     scheduler and the workers. The Go client has no per-role pod metadata,
//     and the CRD of the operator version we build against prunes
//     spec.cluster.metadata (its controller reads it; the integration test
//     pins exactly that loss), so the DaskJob's own are what count.
//   - An unknown plugins.dask.schedulerServiceType fails the build with
//     PluginInitializationFailed naming the value; the match is
//     case-insensitive. ExternalName is not offered: it selects no pods.
//   - Log links point at the runner pod the operator reports, else at the
//     name the operator gives it (<job>-runner), so links are the same from
//     the first round on. The templates get two extra variables,
//     {{ .daskClusterName }} and {{ .daskSchedulerService }}.
//   - The dashboard link is shown only while the cluster exists
//     (ClusterCreated, Running) and is marked hide-once-finished: the
//     operator deletes the cluster when the job ends. Without a display name
//     it is called "Dask Dashboard".
//   - GetCompletionTime is the job's end time, else its start, else its
//     creation, and the zero time while the job is not terminal.
//   - Queues (plugins.queueing): a DaskJob has no suspend field, so Kueue
//     cannot hold it and it is created runnable, without Kueue's queue
//     label (Kueue would otherwise count a job it cannot stop). While it is
//     Queued its reason says it is not queued by Kueue and why. Gating it
//     with a Workload the plugin owns was considered and left: the plugin
//     would have to create and watch a second object per task and undo the
//     job's pods on eviction, which is Kueue's job for kinds it manages.
//     Volcano and YuniKorn: the operator has no batch-scheduler hook, so a
//     platform sets the scheduler name through plugins.k8s or pod templates.
package dask

// Package ray is the Flyte plugin for Ray tasks (task type "ray"): it turns
// a task into a KubeRay RayJob (ray.io/v1) and maps the RayJob's status to
// Flyte phases with log and dashboard links. It registers itself in init as
// plugin "ray" with the `plugins.ray` config section, keys and defaults as
// upstream flyteplugins v1.16.8, so a propeller config that enables "ray"
// gets it unchanged. It is built on the shared k8s plugin kit
// (internal/kit): the task's pod is built once by Flyte's own pod building
// and each Ray group derives its pod from it.
//
// Decisions spec/ray.md leaves open, written down here:
//
// Building the RayJob
//
//   - The entrypoint is the task container's command followed by its args
//     (flytekit sets only args), each quoted the POSIX-shell way only when
//     it needs it. Head and worker containers get command and args cleared:
//     KubeRay runs a container's own command before `ray start`, so
//     leaving the task's there would run the task on every node.
//   - The Ray container is moved to index 0 of the head and worker pods,
//     because KubeRay takes the first container as the Ray node.
//   - Node env and ports are set by name (never duplicated), and the role's
//     own settings (env, ports, preStop, service account) are applied before
//     the group's k8s_pod overlay, so the user's overlay wins over them.
//   - The logs sidecar is added after the overlay, so when the overlay
//     mounts its own volume at /tmp/ray the sidecar reads that one instead
//     of a second volume being mounted on the same path.
//   - Start parameters: the group's when it sets any, else the config's
//     defaults, always copied. node-ip-address, dashboard-host and
//     include-dashboard are only filled with non-empty values. The
//     deprecated top-level nodeIPAddress is read when
//     defaults.{headNode,workerNode}.ipAddress is empty (upstream copies it
//     there when the config loads; reading it instead never writes to the
//     config).
//   - Without shutdown the TTL is 0: KubeRay v1.5 rejects a TTL on a
//     cluster it does not shut down. A task's negative TTL is a bad
//     specification; a task TTL without shutdown_after_job_finishes=true is
//     not used (the config decides).
//   - runtime_env_yaml must parse as a YAML mapping (KubeRay's own check,
//     done early as a BadTaskSpecification). A runtime_env of JSON null
//     means no runtime environment.
//   - activeDeadlineSeconds is the task timeout rounded up to whole seconds
//     (at most MaxInt32); no timeout, no deadline.
//   - Worker groups need a name that is a valid label value and unique in
//     the task (KubeRay labels pods with it); negative replica counts are
//     bad specifications. Autoscaler options given by the task are passed
//     even when autoscaling is off (KubeRay ignores them then); a negative
//     idle timeout, an unknown upscaling mode or unparsable resources are
//     bad specifications (upstream drops bad resources silently).
//   - enableIngress is always set explicitly, true only when configured.
//   - The submitter pod runs the task's image (it has the Ray CLI) with
//     KubeRay's own default submitter resources (500m/200Mi requests,
//     1/1Gi limits), the task's service account, image pull secrets,
//     scheduler, priority class, DNS settings and pod security context, the
//     platform's default tolerations, node selector, affinity, env and
//     container security context, and the non-interruptible node
//     requirement. Labels and annotations are the task pod's.
//   - The RayJob's own labels and annotations are the task pod's (propeller
//     adds the execution's).
//
// Status
//
//   - Waiting (interactive mode) is Queued with reason "Waiting"; Retrying
//     is Running with reason "Retrying" (KubeRay retries on a new cluster).
//   - Complete with Ray job status STOPPED (someone ran `ray job stop`) is
//     a permanent failure, not a success.
//   - Failed is classified by KubeRay's reason and how far the user's code
//     got (Ray's job status), in failureTable: SubmissionFailed,
//     JobDeploymentStatusTransitionGracePeriodExceeded, AppFailed without a
//     FAILED Ray job (the head pod or the job vanished) and
//     DeadlineExceeded before the job ran are system-retryable;
//     DeadlineExceeded while running is a retryable (user) timeout; a FAILED
//     Ray job, or a reason KubeRay may add later, is the user's failure.
//   - A user failure reads the task's error file: RECOVERABLE is
//     retryable, NON_RECOVERABLE permanent, and no error file (the process
//     crashed before writing one) retryable, as the error reader itself
//     treats a missing file. An error file too large to read is retryable
//     rather than an error every round. Its code and message are appended
//     to the phase's reason.
//   - Every failure asks propeller to delete the RayJob
//     (CleanupOnFailure), so a failed job's cluster does not linger when
//     shutdownAfterJobFinishes is off.
//
// Links
//
//   - {{ .podName }} is the head pod's name once KubeRay reports it.
//     Variables KubeRay has not reported yet stay as written in the link,
//     as tasklog leaves unknown variables.
//   - The dashboard link needs dashboardURLTemplate, Ray job status RUNNING
//     and a dashboard URL in the status.
//
// Plugin
//
//   - GetProperties leaves owner references out when remoteClusterConfig is
//     enabled: the owning workflow lives in another cluster.
//   - GetCompletionTime is KubeRay's end time, else the Ray job's, else the
//     RayJob's creation, once terminal; the zero time before.
package ray

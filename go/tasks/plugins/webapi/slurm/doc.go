// Package slurm is the Slurm web-API plugin: task types "slurm"
// (flytekitplugins-slurm's SlurmTask / SlurmShellTask) and "slurm_fn"
// (SlurmFunctionTask) run as Slurm batch jobs, from FlytePropeller itself.
//
// Decisions (where ../shared/spec/slurm.md is silent or the connector is
// unsafe):
//
//   - Clusters come from plugins.slurm.clusters only. A task's
//     ssh_config.host (or cluster) picks one by name or alias; an unknown
//     one is a BadTaskSpecification naming it. Every other ssh_config key
//     (client_keys, username, known_hosts, port, ...) is ignored, and the
//     task's reason says so: the platform's user and credentials are used.
//   - Custom fields mean what the connector makes of them: sbatch_config
//     (and the older sbatch_conf) are sbatch long options; slurm_fn's
//     script has {task.fn} replaced by the task's container args (each
//     quoted, where the connector joins them raw), and without a script
//     the job is "#!/bin/bash" plus that command; a shell task's script has
//     {inputs.x} and {outputs.y} filled in unquoted (the connector's
//     f-string semantics; the script author quotes), output_locs
//     interpolated with the inputs become the outputs; batch_script_path
//     runs a script already on the cluster with batch_script_args (each
//     quoted).
//   - sbatch option names are checked against a known set; job-name,
//     comment, parsable, wrap, uid, gid, wait and test-only belong to the
//     plugin. Values reach the shell single-quoted.
//   - Exactly once: the job name is a marker from the task execution's
//     generated name (flyte-<name>-<hash>). Create first looks for a job of
//     ours with that name (squeue --name, or the REST job list) and adopts
//     it; over SSH the lookup and the sbatch are one remote command.
//   - Inline scripts reach the cluster on the SSH session's stdin and are
//     written under scriptDir (0700) before sbatch runs them, so
//     batch_script_args work for them too; over REST the script is the
//     job's script and options become job fields (REST ignores #SBATCH);
//     an option REST cannot express is a BadTaskSpecification.
//   - SSH: one connection per cluster, dialled with the private key read
//     from the secret manager and the host key pinned by hostKey (known_hosts
//     lines or a bare key); each call is a session on it. REST: a JWT read
//     from the secret manager per request; v0.0.38/39 shapes (job_state a
//     string, raw wait status) and v0.0.40+ (lists, {set, number}) behind
//     one client chosen by apiVersion.
//   - Status: one table (status.go). FAILED and OUT_OF_MEMORY are permanent
//     user failures with exit code or signal, retryable when the task's
//     error file (under the output prefix) says RECOVERABLE;
//     TIMEOUT/DEADLINE permanent; NODE_FAIL, BOOT_FAIL, PREEMPTED, REQUEUED, REVOKED system-retryable; CANCELLED a
//     failure that says whether our abort did it; anything else Running with
//     a reason naming it.
//   - A job the controller no longer lists is resolved from its
//     jobcomp/filetxt record (clusters[].jobCompPath: cat over SSH, a local
//     file for REST), else from the last terminal state this process saw,
//     else it fails system-retryable (the job ended; its outcome is unknown).
//   - Retries: each call is retried within (retry.maxAttempts, jittered
//     exponential backoff); across polls every call to a failing cluster
//     goes through one gate per cluster shared by all its tasks
//     (retry.outageBackoff 30 s doubling to retry.outageMaxBackoff 5 min,
//     one single-try probe per opening), as Databricks does; while the gate
//     is closed Get reports the last state seen without calling.
//   - Credentials never enter JobMeta, logs or errors: errors name the
//     secret key, never its value; REST answers are redacted.
package slurm

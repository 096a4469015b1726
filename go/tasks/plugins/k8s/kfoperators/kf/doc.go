// Package kf is what the three Kubeflow training plugins (pytorch,
// tensorflow, mpi) share on top of the kit: the `plugins.kf-operator`
// config section, reading either custom proto version, replica pods
// derived from the task pod built once, the run policy, the condition
// table and the per-replica links. Each plugin package is a Kind: its
// build and the few facts that differ (container name, replica order, pod
// names, properties).
//
//   - config.go: the section (upstream's `timeout`, our `maxReplicaLinks`).
//   - task.go: reading the task, the job's metadata and run policy.
//   - replica.go: replica pods and specs.
//   - status.go: current condition → phase (conditionTable), terminal, finish.
//   - links.go: one link set per replica pod, at the operator's pod names.
//   - job.go: Job, the kit.Job every Kubeflow plugin is.
//
// Decisions written down here because the spec page is silent on them:
//
//   - A failed job's message is "<Kind> failed: [reason] message" from the
//     operator's Failed condition, plus the task's own error when it wrote
//     one. With an error file the failure is the user's (RECOVERABLE
//     retries, else permanent); without one it is system-retryable (pods
//     killed, evicted or never started), unlike upstream which calls every
//     failure the user's.
//   - A job with no status at all (no conditions, no start time) past
//     `timeout` is a system-retryable failure naming the job and asking
//     whether the operator is installed. A job with conditions but no
//     start time has been picked up and is never timed out; a suspended
//     one neither.
//   - Restarting is Running with the operator's reason and message.
//   - Links: every replica pod gets the `plugins.logs` templates with the
//     replica's label as log name ("Kubernetes Logs(worker-3)"), upstream's
//     naming rule (kit.LogName); `{{ .containerName }}` is the operator's
//     container name. Each replica type shows at most `maxReplicaLinks`
//     pods' links (default 32; 0 for no cap).
//   - Negative counts, restart/clean-pod policies outside the proto's
//     enums, negative run-policy values and elastic min above max are
//     BadTaskSpecifications naming the field; zero run-policy values mean
//     unset, as upstream reads them.
//   - The status is not copied into the event's custom info (upstream
//     marshals it on every round); the console gets phase, reason and links.
package kf

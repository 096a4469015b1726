// Package remote is what the web-API plugins (Databricks, Slurm) share:
//
//   - the state-rule model: a plugin's state table maps each remote state to
//     a Rule (an Outcome, a reason, an error code); Rule.Phase is the one
//     switch from outcome to Flyte PhaseInfo, and a state missing from a
//     table becomes UnknownState — Running with a reason naming it, never an
//     error loop;
//   - retries within one call (Retrier: exponential, capped, jittered
//     backoff that honours Retry-After, and a per-host pause when the server
//     asks for longer than a call may wait);
//   - backoff across polls (Outage: one gate per remote endpoint, shared by
//     every task that talks to it, so a persistent outage costs each task a
//     bounded number of calls);
//   - the secret discipline: credentials are read from the secret manager on
//     every call (Secrets), never kept in plugin state, and scrubbed from
//     anything that becomes an error or a log line (Redact,
//     ScrubTransportError).
//
// It mirrors the k8s plugins' kit.Rule model, which lives under
// go/tasks/plugins/k8s/internal where web-API plugins cannot import it.
package remote

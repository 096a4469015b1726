// Package databricks is the Databricks web-API plugin: it runs Flyte tasks as
// one-time runs through the Databricks Jobs API and tracks them to the end.
//
// It registers (in init, through pluginmachinery.PluginRegistry) as plugin
// "databricks" for task types "spark" and "databricks"; both carry a
// flyteidl plugins.SparkJob whose databricksConf is the body of the run. Its
// config section is plugins.databricks with upstream flyteplugins v1.16.8's
// keys and defaults (webApi, resourceConstraints, defaultWarehouse,
// databricksTokenKey = FLYTE_DATABRICKS_API_TOKEN, databricksInstance,
// entrypointFile) and new ones: allowedInstances, namespaceTokenKeys,
// httpTimeout and retry {maxAttempts, baseBackoff, maxBackoff}. See Config.
//
// The package is split by concern: config.go (section, defaults, generated
// flags), route.go (which host, which secret), client.go (the HTTP client),
// build.go (task → runs/submit body), status.go (run state → phase, as
// tables), links.go (console link and task info), plugin.go (registration,
// Create/Get/Delete/Status). Package fakeapi is a local Jobs API server for
// tests and the demo; cmd/databricks-fakeapi runs it as a process.
//
// # Decisions
//
// Where the spec is silent, or where upstream behaves otherwise, this is what
// the plugin does and why.
//
// Trusting the workspace. Requests always go to https://<instance>; there is
// no endpoint override. The HTTP client trusts the system certificate pool
// and nothing else, so a private CA is trusted the platform way: SSL_CERT_FILE
// (or SSL_CERT_DIR) set in propeller's environment. The tests do exactly that
// (TestMain writes httptest's certificate to a file and sets SSL_CERT_FILE
// before the first TLS handshake), so the tested path is the production path;
// there is no caCertFile key. Redirects are never followed, so an answer
// cannot carry the token to another host.
//
// No Databricks SDK. github.com/databricks/databricks-sdk-go v0.80.0 is
// served here and resolves against our go.mod without moving any pinned
// module, but it does not do what the spec needs: its typed jobs.SubmitRun
// has only the multi-task "tasks" shape, so the single-task fields flytekit
// puts in databricksConf (new_cluster, existing_cluster_id,
// spark_python_task, notebook_task, libraries, ...) would be dropped without
// a word (only its untyped DatabricksClient.Do would carry them, and that is
// just an HTTP client); its retries are bounded by time (five minutes by
// default), not attempts, and do not cover 500; and its config resolution
// reads DATABRICKS_* variables and ~/.databrickscfg and walks a chain of
// auth methods inside propeller. It would also add three requirements and
// about a hundred packages. A small typed client (client.go) does what the
// spec asks and no more.
//
// The body. The run is the task's databricksConf with: new_cluster's
// docker_image.url defaulted to the task image (other docker_image fields,
// such as basic_auth, are kept) and spark_conf to the task's sparkConf; a
// spark_python_task {python_file: entrypointFile, parameters: the task's
// rendered args} unless the conf brings work of its own (any *_task field,
// git_source or tasks); run_name set to the task execution's generated name
// and idempotency_token to a SHA-256 of the task execution ID and attempt (64
// hex characters), both replacing any the user set — a user's fixed token
// would make every retry return the first, failed run; timeout_seconds set
// from the task timeout (rounded up) when the task has one, else the user's
// is kept. A task whose conf is missing or malformed, or which names no work
// while entrypointFile is empty, fails permanently with BadTaskSpecification
// naming the field and value.
//
// Permanent versus retryable. Create reports what can never succeed (a bad
// task, a 400 from Databricks, a refused token) as a resource in a failed
// state rather than an error, so the web-API machinery fails the task at
// once instead of resubmitting it. Passing trouble (5xx, 429, timeouts,
// dropped connections, garbled answers) is retried inside the call
// (retry.*). If that runs out, Databricks may or may not have created the
// run, and the web-API machinery never calls Create again for an attempt:
// it would fail the attempt (a user retry spent on an outage, and an orphan
// run when the answer was the part that got lost). So Create saves the
// submission unconfirmed (RunMeta.PendingSubmit, the body without the
// token), the task shows Queued, and polling submits it again: the
// idempotency token makes Databricks return the run if it exists and
// create it if not — exactly one run per attempt. Submissions back off
// across polls, not only within a call: after the n-th failed submission in
// a row to a workspace no submission goes there for retry.outageBackoff·2^(n-1)
// (30 s doubling, capped at retry.outageMaxBackoff = 5 min, jittered down by
// up to a quarter), from any task — one gate per workspace, and one probe
// per opening, a single request rather than a retried call. An outage so
// costs a task at most ~15 requests in its first 30 minutes (5 tries in
// Create, then about 10 probes), where every poll used to resubmit (31
// requests in 30 s at a 1 s resync). After 30 minutes without
// a confirmation the attempt fails as a retryable system failure
// (DatabricksSubmitUnconfirmed); an abort meanwhile submits to learn the
// run and cancels it. A Get error is a sync failure counted against
// webApi.caching.maxSystemFailures.

// Retries. Each call is tried at most retry.maxAttempts times. Waits grow
// exponentially from retry.baseBackoff to retry.maxBackoff with jitter in
// their upper half. A Retry-After is honoured (the wait is at least that
// long); one longer than retry.maxBackoff ends the call at once (a
// submission is then unconfirmed, see above) and pauses every call to that
// workspace, from any task, until it is over (at most an hour): no call
// blocks a propeller worker for long, and Databricks gets the pause it
// asked for. Each try is bounded by
// httpTimeout.
//
// Where the run goes. The host is the task's databricksInstance only if it is
// databricksInstance itself or in allowedInstances (compared as lower-case
// host[:port]; "https://" and a trailing slash are accepted, anything else —
// paths, user info, other schemes — makes the task's value invalid);
// otherwise the configured instance is used and a warning logged, so a task
// cannot send the platform's token to a host of its choosing. With no
// configured instance and no allowed task instance the task fails
// permanently.
//
// The token. It is read from the secret manager under databricksTokenKey, or
// under namespaceTokenKeys[namespace] for tasks in a listed namespace. A
// SparkJob's databricksToken is ignored (with a warning): a token in a task
// template is stored by FlyteAdmin and shown to anyone who can read the task,
// and upstream even copied it into plugin state. The plugin state (RunMeta)
// records the run ID, the host and the secret key, never the token. Get and
// Delete have no task context, so they read the token with the secret
// manager propeller passes at load time (its setup context is a
// core.SetupContext with the same secret manager tasks get), falling back to
// the token Create last read for that key. Anything the server sends back
// (error messages, state messages, links) has any copy of the token cut out
// before it is logged, stored or shown.
//
// Polling and cancelling. Run IDs are int64 throughout (never float64; the
// local server hands out IDs above 2^53 to prove it). A run Databricks no
// longer knows (404, RESOURCE_DOES_NOT_EXIST, or 400 "Run <id> does not
// exist.") is a retryable system failure, DatabricksRunNotFound; a refused
// token while polling is a permanent one. Delete cancels the run; a run that
// has finished (INVALID_STATE or "terminal state") or does not exist counts
// as cancelled.
//
// States. status.go holds the spec's table as data, walked exhaustively by a
// test. Error codes are words (DatabricksRunFailed, DatabricksRunTimedOut,
// DatabricksRunCanceled, DatabricksRunSkipped, DatabricksInternalError,
// DatabricksRunUnsuccessful, DatabricksTokenRefused, DatabricksRunNotFound,
// DatabricksRequestRejected, DatabricksStateNotTrusted,
// DatabricksSubmitUnconfirmed,
// BadTaskSpecification). A life-cycle state this
// plugin does not know maps to Running; core.PhaseInfoRunning carries no
// reason, so the reason naming the state travels in TaskInfo.CustomInfo
// ("reason", next to "runId", "lifeCycleState" and "resultState"). States
// that share the Running phase have distinct phase versions so moving between
// them is an update. When an answer has no 2.1 "state" object, the 2.2
// "status" object is read through a second table (WAITING is
// WAITING_FOR_RETRY; termination codes map to result states; termination
// types INTERNAL_ERROR and CLOUD_FAILURE to INTERNAL_ERROR; other codes to
// FAILED, as 2.1 reports them).
//
// Links and outputs. The "Databricks Console" link is the run_page_url from
// runs/get (or https://<instance>/#job/<job>/run/<run> if there is none) and
// is shown from QUEUED on (ShowWhilePending). On success, if the task
// declares outputs, they are read from the task's output prefix with
// ioutils.NewRemoteFileOutputReader and handed to the output writer.
//
// Swapping in for upstream. Upstream's plugin state (its
// ResourceMetaWrapper) is read under its gob name into a type without the
// Token field, so gob drops the token upstream stored: in-flight tasks are
// polled and aborted with the platform's token from the default secret key.
// Plugin state is checked against the config before any token is read or
// sent (the host must be allowed, the secret key one the config names):
// the state lives in the FlyteWorkflow object, not in the config; a state
// that fails the check fails the task (DatabricksStateNotTrusted).
// webApi has no generated flags: flytestdlib v1.16.8's pflags cannot generate
// float64 flags (webApi.readRateLimiter.qps); the YAML keys are unchanged.
// defaultWarehouse is kept so existing configs load, and is unused as it was
// upstream.
package databricks

// Package fakeapi is a local, in-memory server that speaks the part of the
// Databricks Jobs API the Databricks plugin uses: one-time run submission,
// run lookup and run cancellation, under both /api/2.1/jobs/runs/... and
// /api/2.2/jobs/runs/....
//
// It exists so that the plugin's production code path, an HTTPS request to
// https://<instance>/api/2.1/jobs/runs/..., can be exercised end to end in
// tests and in the demo without a Databricks workspace. Server is an
// http.Handler; serve it over TLS (httptest.NewTLSServer in tests, the
// cmd/databricks-fakeapi binary for the demo).
//
// # Behaviour
//
//   - Authentication: every API and admin request must carry
//     "Authorization: Bearer <Options.Token>". As Databricks answers, a
//     missing credential gets 401 {"error_code": "UNAUTHENTICATED", ...} and
//     a token it does not accept 403 {"error_code": 403, "message": "Invalid
//     access token."} — a number, not a word.
//   - Runs walk QUEUED → PENDING → RUNNING → TERMINATING → TERMINATED and end
//     with result_state SUCCESS unless told otherwise. An Outcome picks another
//     ending (FAILED, TIMEDOUT, CANCELED, INTERNAL_ERROR, SKIPPED); it is chosen
//     per run by SetOutcome (by run_name), else by a marker anywhere in the
//     submitted body (a key MarkerKey with the outcome as value, or a string
//     "fakeapi.result_state=<OUTCOME>" in a list such as a task's
//     parameters), else by Options.DefaultOutcome.
//   - Runs move on by time (Options.Durations, evaluated lazily on every
//     read, so there are no background goroutines) or by an explicit Advance.
//     With Options.Manual set they move only on Advance. Force pins a run to
//     an arbitrary state, including states this server never produces by
//     itself (BLOCKED, WAITING_FOR_RETRY, or a state from the future).
//   - runs/get returns the 2.1 "state" object and the 2.2 "status" object
//     (Options.StatusOnly drops the former), a run_page_url on the host the
//     client used, and int64 run and job IDs that start above 2^53 so that a
//     client decoding them through float64 gets them wrong.
//   - runs/submit deduplicates on idempotency_token: the same token returns
//     the same run_id and creates nothing.
//   - runs/cancel of a finished run is a no-op success; of an unknown run it
//     is a 400 INVALID_PARAMETER_VALUE "Run <id> does not exist.", the same
//     answer runs/get gives.
//   - Malformed bodies and submissions that name no task or no cluster get a
//     400 with error_code MALFORMED_REQUEST or INVALID_PARAMETER_VALUE.
//
// # Faults
//
// InjectFault queues faults per endpoint, each consumed by one request: 429
// with Retry-After, 500, 503, a slow response, a 200 with malformed JSON, or a
// dropped connection (the connection is hijacked and closed). A fault applies
// before the request takes effect, or, with Fault.AfterEffect, after it: the
// run is created or cancelled but the client never learns so, which is what
// makes retries without idempotency dangerous.
//
// # Admin endpoints
//
// For the demo, the same controls are reachable over HTTP (bearer token
// required): GET /fakeapi/runs, POST /fakeapi/advance {"run_id", "steps"},
// POST /fakeapi/faults {"endpoint", "kind", "count", "retry_after_seconds",
// "delay_ms", "after_effect"}, DELETE /fakeapi/faults, and
// POST /fakeapi/outcomes {"run_name", "outcome"}.
//
// All methods are safe for concurrent use.
package fakeapi

// Package kit is what the k8s plugins (Spark, Ray, Dask) share, so each
// plugin package is a thin adapter over one framework (the Kueue model):
//
//   - adapter.go: Adapter turns a plugin's Job (identity, build, phase,
//     terminal, finished, properties) into the k8s.Plugin propeller drives,
//     plus IsTerminal and GetCompletionTime for Flyte 2's executor.
//   - pod.go, podargs.go: the task's pod, built once by Flyte's own pod
//     building, and each role's pod derived from it.
//   - merge.go, container.go: the one rule a user's K8sPod overlay merges by,
//     and container helpers that never leave duplicates.
//   - links.go, render.go: log links, rendered in one pass from templates
//     parsed once per config.
//   - phase.go: state-table rules (staterule's model, shared with the
//     web-API plugins), the unknown-state fallback and the
//     phase-version rule.
//   - custom.go, errors.go, object.go: decoding the task's custom config, the
//     BadTaskSpecification errors bad input gets, and resource casts.
//
// Decisions written down here because the spec pages are silent on them:
//
//   - A role pod is built once with Flyte's own pod building
//     (flytek8s.ToK8sPodSpec) as non-interruptible, and a role that follows an
//     interruptible task gets the interruptible delta (tolerations, node
//     selector, node-affinity requirement) applied to a copy. Flyte's pod
//     building is the expensive part of BuildResource; building it once per
//     task instead of once per role halves it. A test proves the derived pod
//     equals the one Flyte builds for an interruptible task. Only the
//     templated container arguments go through Flyte's template rendering
//     (podargs.go); a test holds the pod equal to Flyte's.
//   - Overlays merge by one rule (see MergePodSpec), for every plugin; an
//     env var or volume of the same name is replaced whole (merging its
//     fields could leave both value and valueFrom). Resources an overlay
//     requests get the platform's resource tolerations.
//   - Log links render with tasklog's variables and results (a test compares
//     the two) without its per-call regular expressions.
//   - Phase versions follow the live-view rule of spec/queueing.md, which
//     supersedes propeller's (NextVersion): counted up from the version
//     propeller stored, so they never fall, Running included, and bounded
//     by plugins.queueing.liveView.maxPhaseVersions. Running's reason is
//     not in propeller's stored state, so a Running version carries a
//     fingerprint of its reason and link names in its low bits.
//   - podlinks.go: per-pod links from a job's own status, capped by
//     plugins.queueing.liveView.maxPodLinks with one aggregate link for
//     the rest, and the pod set in the Running reason (PodSetReason) so a
//     changed set reaches the console.
package kit

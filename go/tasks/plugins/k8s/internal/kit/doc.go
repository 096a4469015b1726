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
//     web-API plugins), the unknown-state fallback and
//     propeller's phase-version rule.
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
//   - Phase versions follow propeller's rule (k8s.MaybeUpdatePhaseVersion),
//     as the specs require: Running keeps the default version. A link that
//     first appears mid-Running therefore reaches the console with the next
//     phase change (propeller sends events on phase/version changes only);
//     a version counted from the links was tried and dropped, because it
//     can fall, and flyteadmin ignores a same-phase event whose version
//     does not grow.
package kit

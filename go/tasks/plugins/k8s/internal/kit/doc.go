// Package kit is what the k8s plugins (Spark, Ray, Dask) share: building a
// role's pod from the task, merging a user's K8sPod overlay onto it, rendering
// log links, mapping operator states to Flyte phases, and the errors bad input
// gets.
//
// Decisions written down here because the spec pages are silent on them:
//
//   - A role pod is built once with Flyte's own pod building
//     (flytek8s.ToK8sPodSpec) as non-interruptible, and a role that follows an
//     interruptible task gets the interruptible delta (tolerations, node
//     selector, node-affinity requirement) applied to a copy. Flyte's pod
//     building is the expensive part of BuildResource; building it once per
//     task instead of once per role halves it. A test proves the derived pod
//     equals the one Flyte builds for an interruptible task.
//   - Overlays merge by one rule (see MergePodSpec), for every plugin.
//   - Log plugins are initialised once per log config, not per call.
package kit

#!/usr/bin/env bash
# Builds the real operators that test/integration runs against the local
# control plane, each from the version pinned in its own tools module, and
# links them into <repo>/bin/operators:
#   - kuberay-operator (TestRayJobReconciledByKubeRay), module
#     github.com/ray-project/kuberay/ray-operator pinned in hack/operators/go.mod;
#   - training-operator (the Kubeflow Training Operator,
#     test/integration/training_operator_test.go), package
#     github.com/kubeflow/training-operator/cmd/training-operator.v1 pinned in
#     hack/operators/training-operator/go.mod (a module of its own: its
#     Kubernetes libraries are older than KubeRay's);
#   - kueue (the Kueue controller manager, test/integration/kueue_test.go),
#     package sigs.k8s.io/kueue/cmd/kueue pinned in hack/operators/kueue/go.mod
#     (a module of its own: Kueue v0.17 needs the Kubernetes v0.35 library
#     line, which must never reach the project's module).
#
# Each binary is cached outside the clone, keyed by version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/operators/<name>-<version>/
# so a fresh clone on the same machine does not rebuild. A cold build takes
# ~2-5 min each on 2 cores (module downloads included); a warm run only
# refreshes the links.
#
# Environment:
#   OPERATOR_BIN_CACHE  overrides the cache directory (the version key is still added).
#   OPERATOR_BIN_DIR    overrides the destination (default <repo>/bin/operators).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# Modules of their own; never let a go.work elsewhere pull them in.
export GOWORK=off

cache_root="${OPERATOR_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/operators}"
dest="${OPERATOR_BIN_DIR:-$repo/bin/operators}"
mkdir -p "$dest"

# build_operator <tools module dir> <module> <main package> <cache key> <binary> <display name>
build_operator() {
  local dir="$1" module="$2" pkg="$3" key="$4" bin="$5" what="$6"
  local version cache start
  version="$(cd "$dir" && go list -m -f '{{.Version}}' "$module")"
  cache="$cache_root/${key}-${version}"
  mkdir -p "$cache"
  if [ ! -x "$cache/$bin" ]; then
    # Two clones on one machine may run this at once.
    if command -v flock >/dev/null 2>&1; then
      exec 9>"$cache/.lock"
      flock 9
    fi
    if [ ! -x "$cache/$bin" ]; then
      echo "building $what $version (first time, a few minutes) into $cache ..."
      start=$SECONDS
      (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$cache/$bin.tmp" "$pkg")
      mv -f "$cache/$bin.tmp" "$cache/$bin"
      echo "built $what in $((SECONDS - start))s"
    fi
    if command -v flock >/dev/null 2>&1; then
      exec 9>&-
    fi
  else
    echo "$what $version already built in $cache"
  fi
  ln -sfn "$cache/$bin" "$dest/$bin"
  echo "linked $bin into $dest"
}

build_operator "$here" github.com/ray-project/kuberay/ray-operator \
  github.com/ray-project/kuberay/ray-operator kuberay kuberay-operator "the KubeRay operator"
build_operator "$here/training-operator" github.com/kubeflow/training-operator \
  github.com/kubeflow/training-operator/cmd/training-operator.v1 training-operator training-operator \
  "the Kubeflow Training Operator"
build_operator "$here/kueue" sigs.k8s.io/kueue sigs.k8s.io/kueue/cmd/kueue kueue kueue "Kueue"

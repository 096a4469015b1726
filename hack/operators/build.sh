#!/usr/bin/env bash
# Builds the real KubeRay operator that test/integration runs against the
# local control plane (TestRayJobReconciledByKubeRay), from the version
# pinned in hack/operators/go.mod, and links it as
# <repo>/bin/operators/kuberay-operator.
#
# The binary is cached outside the clone, keyed by version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/operators/kuberay-<version>/
# so a fresh clone on the same machine does not rebuild. A cold build takes
# ~2-3 min on 2 cores (module downloads included); a warm run only
# refreshes the link.
#
# Environment:
#   OPERATOR_BIN_CACHE  overrides the cache directory (the version key is still added).
#   OPERATOR_BIN_DIR    overrides the destination (default <repo>/bin/operators).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

# A module of its own; never let a go.work elsewhere pull it in.
export GOWORK=off

module=github.com/ray-project/kuberay/ray-operator
version="$(go list -m -f '{{.Version}}' "$module")"
cache_root="${OPERATOR_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/operators}"
cache="$cache_root/kuberay-${version}"
dest="${OPERATOR_BIN_DIR:-$repo/bin/operators}"
mkdir -p "$cache" "$dest"

have() { [ -x "$cache/kuberay-operator" ]; }

if ! have; then
  # Two clones on one machine may run this at once.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/.lock"
    flock 9
  fi
  if ! have; then
    echo "building the KubeRay operator $version (first time, ~2-3 min) into $cache ..."
    start=$SECONDS
    go build -trimpath -ldflags "-s -w" -o "$cache/kuberay-operator.tmp" "$module"
    mv -f "$cache/kuberay-operator.tmp" "$cache/kuberay-operator"
    echo "built the KubeRay operator in $((SECONDS - start))s"
  fi
else
  echo "KubeRay operator $version already built in $cache"
fi
ln -sfn "$cache/kuberay-operator" "$dest/kuberay-operator"
echo "linked kuberay-operator into $dest"

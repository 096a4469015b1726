#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd that the integration tests run
# (internal/testenv), from the versions pinned in hack/k8s/go.mod, and puts
# them in <repo>/bin/k8s/ as `kube-apiserver` and `etcd` (the names envtest
# looks for under KUBEBUILDER_ASSETS).
#
# The binaries are cached outside the clone, keyed by version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/k8s/<k8s version>-etcd<etcd version>/
# so a fresh clone on the same machine does not rebuild; a changed pin in
# go.mod gives a new key and so a rebuild. A cold build takes ~7 min on 2 cores
# (peak ~2.8 GB RSS); a warm run only refreshes the links.
#
# Environment:
#   K8S_BIN_CACHE  overrides the cache directory (the version key is still added).
#   K8S_BIN_DIR    overrides the destination (default <repo>/bin/k8s).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

# This is a module of its own; never let a go.work elsewhere pull it in.
export GOWORK=off

k8s_version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
etcd_version="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"
k8s_major="$(echo "${k8s_version#v}" | cut -d. -f1)"

cache_root="${K8S_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/k8s}"
cache="$cache_root/${k8s_version}-etcd${etcd_version#v}"
dest="${K8S_BIN_DIR:-$repo/bin/k8s}"
mkdir -p "$cache" "$dest"

have() { [ -x "$cache/kube-apiserver" ] && [ -x "$cache/etcd" ]; }

build() {
  local start end
  if [ ! -x "$cache/kube-apiserver" ]; then
    echo "building kube-apiserver $k8s_version (first time, ~7 min) into $cache ..."
    start=$SECONDS
    go build -trimpath -o "$cache/kube-apiserver.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version} -X k8s.io/component-base/version.gitMajor=${k8s_major} -X k8s.io/component-base/version.gitMinor=${k8s_minor}" \
      k8s.io/kubernetes/cmd/kube-apiserver
    mv -f "$cache/kube-apiserver.tmp" "$cache/kube-apiserver"
    end=$SECONDS
    echo "built kube-apiserver in $((end - start))s"
  fi
  if [ ! -x "$cache/etcd" ]; then
    echo "building etcd $etcd_version (first time, ~1 min) into $cache ..."
    start=$SECONDS
    go build -trimpath -o "$cache/etcd.tmp" -ldflags "-s -w" go.etcd.io/etcd/server/v3
    mv -f "$cache/etcd.tmp" "$cache/etcd"
    end=$SECONDS
    echo "built etcd in $((end - start))s"
  fi
}

if have; then
  echo "kube-apiserver $k8s_version and etcd $etcd_version already built in $cache"
else
  # Two clones on one machine may run this at once: build under a lock, and
  # check again once we hold it.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/.lock"
    flock 9
  fi
  if have; then
    echo "kube-apiserver $k8s_version and etcd $etcd_version already built in $cache"
  else
    build
  fi
fi

for b in kube-apiserver etcd; do
  ln -sfn "$cache/$b" "$dest/$b"
done
echo "linked kube-apiserver and etcd into $dest (KUBEBUILDER_ASSETS=$dest)"

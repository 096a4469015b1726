#!/usr/bin/env bash
# `make demo`: on a fresh machine, builds what is missing and runs the demo.
#
#   1. kube-apiserver + etcd (hack/k8s/build.sh; cached outside the clone,
#      ~7 min the first time) and the real Kubeflow Training Operator
#      and Kueue (hack/operators/build.sh, which `make operator-bins` runs;
#      cached the same way, a few minutes the first time) and Slurm's Debian packages
#      (hack/slurm/fetch.sh, cached) unless KUBECONFIG names a real cluster;
#   2. our FlytePropeller and the demo driver (module cmd/flytepropeller)
#      into bin/;
#   3. bin/flytedist-demo, which starts the control plane, installs the
#      operators' CRDs, runs the Training Operator, Kueue (queueing the two
#      PyTorch tasks: quota for one) and bin/flytepropeller
#      against it, submits a Spark/Ray/Dask/PyTorch/Databricks workflow,
#      plays the other operators (and the kubelet for the Training
#      Operator's pods), runs a real single-node Slurm (needs root) for the
#      slurm_fn task and prints what propeller did (see
#      cmd/flytepropeller/internal/demo).
#
# Everything the demo starts stops when it ends or is interrupted: the demo
# stops its children in order (they also die with it, by parent-death
# signal), and this script removes the work directory. Extra arguments go to
# flytedist-demo (e.g. -quiet, -keep, -partitions 20); `bin/flytedist-demo
# -h` lists them.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export GOWORK=off
bin="${BIN:-$repo/bin}"
start=$SECONDS

workdir="$(mktemp -d "${TMPDIR:-/tmp}/flytedist-demo.XXXXXX")"
demo_pid=""
finish() {
  rc=$?
  trap - EXIT INT TERM
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  rm -rf -- "$workdir"
  echo "==> make demo: $([ "$rc" = 0 ] && echo ok || echo "failed ($rc)"), total $((SECONDS - start))s"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${KUBECONFIG:-}" ]; then
  echo "==> control plane binaries: kube-apiserver + etcd (hack/k8s/build.sh)"
  bash hack/k8s/build.sh
  echo "==> the Kubeflow Training Operator and Kueue (hack/operators/build.sh, as make operator-bins)"
  OPERATOR_BIN_DIR="$bin/operators" bash hack/operators/build.sh
  echo "==> Slurm for the slurm_fn task: Debian 12's packages, unpacked (hack/slurm/fetch.sh, as make slurm-bins)"
  bash hack/slurm/fetch.sh >/dev/null
  FLYTEDIST_SLURM_ROOT="$(bash hack/slurm/fetch.sh --print-root)"
  export FLYTEDIST_SLURM_ROOT
else
  echo "==> KUBECONFIG=$KUBECONFIG: using that cluster and its operators, no local control plane"
fi

echo "==> building our FlytePropeller and the demo driver into $bin (module cmd/flytepropeller; ~3-5 min the first time)"
t=$SECONDS
mkdir -p "$bin"
# Built the way `make propeller` builds the image binary (static, trimmed
# paths), so the two share the build cache and the demo runs what ships.
(cd cmd/flytepropeller && CGO_ENABLED=0 go build -trimpath -o "$bin/" . ./cmd/flytedist-demo)
echo "    built in $((SECONDS - t))s"

# In the background so that a signal reaches this script at once; the demo
# ignores SIGINT as a background job of a non-interactive shell, so it is
# stopped with SIGTERM by finish, which it handles the same way.
"$bin/flytedist-demo" -propeller "$bin/flytepropeller" -k8s-bin "$bin/k8s" \
  -training-operator "$bin/operators/training-operator" -kueue "$bin/operators/kueue" -workdir "$workdir" "$@" &
demo_pid=$!
wait "$demo_pid"

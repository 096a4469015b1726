# A real kube-apiserver and etcd for the integration tests (internal/testenv),
# built from Go modules by hack/k8s/build.sh (versions pinned in
# hack/k8s/go.mod) and cached outside the clone under
# ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/k8s/<versions>/: the first build
# takes ~7-9 min on 2 cores, later runs only relink bin/k8s/.

# Where envtest finds the binaries (files named kube-apiserver and etcd).
KUBEBUILDER_ASSETS := $(CURDIR)/bin/k8s

# Environment for a test command that must run the integration tests: point
# envtest at the binaries and turn "binaries missing" into a failure rather
# than a skip.
K8S_TEST_ENV := KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) FLYTEDIST_TESTENV_REQUIRED=1

.PHONY: k8s-bins
## k8s-bins: build (once per version) and link kube-apiserver and etcd into bin/k8s.
k8s-bins:
	bash hack/k8s/build.sh

.PHONY: operator-bins
## operator-bins: build (once per version) and link the real KubeRay operator,
## Kubeflow Training Operator and Kueue controller into bin/operators
## (hack/operators, hack/operators/training-operator and hack/operators/kueue
## pin them; test/integration runs them).
operator-bins:
	bash hack/operators/build.sh

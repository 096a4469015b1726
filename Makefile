# flytedist/flyteplugins: Flyte backend plugins for distributed computing.
include boilerplate/go.mk
include boilerplate/k8s.mk
include boilerplate/slurm.mk
include boilerplate/demo.mk

.DEFAULT_GOAL := build

.PHONY: build test unit lint generate bench fuzz
build: go-build

## test: everything CI runs: gofmt, vet, every package's tests with the race
## detector (integration tests on a real apiserver included), and the
## cmd/flytepropeller module's tests (registry, config, the demo end to end).
test: go-fmt-check go-vet unit propeller-test

## unit: every package's tests with the race detector, integration tests
## included: k8s-bins builds the real kube-apiserver and etcd they run against
## (cached outside the clone; ~9 min the first time on a machine) and
## operator-bins the real KubeRay operator, Kubeflow Training Operator and
## Kueue controller (a few minutes each the first time).
unit: k8s-bins operator-bins slurm-bins
	$(K8S_TEST_ENV) $(SLURM_TEST_ENV) $(GO) test -race -count=1 $(PKGS)

lint: go-lint propeller-lint

generate: go-generate

## bench: BuildResource / GetTaskPhase benchmarks of every plugin, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./go/...

## fuzz: a short run of every fuzz target (FUZZTIME=30s by default; much
## shorter runs can end with "context deadline exceeded" while the fuzzer is
## still replaying the committed corpus, which is not a finding).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./go/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

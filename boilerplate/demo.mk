# `make demo` and the cmd/flytepropeller module: our FlytePropeller build and
# the demo driver. That module is a Go module of its own (it links upstream's
# plugin packages, which the main module must never import), so the main
# module's ./... leaves it out and these targets build, vet and test it.

BIN ?= $(CURDIR)/bin
GO  ?= go
PROPELLER_MOD := cmd/flytepropeller
# Stamped into the binary; propeller logs them at start. (flytestdlib's
# BuildTime is computed at run time and cannot be stamped.)
PROPELLER_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
PROPELLER_LDFLAGS := -s -w \
  -X github.com/flyteorg/flyte/flytestdlib/version.Version=$(PROPELLER_VERSION) \
  -X github.com/flyteorg/flyte/flytestdlib/version.Build=$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

.PHONY: demo propeller propeller-vet propeller-lint propeller-test

## demo: build what is missing, then run our FlytePropeller with a Spark/Ray/Dask/PyTorch/Databricks/Slurm workflow (DEMO_FLAGS=-quiet for less output).
demo:
	@bash hack/demo.sh $(DEMO_FLAGS)

## propeller: an image-ready, static FlytePropeller with our plugins in bin/flytepropeller.
propeller:
	@mkdir -p $(BIN)
	cd $(PROPELLER_MOD) && GOWORK=off CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(PROPELLER_LDFLAGS)" -o $(BIN)/flytepropeller .

propeller-vet:
	cd $(PROPELLER_MOD) && GOWORK=off $(GO) vet ./...

# golangci-lint with the project's config ($(GOLANGCI_LINT) comes from go.mk).
propeller-lint: $(GOLANGCI_LINT)
	cd $(PROPELLER_MOD) && GOWORK=off $(GOLANGCI_LINT) run --config $(CURDIR)/boilerplate/golangci.yml ./...

## propeller-test: vet and test the cmd/flytepropeller module (plugin registry, config, the demo end to end on a real control plane with the real Kubeflow Training Operator and a real local Slurm).
propeller-test: propeller-vet
	bash hack/k8s/build.sh
	bash hack/operators/build.sh
	bash hack/slurm/fetch.sh >/dev/null
	cd $(PROPELLER_MOD) && GOWORK=off KUBEBUILDER_ASSETS=$(CURDIR)/bin/k8s FLYTEDIST_TESTENV_REQUIRED=1 \
	  FLYTEDIST_SLURM_ROOT=$$(bash $(CURDIR)/hack/slurm/fetch.sh --print-root) \
	  $(GO) test -race -count=1 ./...

# Shared make pieces: tool locations and the standard Go targets.
# Included by the top-level Makefile.

GO        ?= go
BIN       ?= $(CURDIR)/bin
PKGS      ?= ./...
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

$(BIN):
	@mkdir -p $(BIN)

# pflags is pinned through tools/tools.go, so go.mod decides its version.
$(BIN)/pflags: go.mod go.sum | $(BIN)
	$(GO) build -o $@ github.com/flyteorg/flyte/flytestdlib/cli/pflags

$(GOLANGCI_LINT): | $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/golangci-lint $@

.PHONY: go-build go-vet go-lint go-generate go-fmt-check
go-build:
	$(GO) build $(PKGS)

go-vet:
	$(GO) vet $(PKGS)

go-lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run --config boilerplate/golangci.yml $(PKGS)

# Regenerates committed code (config flags via flytestdlib's pflags).
go-generate: $(BIN)/pflags
	PATH="$(BIN):$$PATH" $(GO) generate $(PKGS)

go-fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

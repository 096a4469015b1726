//go:build tools

// Package tools pins the code generators that `make generate` runs, so their
// versions live in go.mod beside everything else.
package tools

import (
	_ "github.com/flyteorg/flyte/flytestdlib/cli/pflags"
)

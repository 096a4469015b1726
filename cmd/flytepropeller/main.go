// Command flytepropeller is FlytePropeller v1.16.8's controller command built
// with flytedist's Spark, Ray, Dask and Databricks plugins in place of
// upstream's, and upstream's other plugins unchanged (see package plugins).
// It takes the same flags and config as upstream's flytepropeller.
package main

import (
	"github.com/flyteorg/flyte/flytepropeller/cmd/controller/cmd"

	_ "github.com/flytedist/flyteplugins/cmd/flytepropeller/plugins"
)

func main() {
	cmd.Execute()
}

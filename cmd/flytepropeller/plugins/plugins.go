// Package plugins registers every task plugin our FlytePropeller build
// carries, by importing it for its init():
//
//   - ours: spark, ray, dask, pytorch, tensorflow and mpi (k8s plugins)
//     and databricks and slurm (web-API plugins), from github.com/flytedist/flyteplugins;
//   - upstream flyteplugins v1.16.8's plugins that we do not replace: the
//     rest of upstream's loader list (github.com/flyteorg/flyte/flytepropeller/plugins):
//     container/sidecar/pod, k8s array, AWS Batch array, echo, Athena,
//     BigQuery and Snowflake. Propeller itself adds the agent and connector
//     plugins.
//
// Upstream's loader package is deliberately not imported: it would register
// upstream's spark, ray, dask, databricks and Kubeflow plugins as well,
// under the same IDs as ours.
package plugins

import (
	// Ours.
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/dask"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/mpi"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/kfoperators/tensorflow"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/spark"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks"
	_ "github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"

	// Upstream's, minus the seven above.
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/array/awsbatch"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/array/k8s"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/k8s/pod"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/testing"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/webapi/athena"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/webapi/bigquery"
	_ "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/webapi/snowflake"
)

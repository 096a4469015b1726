package slurm_test

import (
	"context"
	"testing"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flytestdlib/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/slurm"
)

// A FAILED job whose task wrote a RECOVERABLE error file is a retryable
// failure; without one (or with a NON_RECOVERABLE one) it is permanent.
func TestFailedIsRetryableWhenTheErrorFileSaysRecoverable(t *testing.T) {
	var calls int
	srv := restServer(t, `{"jobs":[{"job_id":7,"name":"m","job_state":"FAILED","exit_code":256}]}`, &calls)
	cfg := testConfig(slurm.Cluster{Name: "c", Transport: slurm.TransportREST, Address: srv.URL, User: "u", APIVersion: "v0.0.38", SecretKey: jwtSecret})
	secrets := secretsFor(map[string]string{jwtSecret: "tok"})
	p := load(t, cfg, secrets)
	meta := slurm.JobMeta{Cluster: "c", JobID: "7", Marker: "m"}
	for kind, want := range map[idlcore.ContainerError_Kind]core.Phase{
		-1:                                     core.PhasePermanentFailure,
		idlcore.ContainerError_RECOVERABLE:     core.PhaseRetryableFailure,
		idlcore.ContainerError_NON_RECOVERABLE: core.PhasePermanentFailure,
	} {
		k := fnTask(t, &realEnv{secrets: map[string]string{jwtSecret: "tok"}}, "c", []string{"true"}, nil)
		if kind >= 0 {
			require.NoError(t, testStore.WriteProtobuf(context.Background(), k.outputs.GetErrorPath(), storage.Options{},
				&idlcore.ErrorDocument{Error: &idlcore.ContainerError{Code: "E", Message: "boom", Kind: kind}}))
		}
		ph := phase(t, p, k, meta)
		assert.Equal(t, want, ph.Phase(), kind.String())
		assert.Contains(t, ph.Err().GetMessage(), "exit code 1")
	}
}

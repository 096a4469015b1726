package ray_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/k8s"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kittest"
	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/ray"
)

// flyte2 is what Flyte 2's executor needs beyond the v1 interface.
type flyte2 interface {
	IsTerminal(ctx context.Context, obj client.Object) (bool, error)
	GetCompletionTime(obj client.Object) (time.Time, error)
}

func TestRegistration(t *testing.T) {
	e := entry(t)
	assert.Equal(t, "ray", e.ID)
	assert.Equal(t, []string{"ray"}, e.RegisteredTaskTypes)
	assert.IsType(t, &rayv1.RayJob{}, e.ResourceToWatch)
	assert.False(t, e.IsDefault)
	assert.NotNil(t, e.CustomKubeClient)
	assert.Implements(t, (*flyte2)(nil), e.Plugin)

	props := e.Plugin.GetProperties()
	require.NotNil(t, props.GeneratedNameMaxLength)
	assert.Equal(t, 47, *props.GeneratedNameMaxLength)
	assert.False(t, props.DisableInjectOwnerReferences)
}

// Names propeller generates under the plugin's limit fit KubeRay's.
func TestGeneratedNamesFitKubeRay(t *testing.T) {
	limit := *registered(t).GetProperties().GeneratedNameMaxLength
	for _, name := range []string{"short", "f8a1b2c3d4-n0-0", "averyveryverylongexecutionname-n0-0-dn12-n3-0-0-0-attempt-12"} {
		tCtx := kittest.New(kittest.Task{Template: rayTask(t, basicJob()).Template, GeneratedName: name})
		got, err := tCtx.TaskExecutionMetadata().GetTaskExecutionID().GetGeneratedNameWith(0, limit)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(got), 47, got)
	}
}

func TestBuildIdentityResource(t *testing.T) {
	obj, err := registered(t).BuildIdentityResource(context.Background(), kittest.New(rayTask(t, basicJob())).TaskExecutionMetadata())
	require.NoError(t, err)
	job, ok := obj.(*rayv1.RayJob)
	require.True(t, ok)
	assert.Equal(t, "RayJob", job.Kind)
	assert.Equal(t, "ray.io/v1", job.APIVersion)
	assert.Equal(t, rayv1.RayJobSpec{}, job.Spec)
}

func TestIsTerminalAndCompletionTime(t *testing.T) {
	p := registered(t).(flyte2)
	created := metav1.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ended := metav1.NewTime(created.Add(time.Hour))
	rayEnded := metav1.NewTime(created.Add(2 * time.Hour))
	for _, tc := range []struct {
		status   rayv1.JobDeploymentStatus
		terminal bool
	}{
		{rayv1.JobDeploymentStatusNew, false},
		{rayv1.JobDeploymentStatusWaiting, false},
		{rayv1.JobDeploymentStatusInitializing, false},
		{rayv1.JobDeploymentStatusRunning, false},
		{rayv1.JobDeploymentStatusRetrying, false},
		{rayv1.JobDeploymentStatusSuspending, false},
		{rayv1.JobDeploymentStatusSuspended, false},
		{"SomeFutureStatus", false},
		{rayv1.JobDeploymentStatusComplete, true},
		{rayv1.JobDeploymentStatusFailed, true},
		{rayv1.JobDeploymentStatusValidationFailed, true},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			job := &rayv1.RayJob{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created}}
			job.Status.JobDeploymentStatus = tc.status
			got, err := p.IsTerminal(context.Background(), job)
			require.NoError(t, err)
			assert.Equal(t, tc.terminal, got)

			when, err := p.GetCompletionTime(job)
			require.NoError(t, err)
			if !tc.terminal {
				assert.True(t, when.IsZero())
				return
			}
			assert.Equal(t, created.Time, when, "no end time: the creation")
			job.Status.RayJobStatusInfo.EndTime = &rayEnded
			when, _ = p.GetCompletionTime(job)
			assert.Equal(t, rayEnded.Time, when, "the Ray job's end")
			job.Status.EndTime = &ended
			when, _ = p.GetCompletionTime(job)
			assert.Equal(t, ended.Time, when, "KubeRay's end wins")
		})
	}
}

// A resource of the wrong kind is an error, never a panic.
func TestWrongObject(t *testing.T) {
	p := registered(t)
	pod := &v1.Pod{}
	_, err := p.GetTaskPhase(context.Background(), kittest.New(rayTask(t, basicJob())), pod)
	assert.Error(t, err)
	_, err = p.(flyte2).IsTerminal(context.Background(), pod)
	assert.Error(t, err)
	_, err = p.(flyte2).GetCompletionTime(pod)
	assert.Error(t, err)
	var nilJob *rayv1.RayJob
	_, err = p.(flyte2).IsTerminal(context.Background(), nilJob)
	assert.Error(t, err)
}

// remoteClusterConfig gives the registry entry a client of that cluster,
// as upstream does; without it propeller's own client is used.
func TestRemoteClusterClient(t *testing.T) {
	e := entry(t)
	kc, err := e.CustomKubeClient(context.Background())
	require.NoError(t, err)
	assert.Nil(t, kc, "disabled: propeller's client")

	dir := t.TempDir()
	token, ca := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(token, []byte("secret-token"), 0o600))
	require.NoError(t, os.WriteFile(ca, selfSignedCA(t), 0o600))

	cfg := defaultConfig()
	cfg.RemoteClusterConfig = k8s.ClusterConfig{
		Name: "ray-cluster", Endpoint: "https://127.0.0.1:6443", Enabled: true,
		Auth: k8s.Auth{TokenPath: token, CaCertPath: ca},
	}
	withConfig(t, cfg)
	kc, err = e.CustomKubeClient(context.Background())
	require.NoError(t, err)
	require.NotNil(t, kc)
	assert.NotNil(t, kc.GetClient())
	assert.True(t, e.Plugin.GetProperties().DisableInjectOwnerReferences, "the owner lives in another cluster")

	cfg.RemoteClusterConfig.Auth.TokenPath = filepath.Join(dir, "missing")
	withConfig(t, cfg)
	_, err = e.CustomKubeClient(context.Background())
	assert.ErrorContains(t, err, "ray-cluster")
}

func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2120, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// The config section keeps upstream's keys: a propeller config written for
// upstream's plugin loads into ours.
func TestConfigKeysAndDefaults(t *testing.T) {
	cfg := ray.GetConfig()
	assert.True(t, cfg.ShutdownAfterJobFinishes)
	assert.Equal(t, int32(3600), cfg.TTLSecondsAfterFinished)
	assert.Equal(t, "NodePort", cfg.ServiceType)
	assert.False(t, cfg.EnableIngress)
	assert.True(t, cfg.IncludeDashboard)
	assert.Equal(t, "0.0.0.0", cfg.DashboardHost)
	assert.False(t, cfg.EnableUsageStats)
	assert.Empty(t, cfg.ServiceAccount)
	assert.Equal(t, "$MY_POD_IP", cfg.Defaults.HeadNode.IPAddress)
	assert.Equal(t, "$MY_POD_IP", cfg.Defaults.WorkerNode.IPAddress)
	assert.Equal(t, map[string]string{"disable-usage-stats": "true"}, cfg.Defaults.HeadNode.StartParameters)
	assert.Equal(t, map[string]string{"disable-usage-stats": "true"}, cfg.Defaults.WorkerNode.StartParameters)
}

package testenv_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	daskv1 "github.com/dask/dask-kubernetes/v2023/dask_kubernetes/operator/go_client/pkg/apis/kubernetes.dask.org/v1"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flytedist/flyteplugins/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func container(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "example.com/" + name + ":1", Args: []string{"run"}}
}

func sparkApp(ns, name string) *sparkv1beta2.SparkApplication {
	file := "local:///opt/app/main.py"
	cores := int32(1)
	instances := int32(1)
	mem := "512m"
	return &sparkv1beta2.SparkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sparkv1beta2.SparkApplicationSpec{
			Type:                sparkv1beta2.SparkApplicationTypePython,
			Mode:                sparkv1beta2.DeployModeCluster,
			SparkVersion:        "3.5.0",
			MainApplicationFile: &file,
			Driver: sparkv1beta2.DriverSpec{
				SparkPodSpec: sparkv1beta2.SparkPodSpec{Cores: &cores, Memory: &mem},
			},
			Executor: sparkv1beta2.ExecutorSpec{
				SparkPodSpec: sparkv1beta2.SparkPodSpec{Cores: &cores, Memory: &mem},
				Instances:    &instances,
			},
		},
	}
}

func daskJob(ns, name string) *daskv1.DaskJob {
	return &daskv1.DaskJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: daskv1.DaskJobSpec{
			Job: daskv1.JobSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{container("job-runner")}}},
			Cluster: daskv1.DaskCluster{
				Spec: daskv1.DaskClusterSpec{
					Scheduler: daskv1.SchedulerSpec{
						Spec: corev1.PodSpec{Containers: []corev1.Container{container("scheduler")}},
						Service: corev1.ServiceSpec{
							Type: corev1.ServiceTypeNodePort,
							// Dask's CRD types int-or-string fields as strings (see below).
							Ports: []corev1.ServicePort{{Name: "tcp-comm", Port: 8786, TargetPort: intstr.FromString("tcp-comm")}},
						},
					},
					Worker: daskv1.WorkerSpec{
						Replicas: 2,
						Spec:     corev1.PodSpec{Containers: []corev1.Container{container("worker")}},
					},
				},
			},
		},
	}
}

// TestControlPlaneAcceptsOperatorCRDs creates one object of each operator
// kind through the Go types, reads it back, and checks that the CRD schemas
// really validate (a bad enum value is rejected as Invalid). Nothing
// reconciles these objects: no operator or kubelet runs.
func TestControlPlaneAcceptsOperatorCRDs(t *testing.T) {
	env := testenv.Shared(t)
	if !strings.HasPrefix(env.Version, "v1.37.") {
		t.Errorf("server version = %q, want v1.37.x (was kube-apiserver built with hack/k8s/build.sh?)", env.Version)
	}
	ns := env.NewNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := env.Client

	t.Run("SparkApplication", func(t *testing.T) {
		app := sparkApp(ns, "spark")
		if err := c.Create(ctx, app); err != nil {
			t.Fatalf("create: %v", err)
		}
		var got sparkv1beta2.SparkApplication
		if err := c.Get(ctx, client.ObjectKeyFromObject(app), &got); err != nil {
			t.Fatalf("get: %v", err)
		}
		if got.Spec.Type != sparkv1beta2.SparkApplicationTypePython || got.Spec.SparkVersion != "3.5.0" ||
			got.Spec.Executor.Instances == nil || *got.Spec.Executor.Instances != 1 {
			t.Errorf("read back a different spec: %+v", got.Spec)
		}
	})

	t.Run("SparkApplicationSchemaRejectsBadEnum", func(t *testing.T) {
		bad := sparkApp(ns, "spark-bad-type")
		bad.Spec.Type = "Golang"
		err := c.Create(ctx, bad)
		if !apierrors.IsInvalid(err) {
			t.Fatalf("create with spec.type=Golang: got %v, want an Invalid error", err)
		}
		if !strings.Contains(err.Error(), "spec.type") {
			t.Errorf("error does not name spec.type: %v", err)
		}

		bad = sparkApp(ns, "spark-bad-mode")
		bad.Spec.Mode = "in-cluster-client"
		if err := c.Create(ctx, bad); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.mode") {
			t.Fatalf("create with spec.mode=in-cluster-client: got %v, want an Invalid error naming spec.mode", err)
		}
	})

	t.Run("RayJob", func(t *testing.T) {
		job := &rayv1.RayJob{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ray"},
			Spec: rayv1.RayJobSpec{
				Entrypoint:               "python /opt/app/main.py",
				ShutdownAfterJobFinishes: true,
				RayClusterSpec: &rayv1.RayClusterSpec{
					HeadGroupSpec: rayv1.HeadGroupSpec{
						RayStartParams: map[string]string{},
						Template: corev1.PodTemplateSpec{
							Spec: corev1.PodSpec{Containers: []corev1.Container{container("ray-head")}},
						},
					},
					WorkerGroupSpecs: []rayv1.WorkerGroupSpec{{
						GroupName:      "workers",
						Replicas:       ptr(int32(2)),
						MinReplicas:    ptr(int32(2)),
						MaxReplicas:    ptr(int32(2)),
						RayStartParams: map[string]string{},
						Template: corev1.PodTemplateSpec{
							Spec: corev1.PodSpec{Containers: []corev1.Container{container("ray-worker")}},
						},
					}},
				},
			},
		}
		if err := c.Create(ctx, job); err != nil {
			t.Fatalf("create: %v", err)
		}
		var got rayv1.RayJob
		if err := c.Get(ctx, client.ObjectKeyFromObject(job), &got); err != nil {
			t.Fatalf("get: %v", err)
		}
		if got.Spec.Entrypoint != job.Spec.Entrypoint || got.Spec.RayClusterSpec == nil ||
			len(got.Spec.RayClusterSpec.WorkerGroupSpecs) != 1 {
			t.Errorf("read back a different spec: %+v", got.Spec)
		}
	})

	t.Run("DaskJob", func(t *testing.T) {
		job := daskJob(ns, "dask")
		if err := c.Create(ctx, job); err != nil {
			t.Fatalf("create: %v", err)
		}
		var got daskv1.DaskJob
		if err := c.Get(ctx, client.ObjectKeyFromObject(job), &got); err != nil {
			t.Fatalf("get: %v", err)
		}
		if got.Spec.Cluster.Spec.Worker.Replicas != 2 || len(got.Spec.Job.Spec.Containers) != 1 {
			t.Errorf("read back a different spec: %+v", got.Spec)
		}
	})

	// Dask's published CRD declares int-or-string fields (a service port's
	// targetPort, a probe's port) as `type: string`, so an integer there —
	// including the zero IntOrString a Go ServicePort carries when
	// TargetPort is left unset — is rejected. Builders must use names.
	t.Run("DaskJobSchemaRejectsIntegerTargetPort", func(t *testing.T) {
		bad := daskJob(ns, "dask-int-port")
		bad.Spec.Cluster.Spec.Scheduler.Service.Ports[0].TargetPort = intstr.IntOrString{}
		err := c.Create(ctx, bad)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "targetPort") {
			t.Fatalf("create with an integer targetPort: got %v, want an Invalid error naming targetPort", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

package testenv

// TrainingOperatorModule is the Kubeflow Training Operator's Go module,
// which ships the kubeflow.org/v1 CRDs (PyTorchJob, TFJob, MPIJob, ...)
// under manifests/base/crds.
const TrainingOperatorModule = "github.com/kubeflow/training-operator"

// TrainingOperatorTools is the tools module, relative to the repository
// root, that pins the Training Operator the integration tests run (`make
// operator-bins` builds it); pass it to ToolsModuleDir to find the module
// directory of exactly that version.
const TrainingOperatorTools = "hack/operators/training-operator"

// KubeflowCRDs returns the Training Operator's CRDs for the kinds our
// Kubeflow plugins create: pytorchjobs, tfjobs and mpijobs.kubeflow.org
// (about 0.5 MB of YAML each: every replica type carries a full pod
// template schema). dir is the module's directory, as ToolsModuleDir
// returns it for TrainingOperatorTools; an empty dir means the version this
// repository's go.mod selects.
func KubeflowCRDs(dir string) []CRDFile {
	var crds []CRDFile
	for _, plural := range []string{"pytorchjobs", "tfjobs", "mpijobs"} {
		crds = append(crds, CRDFile{
			Module: TrainingOperatorModule,
			Dir:    dir,
			Path:   "manifests/base/crds/kubeflow.org_" + plural + ".yaml",
		})
	}
	return crds
}

// Package tensorflow is the `tensorflow` k8s plugin: flytekit's TfJob
// tasks become the Training Operator's TFJob (kubeflow.org/v1), drop-in
// for upstream flyteplugins v1.16.8's plugin of the same ID, task type and
// config section (`plugins.kf-operator`).
//
// Chief, parameter servers, workers and evaluators are each derived from
// the task pod (kf, kit) with the primary container named `tensorflow`; a
// type with no replicas is left out and at least one worker is required.
// Links name the pods the operator creates (`<job>-chief-0`, `<job>-ps-1`,
// `<job>-evaluator-0`; upstream's name pods that do not exist). Every
// replica follows the task's interruptible flag, as upstream.
package tensorflow

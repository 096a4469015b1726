package databricks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"github.com/flyteorg/flyte/flytestdlib/utils"
)

// Fields of the runs/submit body this plugin reads or writes.
const (
	fieldNewCluster       = "new_cluster"
	fieldDockerImage      = "docker_image"
	fieldURL              = "url"
	fieldSparkConf        = "spark_conf"
	fieldSparkPythonTask  = "spark_python_task"
	fieldPythonFile       = "python_file"
	fieldParameters       = "parameters"
	fieldRunName          = "run_name"
	fieldTimeoutSeconds   = "timeout_seconds"
	fieldIdempotencyToken = "idempotency_token" // #nosec G101 -- a field name
)

// ownTaskFields are the submit fields by which a task brings its own work;
// when any is present, no spark_python_task is added. git_source counts: its
// code is what runs.
var ownTaskFields = []string{
	"notebook_task", "spark_python_task", "spark_jar_task", "spark_submit_task", "python_wheel_task",
	"sql_task", "dbt_task", "pipeline_task", "run_job_task", "condition_task", "for_each_task",
	"git_source", "tasks",
}

// specError is a task that can never be submitted as written. It becomes a
// permanent BadTaskSpecification failure.
type specError struct{ msg string }

func (e *specError) Error() string { return e.msg }

func badSpec(format string, args ...any) error {
	return &specError{msg: fmt.Sprintf(format, args...)}
}

// decodeSparkJob reads the task's custom field, the SparkJob both task types
// use.
func decodeSparkJob(tmpl *idlcore.TaskTemplate) (*plugins.SparkJob, error) {
	if tmpl.GetCustom() == nil {
		return nil, badSpec("task %s has no custom field: a Databricks task needs a SparkJob with databricksConf",
			taskName(tmpl))
	}
	job := &plugins.SparkJob{}
	if err := utils.UnmarshalStructToPb(tmpl.GetCustom(), job); err != nil {
		return nil, badSpec("task %s: custom is not a SparkJob: %v", taskName(tmpl), err)
	}
	return job, nil
}

func taskName(tmpl *idlcore.TaskTemplate) string {
	if n := tmpl.GetId().GetName(); n != "" {
		return strconv.Quote(n)
	}
	return "(unnamed)"
}

// submitSpec is everything a runs/submit body is built from.
type submitSpec struct {
	job              *plugins.SparkJob
	image            string
	args             []string
	runName          string
	idempotencyToken string
	timeoutSeconds   int64
	entrypointFile   string
}

// buildSubmitBody turns a task into a runs/submit body: the user's
// databricksConf, with new_cluster defaults, a spark_python_task unless the
// user brought their own work, and the plugin's run_name, timeout_seconds and
// idempotency_token.
func buildSubmitBody(s submitSpec) (map[string]any, error) {
	conf := s.job.GetDatabricksConf()
	if conf == nil || len(conf.GetFields()) == 0 {
		return nil, badSpec("databricksConf is empty: it must give at least new_cluster or existing_cluster_id")
	}
	body := conf.AsMap()

	if raw, ok := body[fieldNewCluster]; ok {
		cluster, isObj := raw.(map[string]any)
		if !isObj {
			return nil, badSpec("databricksConf.new_cluster must be an object, got %s", describe(raw))
		}
		if err := defaultCluster(cluster, s.image, s.job.GetSparkConf()); err != nil {
			return nil, err
		}
	}

	if !hasOwnTask(body) {
		if s.entrypointFile == "" {
			return nil, badSpec("databricksConf gives no task (one of %s) and plugins.databricks.entrypointFile is empty",
				strings.Join(ownTaskFields, ", "))
		}
		params := make([]any, len(s.args))
		for i, a := range s.args {
			params[i] = a
		}
		body[fieldSparkPythonTask] = map[string]any{fieldPythonFile: s.entrypointFile, fieldParameters: params}
	}

	body[fieldRunName] = s.runName
	body[fieldIdempotencyToken] = s.idempotencyToken
	if s.timeoutSeconds > 0 {
		body[fieldTimeoutSeconds] = s.timeoutSeconds
	}
	return body, nil
}

// defaultCluster fills docker_image.url with the task image and spark_conf
// with the task's sparkConf where the user left them out.
func defaultCluster(cluster map[string]any, image string, sparkConf map[string]string) error {
	if image != "" {
		switch d := cluster[fieldDockerImage].(type) {
		case nil:
			cluster[fieldDockerImage] = map[string]any{fieldURL: image}
		case map[string]any:
			if u, _ := d[fieldURL].(string); u == "" {
				d[fieldURL] = image
			}
		default:
			return badSpec("databricksConf.new_cluster.docker_image must be an object, got %s", describe(d))
		}
	}
	if v := cluster[fieldSparkConf]; v == nil && len(sparkConf) > 0 { // missing or null
		conf := make(map[string]any, len(sparkConf))
		for k, v := range sparkConf {
			conf[k] = v
		}
		cluster[fieldSparkConf] = conf
	}
	return nil
}

func hasOwnTask(body map[string]any) bool {
	for _, k := range ownTaskFields {
		if v, ok := body[k]; ok && v != nil {
			return true
		}
	}
	return false
}

// describe names a JSON value's type and value for an error message.
func describe(v any) string {
	s := fmt.Sprintf("%v", v)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	switch v.(type) {
	case string:
		return fmt.Sprintf("the string %q", s)
	case float64:
		return "the number " + s
	case bool:
		return "the boolean " + s
	case []any:
		return "a list"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// idempotencyToken derives the runs/submit idempotency_token from the task
// execution: the same attempt of the same task execution always gets the same
// token (so a Create repeated after a propeller restart finds the run it made
// before), and any other attempt gets a different one. It is 64 hex
// characters, the most Databricks accepts.
func idempotencyToken(id *idlcore.TaskExecutionIdentifier, generatedName string) string {
	h := sha256.New()
	exec := id.GetNodeExecutionId().GetExecutionId()
	task := id.GetTaskId()
	for _, part := range []string{
		"flyte-databricks-v1",
		exec.GetOrg(), exec.GetProject(), exec.GetDomain(), exec.GetName(),
		id.GetNodeExecutionId().GetNodeId(),
		task.GetOrg(), task.GetProject(), task.GetDomain(), task.GetName(), task.GetVersion(),
		strconv.FormatUint(uint64(id.GetRetryAttempt()), 10),
		generatedName,
	} {
		// Length-prefixed, so that no two different IDs hash the same input.
		_, _ = fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

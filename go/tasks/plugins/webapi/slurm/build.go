package slurm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
)

// Task types.
const (
	// TaskTypeScript is flytekit's SlurmTask / SlurmShellTask: a batch
	// script already on the cluster (batch_script_path) or an inline script.
	TaskTypeScript = "slurm"
	// TaskTypeFunction is flytekit's SlurmFunctionTask: the task's own
	// container command, run by a batch script.
	TaskTypeFunction = "slurm_fn"
)

// taskSpec is a task's custom struct as flytekitplugins-slurm writes it.
type taskSpec struct {
	// Host is ssh_config.host (or the cluster field): a configured cluster's
	// name or alias.
	Host string
	// ClientKeys is set when the task named key files; they are ignored.
	ClientKeys bool
	// SSHExtra lists other ssh_config keys (ignored, like client_keys).
	SSHExtra []string
	// Sbatch is sbatch_config (or sbatch_conf): long option → value.
	Sbatch map[string]string
	// Script is the inline script (nil: none).
	Script *string
	// BatchScriptPath is a script already on the cluster.
	BatchScriptPath string
	// BatchScriptArgs are the arguments of the batch script.
	BatchScriptArgs []string
	// OutputLocs are the shell task's outputs: var → location template.
	OutputLocs []outputLoc
}

type outputLoc struct {
	Var, Type, Location string
}

// specError is a task that can never be submitted.
type specError struct{ msg string }

func (e *specError) Error() string { return e.msg }

func badSpec(format string, args ...any) error { return &specError{msg: fmt.Sprintf(format, args...)} }

// maxScript bounds an inline script.
const maxScript = 1 << 20

// parseSpec reads the custom struct. It never panics, whatever it holds.
func parseSpec(custom *structpb.Struct) (*taskSpec, error) {
	if custom == nil {
		return nil, badSpec("the task has no custom field; flytekitplugins-slurm writes ssh_config and sbatch_config there")
	}
	f := custom.GetFields()
	s := &taskSpec{Sbatch: map[string]string{}}
	if v, ok := f["ssh_config"]; ok && v.GetStructValue() != nil {
		for k, x := range v.GetStructValue().GetFields() {
			switch k {
			case "host":
				s.Host = x.GetStringValue()
			case "client_keys":
				s.ClientKeys = true
			default:
				s.SSHExtra = append(s.SSHExtra, k)
			}
		}
		sort.Strings(s.SSHExtra)
	} else if ok && !isNull(v) {
		return nil, badSpec("ssh_config must be an object, got %s", kindOf(v))
	}
	if v, ok := f["cluster"]; ok && v.GetStringValue() != "" {
		s.Host = v.GetStringValue()
	}
	if s.Host == "" {
		return nil, badSpec("the task names no cluster: set ssh_config.host (or cluster) to one of plugins.slurm.clusters")
	}
	for _, key := range []string{"sbatch_config", "sbatch_conf"} {
		v, ok := f[key]
		if !ok || isNull(v) {
			continue
		}
		if v.GetStructValue() == nil {
			return nil, badSpec("%s must be an object of sbatch long options, got %s", key, kindOf(v))
		}
		for opt, x := range v.GetStructValue().GetFields() {
			val, err := scalarString(x)
			if err != nil {
				return nil, badSpec("%s[%q]: %v", key, opt, err)
			}
			s.Sbatch[opt] = val
		}
	}
	if v, ok := f["script"]; ok && !isNull(v) {
		sv, isStr := v.GetKind().(*structpb.Value_StringValue)
		if !isStr {
			return nil, badSpec("script must be a string, got %s", kindOf(v))
		}
		if len(sv.StringValue) > maxScript {
			return nil, badSpec("script is %d bytes; at most %d", len(sv.StringValue), maxScript)
		}
		script := sv.StringValue
		s.Script = &script
	}
	if v, ok := f["batch_script_path"]; ok && !isNull(v) {
		s.BatchScriptPath = v.GetStringValue()
	}
	if v, ok := f["batch_script_args"]; ok && !isNull(v) {
		if v.GetListValue() == nil {
			return nil, badSpec("batch_script_args must be a list, got %s", kindOf(v))
		}
		for i, a := range v.GetListValue().GetValues() {
			str, err := scalarString(a)
			if err != nil {
				return nil, badSpec("batch_script_args[%d]: %v", i, err)
			}
			s.BatchScriptArgs = append(s.BatchScriptArgs, str)
		}
	}
	if v, ok := f["output_locs"]; ok && v.GetListValue() != nil {
		for i, o := range v.GetListValue().GetValues() {
			of := o.GetStructValue().GetFields()
			loc := outputLoc{Var: of["var"].GetStringValue(), Type: of["var_type"].GetStringValue(), Location: of["location"].GetStringValue()}
			if loc.Var == "" || loc.Location == "" {
				return nil, badSpec("output_locs[%d] needs var and location", i)
			}
			s.OutputLocs = append(s.OutputLocs, loc)
		}
	}
	for opt := range s.Sbatch {
		if err := checkOption(opt); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func isNull(v *structpb.Value) bool {
	_, ok := v.GetKind().(*structpb.Value_NullValue)
	return v == nil || v.GetKind() == nil || ok
}

func kindOf(v *structpb.Value) string {
	switch v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return "a string"
	case *structpb.Value_NumberValue:
		return "a number"
	case *structpb.Value_BoolValue:
		return "a boolean"
	case *structpb.Value_ListValue:
		return "a list"
	case *structpb.Value_StructValue:
		return "an object"
	}
	return "null"
}

// scalarString is a string, number or boolean as sbatch would read it.
func scalarString(v *structpb.Value) (string, error) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return k.StringValue, nil
	case *structpb.Value_NumberValue:
		n := k.NumberValue
		if n == float64(int64(n)) && n < 1e15 && n > -1e15 {
			return fmt.Sprintf("%d", int64(n)), nil
		}
		return fmt.Sprintf("%g", n), nil
	case *structpb.Value_BoolValue:
		if k.BoolValue {
			return "", nil
		}
		return "", fmt.Errorf("false is not an option value (leave the option out)")
	}
	return "", fmt.Errorf("want a string, number or true, got %s", kindOf(v))
}

// sbatchOptions are the sbatch long options a task may set (Slurm 22.05 to
// 24.x). Options that would let a task change who runs the job, where its
// script comes from, or how the plugin tracks it are left out on purpose
// (uid, gid, wrap, parsable, job-name, comment, wait, test-only, export-file,
// chdir is allowed).
//
//nolint:goconst // a table of sbatch option names, read as one
var sbatchOptions = map[string]bool{
	"account": true, "acctg-freq": true, "array": true, "batch": true, "bb": true, "bbf": true,
	"begin": true, "chdir": true, "cluster-constraint": true, "constraint": true, "container": true,
	"contiguous": true, "core-spec": true, "cores-per-socket": true, "cpu-freq": true,
	"cpus-per-gpu": true, "cpus-per-task": true, "deadline": true, "delay-boot": true,
	"dependency": true, "distribution": true, "error": true, "exclude": true, "exclusive": true,
	"export": true, "extra-node-info": true, "get-user-env": true, "gpu-bind": true, "gpu-freq": true,
	"gpus": true, "gpus-per-node": true, "gpus-per-socket": true, "gpus-per-task": true, "gres": true,
	"gres-flags": true, "hint": true, "hold": true, "ignore-pbs": true, "input": true, "kill-on-invalid-dep": true,
	"licenses": true, "mail-type": true, "mail-user": true, "mcs-label": true, "mem": true,
	"mem-bind": true, "mem-per-cpu": true, "mem-per-gpu": true, "mincpus": true, "network": true,
	"nice": true, "no-kill": true, "no-requeue": true, "nodefile": true, "nodelist": true, "nodes": true,
	"ntasks": true, "ntasks-per-core": true, "ntasks-per-gpu": true, "ntasks-per-node": true,
	"ntasks-per-socket": true, "open-mode": true, "output": true, "overcommit": true, "oversubscribe": true,
	"partition": true, "power": true, "prefer": true, "priority": true, "profile": true, "propagate": true,
	"qos": true, "quiet": true, "reboot": true, "requeue": true, "reservation": true, "signal": true,
	"sockets-per-node": true, "spread-job": true, "switches": true, "thread-spec": true,
	"threads-per-core": true, "time": true, "time-min": true, "tmp": true, "tres-per-task": true,
	"use-min-nodes": true, "verbose": true, "wckey": true,
}

var optionName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,40}$`)

// checkOption refuses an option name sbatch does not know (or that the
// plugin owns): no option injection through a key.
func checkOption(opt string) error {
	if !optionName.MatchString(opt) {
		return badSpec("sbatch option %q is not an option name (want lower-case long options such as \"partition\")", opt)
	}
	switch opt {
	case "job-name", "comment", "parsable", "wrap", "uid", "gid", "wait", "test-only":
		return badSpec("sbatch option %q is set by the plugin and may not be given by a task", opt)
	}
	if !sbatchOptions[opt] {
		return badSpec("sbatch option %q is not one this plugin knows", opt)
	}
	return nil
}

// Submission is the sbatch submission a task makes: the script, the
// options (sorted by name) and the script's arguments. It holds no
// credentials.
type Submission struct {
	// Cluster is the configured cluster's name.
	Cluster string
	// Marker is the job name: derived from the task execution ID, it lets
	// Create find a job it submitted before a restart.
	Marker string
	// Script is the batch script's content, empty when ScriptPath names a
	// script already on the cluster.
	Script string
	// ScriptPath is the batch script on the cluster (batch_script_path).
	ScriptPath string
	// Options are sbatch long options, without the leading dashes.
	Options []Option
	// Args are the batch script's arguments.
	Args []string
	// Outputs are the shell task's output locations (var → location).
	Outputs map[string]string
	// Notes say what the plugin ignored in the task.
	Notes []string
}

// Option is one sbatch long option.
type Option struct {
	Name, Value string
}

// markerFor is the job name of a task execution: readable, bounded, and
// unique per attempt.
func markerFor(generatedName string) string {
	sum := sha256.Sum256([]byte(generatedName))
	prefix := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(generatedName))
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	return "flyte-" + prefix + "-" + hex.EncodeToString(sum[:6])
}

// taskFnPlaceholder is where slurm_fn's script runs the task.
const taskFnPlaceholder = "{task.fn}"

// buildFunction is a slurm_fn submission: the script (the user's, with
// {task.fn} replaced by the task's command, or a bash script running it).
func buildFunction(spec *taskSpec, args []string) (string, error) {
	if len(args) == 0 {
		return "", badSpec("slurm_fn task has no container args to run")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	entry := strings.Join(quoted, " ")
	if spec.Script == nil || strings.TrimSpace(*spec.Script) == "" {
		return "#!/bin/bash\n" + entry + "\n", nil
	}
	if !strings.Contains(*spec.Script, taskFnPlaceholder) {
		return "", badSpec("script has no %s placeholder: the task would never run", taskFnPlaceholder)
	}
	return strings.ReplaceAll(*spec.Script, taskFnPlaceholder, entry), nil
}

var placeholder = regexp.MustCompile(`\{(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\}`)

// interpolate fills a shell task's {inputs.x} and {outputs.y}. Values are
// inserted as is, as the connector's f-string interpolation does: the
// script's author decides the quoting. A name the task does not have is a
// BadTaskSpecification.
func interpolate(script string, inputs, outputs map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(script, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		src := inputs
		if sub[1] == "outputs" {
			src = outputs
		}
		v, ok := src[sub[2]]
		if !ok {
			missing = append(missing, m)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", badSpec("script refers to %s, which the task does not have", strings.Join(missing, ", "))
	}
	return out, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sbatchCommand is the sbatch command line for a submission whose script is
// at scriptPath (already quoted by the caller when it is an expression).
func sbatchCommand(sub *Submission, scriptPath string) string {
	var b strings.Builder
	b.WriteString("sbatch --parsable --job-name=")
	b.WriteString(shellQuote(sub.Marker))
	for _, o := range sub.Options {
		b.WriteString(" --")
		b.WriteString(o.Name)
		if o.Value != "" {
			b.WriteString("=")
			b.WriteString(shellQuote(o.Value))
		}
	}
	b.WriteString(" ")
	b.WriteString(scriptPath)
	for _, a := range sub.Args {
		b.WriteString(" ")
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

func sortedOptions(m map[string]string) []Option {
	opts := make([]Option, 0, len(m))
	for k, v := range m {
		opts = append(opts, Option{Name: k, Value: v})
	}
	sort.Slice(opts, func(i, j int) bool { return opts[i].Name < opts[j].Name })
	return opts
}

package slurm

import (
	"encoding/json"
	"testing"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"google.golang.org/protobuf/types/known/structpb"
)

// FuzzParseSpec: no custom struct makes parsing or building panic, and
// whatever is accepted reaches the shell quoted with known option names.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		`{"ssh_config":{"host":"h"},"sbatch_config":{"partition":"debug","time":"0:10"},"script":"#!/bin/bash\n{task.fn}\n"}`,
		`{"ssh_config":{"host":"h","client_keys":["/k"]},"batch_script_path":"/x.sh","batch_script_args":["a",1,true]}`,
		`{"ssh_config":{"host":"h"},"sbatch_conf":{"mem":"1G"},"script":"echo {inputs.x}","output_locs":[{"var":"o","var_type":"str","location":"/tmp/{inputs.x}"}]}`,
		`{"ssh_config":null,"cluster":"c","sbatch_config":{"--uid":"0"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		st, err := structpb.NewStruct(m)
		if err != nil {
			return
		}
		spec, err := parseSpec(st)
		if err != nil {
			return
		}
		for opt := range spec.Sbatch {
			if !sbatchOptions[opt] {
				t.Fatalf("accepted unknown option %q", opt)
			}
		}
		_, _ = buildFunction(spec, []string{"echo", "x"})
		sub := &Submission{Marker: markerFor("n"), Options: sortedOptions(spec.Sbatch), Args: spec.BatchScriptArgs}
		_ = sbatchCommand(sub, shellQuote(spec.BatchScriptPath))
		_, _ = restJobBody(sub, shapeFlat)
		_, _ = restJobBody(sub, shapeLists)
	})
}

// FuzzStatusParsers: no scontrol/jobcomp line or REST answer makes the
// status path panic or fail; it always yields a phase.
func FuzzStatusParsers(f *testing.F) {
	f.Add("JobId=5 JobName=x JobState=CANCELLED by 0 Reason=None ExitCode=0:15 StdOut=/tmp/a b.out", []byte(`{"job_id":5,"job_state":"COMPLETED","exit_code":768}`))
	f.Add("JobId=6 JobState=WEIRD_NEW", []byte(`{"job_id":6,"job_state":["RUNNING"],"exit_code":{"return_code":{"number":3}}}`))
	f.Add("=== == =", []byte(`{"job_state":[],"exit_code":"x"}`))
	f.Fuzz(func(t *testing.T, line string, rest []byte) {
		j := jobFromKV(parseKV(line))
		if ph := phaseOf(j, false, &core.TaskInfo{}); ph.Phase() == core.PhaseUndefined {
			t.Fatalf("no phase for %q", line)
		}
		var rj restJob
		if json.Unmarshal(rest, &rj) == nil {
			info := rj.info()
			if ph := phaseOf(info, true, &core.TaskInfo{}); ph.Phase() == core.PhaseUndefined {
				t.Fatalf("no phase for %s", rest)
			}
		}
		_, _ = minutesOf(line)
		_, _ = megabytesOf(line)
	})
}

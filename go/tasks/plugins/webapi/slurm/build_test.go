package slurm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
)

func mustStruct(t testing.TB, m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return s
}

func TestParseSpecBadInput(t *testing.T) {
	for name, c := range map[string]struct {
		custom map[string]any
		want   string
	}{
		"no host":         {map[string]any{"ssh_config": map[string]any{}}, "names no cluster"},
		"ssh_config list": {map[string]any{"ssh_config": []any{"x"}}, "ssh_config must be an object"},
		"unknown option":  {map[string]any{"ssh_config": map[string]any{"host": "h"}, "sbatch_config": map[string]any{"frobnicate": "1"}}, `"frobnicate" is not one`},
		"injected option": {map[string]any{"ssh_config": map[string]any{"host": "h"}, "sbatch_config": map[string]any{"partition=x --uid": "0"}}, "not an option name"},
		"plugin's option": {map[string]any{"ssh_config": map[string]any{"host": "h"}, "sbatch_config": map[string]any{"job-name": "x"}}, "set by the plugin"},
		"uid":             {map[string]any{"ssh_config": map[string]any{"host": "h"}, "sbatch_conf": map[string]any{"uid": "0"}}, "set by the plugin"},
		"object value":    {map[string]any{"ssh_config": map[string]any{"host": "h"}, "sbatch_config": map[string]any{"time": map[string]any{}}}, "want a string"},
		"false value":     {map[string]any{"ssh_config": map[string]any{"host": "h"}, "sbatch_config": map[string]any{"exclusive": false}}, "false is not"},
		"script not str":  {map[string]any{"ssh_config": map[string]any{"host": "h"}, "script": 3}, "script must be a string"},
		"args not list":   {map[string]any{"ssh_config": map[string]any{"host": "h"}, "batch_script_args": "a"}, "must be a list"},
		"bad output_locs": {map[string]any{"ssh_config": map[string]any{"host": "h"}, "output_locs": []any{map[string]any{}}}, "needs var and location"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseSpec(mustStruct(t, c.custom))
			require.Error(t, err)
			var se *specError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := parseSpec(nil)
	assert.Error(t, err)
}

func TestInjectionIsQuoted(t *testing.T) {
	spec, err := parseSpec(mustStruct(t, map[string]any{
		"ssh_config":        map[string]any{"host": "h", "client_keys": []any{"/k"}},
		"sbatch_config":     map[string]any{"partition": "debug; rm -rf ~", "exclusive": true, "nodes": 2},
		"batch_script_path": "/opt/x'.sh",
		"batch_script_args": []any{"$(id)", "a b", "`whoami`"},
	}))
	require.NoError(t, err)
	assert.True(t, spec.ClientKeys)
	sub := &Submission{Marker: markerFor("exec-n0-0"), Options: sortedOptions(spec.Sbatch), Args: spec.BatchScriptArgs}
	cmd := sbatchCommand(sub, shellQuote(spec.BatchScriptPath))
	assert.Equal(t, "sbatch --parsable --job-name="+sub.Marker+
		` --exclusive --nodes=2 --partition='debug; rm -rf ~' '/opt/x'\''.sh' '$(id)' 'a b' '`+"`whoami`"+`'`, cmd)
}

func TestFunctionScript(t *testing.T) {
	script := "#!/bin/bash\nmodule load x\n{task.fn}\n"
	s, err := buildFunction(&taskSpec{Script: &script}, []string{"pyflyte-execute", "--inputs", "s3://b/in put"})
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/bash\nmodule load x\npyflyte-execute --inputs 's3://b/in put'\n", s)
	s, err = buildFunction(&taskSpec{}, []string{"echo", "hi"})
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/bash\necho hi\n", s)
	bad := "echo no placeholder"
	_, err = buildFunction(&taskSpec{Script: &bad}, []string{"x"})
	assert.ErrorContains(t, err, "{task.fn}")
	_, err = buildFunction(&taskSpec{}, nil)
	assert.Error(t, err)
}

func TestInterpolate(t *testing.T) {
	out, err := interpolate("echo {inputs.x} > {outputs.o}", map[string]string{"x": "1"}, map[string]string{"o": "/tmp/o"})
	require.NoError(t, err)
	assert.Equal(t, "echo 1 > /tmp/o", out)
	_, err = interpolate("{inputs.nope}", nil, nil)
	assert.ErrorContains(t, err, "{inputs.nope}")
}

func TestMarker(t *testing.T) {
	m := markerFor(strings.Repeat("A;b ", 40))
	assert.LessOrEqual(t, len(m), 64)
	assert.Regexp(t, `^flyte-[a-z0-9-]+-[0-9a-f]{12}$`, m)
	assert.NotEqual(t, markerFor("a-n0-0"), markerFor("a-n0-1"))
}

func TestRESTBody(t *testing.T) {
	sub := &Submission{Marker: "m", Options: []Option{{"cpus-per-task", "2"}, {"mem", "1G"}, {"time", "1:30:00"}}, Args: []string{"a"}}
	flat, err := restJobBody(sub, shapeFlat)
	require.NoError(t, err)
	assert.Equal(t, 90, flat["time_limit"])
	assert.Equal(t, 1024, flat["memory_per_node"])
	assert.IsType(t, map[string]string{}, flat["environment"])
	lists, err := restJobBody(sub, shapeLists)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"set": true, "infinite": false, "number": 90}, lists["time_limit"])
	assert.IsType(t, []string{}, lists["environment"])
	_, err = restJobBody(&Submission{Options: []Option{{"gres", "gpu:1"}}}, shapeFlat)
	assert.ErrorContains(t, err, `"gres" cannot be sent`)
	for v, ok := range map[string]bool{"v0.0.38": true, "v0.0.41": true, "v0.0.37": false, "v1": false, "": false} {
		_, err := restShapeFor(v)
		assert.Equal(t, ok, err == nil, v)
	}
}

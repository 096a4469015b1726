package main

import (
	"strings"
	"testing"
)

// The Slurm example renders as the sbatch submission: the configured
// cluster, the sbatch command with the marker as job name, the script with
// the task's command in place of {task.fn}, and the note that the task's
// client_keys were ignored.
func TestRenderSlurm(t *testing.T) {
	out, errOut, code := cli(t, "render", "--config", examples+"slurm-propeller.yaml", "--task", examples+"slurm-task.json", "--name", "hpc-n0-0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"cluster: hpc\n", "transport: ssh\n", "sbatch --parsable --job-name=flyte-hpc-n0-0-",
		"--cpus-per-task=4", "--partition=debug", "module load python", "pyflyte-execute --inputs",
		"client_keys, username ignored",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "{task.fn}") {
		t.Errorf("placeholder left in the script:\n%s", out)
	}
}

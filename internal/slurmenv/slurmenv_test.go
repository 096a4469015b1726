package slurmenv_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/flytedist/flyteplugins/internal/slurmenv"
)

// TestCluster starts a real cluster and uses it the ways the Slurm plugin
// does: the client commands over SSH, and slurmrestd with a JWT.
func TestCluster(t *testing.T) {
	begin := time.Now()
	c := slurmenv.Start(t, slurmenv.Options{MinJobAge: 5 * time.Second})
	t.Logf("started in %s", time.Since(begin).Round(time.Millisecond))
	client := dialSSH(t, c)

	var finished []string // job ids, for the purge check

	t.Run("ssh", func(t *testing.T) {
		out, err := runSSH(client, `sbatch --parsable --wrap 'echo hello from $SLURM_JOB_ID'`)
		if err != nil {
			t.Fatalf("sbatch: %v\n%s", err, c.Logs())
		}
		id := strings.TrimSpace(out)
		if _, err := strconv.Atoi(id); err != nil {
			t.Fatalf("sbatch --parsable printed %q", out)
		}
		finished = append(finished, id)
		fields := waitJobSSH(t, client, id)
		if fields["JobState"] != "COMPLETED" || fields["ExitCode"] != "0:0" {
			t.Fatalf("job %s: JobState=%s ExitCode=%s, want COMPLETED 0:0", id, fields["JobState"], fields["ExitCode"])
		}
		if want := filepath.Join(c.Home, "slurm-"+id+".out"); fields["StdOut"] != want {
			t.Errorf("StdOut=%s, want %s", fields["StdOut"], want)
		}
		got, err := runSSH(client, "cat "+fields["StdOut"])
		if err != nil || got != "hello from "+id+"\n" {
			t.Errorf("output file: %q, %v", got, err)
		}
		// sacct has nothing to read without slurmdbd.
		out, err = runSSH(client, "sacct -n -j "+id)
		t.Logf("sacct without slurmdbd: %q, %v", out, err)
	})

	t.Run("ssh failure", func(t *testing.T) {
		out, err := runSSH(client, `sbatch --parsable --job-name=fails --wrap 'echo about to fail; exit 3'`)
		if err != nil {
			t.Fatalf("sbatch: %v", err)
		}
		id := strings.TrimSpace(out)
		finished = append(finished, id)
		fields := waitJobSSH(t, client, id)
		if fields["JobState"] != "FAILED" || fields["ExitCode"] != "3:0" || fields["Reason"] != "NonZeroExitCode" {
			t.Fatalf("job %s: JobState=%s ExitCode=%s Reason=%s, want FAILED 3:0 NonZeroExitCode",
				id, fields["JobState"], fields["ExitCode"], fields["Reason"])
		}
	})

	t.Run("rest", func(t *testing.T) {
		id := submitREST(t, c, "#!/bin/sh\necho hello over rest\n", "rest-ok")
		finished = append(finished, strconv.Itoa(id))
		job := waitJobREST(t, c, id)
		if job.JobState != "COMPLETED" || job.ExitCode != 0 || job.Name != "rest-ok" || job.Comment != "flyte:rest-ok" {
			t.Fatalf("job %d: %+v", id, job)
		}
		out := strings.ReplaceAll(job.StandardOutput, "%j", strconv.Itoa(id))
		got, err := os.ReadFile(out)
		if err != nil || string(got) != "hello over rest\n" {
			t.Errorf("output file %s: %q, %v", out, got, err)
		}
	})

	t.Run("rest failure", func(t *testing.T) {
		id := submitREST(t, c, "#!/bin/sh\nexit 3\n", "rest-fails")
		finished = append(finished, strconv.Itoa(id))
		job := waitJobREST(t, c, id)
		// v0.0.38 reports exit_code as the raw wait status: 3<<8.
		if job.JobState != "FAILED" || job.ExitCode>>8 != 3 || job.StateReason != "NonZeroExitCode" {
			t.Fatalf("job %d: %+v, want FAILED, exit status 3, NonZeroExitCode", id, job)
		}
	})

	t.Run("purged after MinJobAge", func(t *testing.T) {
		if len(finished) == 0 {
			t.Skip("no job finished")
		}
		deadline := time.Now().Add(c.MinJobAge + 90*time.Second)
		for _, id := range finished {
			for {
				_, err := c.Run("scontrol", "show", "job", "-o", id)
				if err != nil && strings.Contains(err.Error(), "Invalid job id specified") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("job %s still known to slurmctld after %s: %v", id, c.MinJobAge, err)
				}
				time.Sleep(500 * time.Millisecond)
			}
		}
		t.Logf("all jobs purged %s after the test began", time.Since(begin).Round(time.Millisecond))
		// squeue over SSH and slurmrestd say the same.
		if out, err := runSSH(client, "squeue -h -j "+finished[0]); err == nil {
			t.Errorf("squeue -j %s after the purge: %q, want an error", finished[0], out)
		}
		resp, body := getREST(t, c, "/job/"+finished[0])
		if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte(`"error_number": 2017`)) {
			t.Errorf("GET purged job: HTTP %d %s", resp.StatusCode, body)
		}
		// jobcomp/filetxt keeps a line per finished job.
		comp, err := os.ReadFile(c.JobCompPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range finished {
			if !strings.Contains(string(comp), "JobId="+id+" ") {
				t.Errorf("%s has no line for job %s:\n%s", c.JobCompPath, id, comp)
			}
		}
	})
}

// dialSSH connects as c.User with the client key, verifying sshd's host key
// through a known_hosts file.
func dialSSH(t *testing.T, c *slurmenv.Cluster) *ssh.Client {
	t.Helper()
	signer, err := ssh.ParsePrivateKey(c.SSHClientKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(c.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", c.SSHAddr, &ssh.ClientConfig{
		User:            c.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh %s: %v\n%s", c.SSHAddr, err, c.Log("sshd"))
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// runSSH runs cmd in a new session and returns its standard output; the
// error holds standard error.
func runSSH(client *ssh.Client, cmd string) (string, error) {
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer func() { _ = sess.Close() }()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if err := sess.Run(cmd); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", cmd, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

var fieldRE = regexp.MustCompile(`(\S+?)=(\S*)`)

// waitJobSSH polls `squeue -t all` over SSH (it lists finished jobs too,
// until MinJobAge) until the job has ended, and returns the fields of
// `scontrol show job -o`.
func waitJobSSH(t *testing.T, client *ssh.Client, id string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := runSSH(client, "squeue -h -t all -j "+id+" -o %T")
		if err != nil {
			t.Fatal(err)
		}
		state := strings.TrimSpace(out)
		switch state {
		case "PENDING", "CONFIGURING", "RUNNING", "COMPLETING":
		case "":
			t.Fatalf("squeue -t all -j %s lists nothing", id)
		default:
			out, err := runSSH(client, "scontrol show job -o "+id)
			if err != nil {
				t.Fatal(err)
			}
			fields := map[string]string{}
			for _, m := range fieldRE.FindAllStringSubmatch(out, -1) {
				if _, dup := fields[m[1]]; !dup {
					fields[m[1]] = m[2]
				}
			}
			if fields["JobState"] != state {
				t.Errorf("squeue says %s, scontrol JobState=%s", state, fields["JobState"])
			}
			return fields
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// restJob is the part of a v0.0.38 job the test reads.
type restJob struct {
	JobID          int    `json:"job_id"`
	Name           string `json:"name"`
	JobState       string `json:"job_state"`
	StateReason    string `json:"state_reason"`
	ExitCode       int    `json:"exit_code"`
	StandardOutput string `json:"standard_output"`
	Comment        string `json:"comment"`
}

func submitREST(t *testing.T, c *slurmenv.Cluster, script, name string) int {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"script": script,
		"job": map[string]any{
			"name":                      name,
			"comment":                   "flyte:" + name,
			"current_working_directory": c.Home,
			"standard_output":           filepath.Join(c.Home, name+"-%j.out"),
			"environment":               map[string]string{"PATH": "/usr/bin:/bin"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.RESTURL+"/slurm/"+c.OpenAPIVersion+"/job/submit", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.SetRESTAuth(req)
	resp, raw := doREST(t, req)
	var out struct {
		JobID  int               `json:"job_id"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK || len(out.Errors) > 0 || out.JobID == 0 {
		t.Fatalf("submit: HTTP %d %s (%v)\n%s", resp.StatusCode, raw, err, c.Log("slurmrestd"))
	}
	return out.JobID
}

func waitJobREST(t *testing.T, c *slurmenv.Cluster, id int) restJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, raw := getREST(t, c, "/job/"+strconv.Itoa(id))
		var out struct {
			Jobs   []restJob         `json:"jobs"`
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK || len(out.Jobs) != 1 {
			t.Fatalf("GET job %d: HTTP %d %s (%v)", id, resp.StatusCode, raw, err)
		}
		switch job := out.Jobs[0]; job.JobState {
		case "PENDING", "CONFIGURING", "RUNNING", "COMPLETING":
		default:
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s", id, out.Jobs[0].JobState)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getREST(t *testing.T, c *slurmenv.Cluster, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.RESTURL+"/slurm/"+c.OpenAPIVersion+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetRESTAuth(req)
	return doREST(t, req)
}

func doREST(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

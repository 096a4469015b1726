package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

// restShape is how an OpenAPI version writes a job: v0.0.38 and v0.0.39
// use plain values (job_state a string, environment an object, exit_code a
// raw wait status); v0.0.40 and later use lists and {set, number} objects.
type restShape int

const (
	shapeFlat restShape = iota
	shapeLists
)

var apiVersion = regexp.MustCompile(`^v0\.0\.(\d+)$`)

func restShapeFor(v string) (restShape, error) {
	m := apiVersion.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("%q is not a slurmrestd OpenAPI version such as v0.0.38 or v0.0.41", v)
	}
	n, _ := strconv.Atoi(m[1])
	switch {
	case n < 38:
		return 0, fmt.Errorf("%s is older than v0.0.38, the oldest supported", v)
	case n < 40:
		return shapeFlat, nil
	}
	return shapeLists, nil
}

// restTransport talks to slurmrestd with a JWT read from the secret manager
// per call.
type restTransport struct {
	cl     Cluster
	shape  restShape
	token  func(ctx context.Context) (string, error)
	http   *http.Client
	base   string
	readFn func(path string) ([]byte, error)
}

func newRESTTransport(cl Cluster, token func(ctx context.Context) (string, error), timeout time.Duration) (*restTransport, error) {
	shape, err := restShapeFor(cl.APIVersion)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = timeout
	return &restTransport{cl: cl, shape: shape, token: token, readFn: os.ReadFile,
		base: strings.TrimSuffix(cl.Address, "/") + "/slurm/" + cl.APIVersion,
		http: &http.Client{Transport: tr, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

func (t *restTransport) close() { t.http.CloseIdleConnections() }

// errorNumberNoJob is Slurm's ESLURM_INVALID_JOB_ID.
const errorNumberNoJob = 2017

type restErrors struct {
	Errors []struct {
		ErrorNumber int    `json:"error_number"`
		Error       string `json:"error"`
		Description string `json:"description"`
	} `json:"errors"`
}

func (e restErrors) has(n int) bool {
	for _, x := range e.Errors {
		if x.ErrorNumber == n {
			return true
		}
	}
	return false
}

func (e restErrors) String() string {
	var parts []string
	for _, x := range e.Errors {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%d %s %s", x.ErrorNumber, x.Error, x.Description)))
	}
	return strings.Join(parts, "; ")
}

// do makes one request; status is the HTTP status, body the answer.
func (t *restTransport) do(ctx context.Context, op, method, path string, body any) (int, []byte, error) {
	tok, err := t.token(ctx)
	if err != nil {
		return 0, nil, &callError{op: op, cluster: t.cl.Name, transient: true, msg: err.Error()}
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, &callError{op: op, cluster: t.cl.Name, permanent: true, msg: err.Error()}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, rd)
	if err != nil {
		return 0, nil, &callError{op: op, cluster: t.cl.Name, permanent: true, msg: remote.Redact(err.Error(), tok)}
	}
	req.Header.Set("X-SLURM-USER-NAME", t.cl.User)
	req.Header.Set("X-SLURM-USER-TOKEN", tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return 0, nil, &callError{op: op, cluster: t.cl.Name, transient: true, msg: remote.ScrubTransportError(err, tok).Error()}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, nil, &callError{op: op, cluster: t.cl.Name, transient: true, msg: "reading the answer: " + err.Error()}
	}
	raw = []byte(remote.Redact(string(raw), tok))
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return resp.StatusCode, raw, &callError{op: op, cluster: t.cl.Name, permanent: true,
			msg: fmt.Sprintf("slurmrestd refused the token from secret %q for user %q (HTTP %d)", t.cl.SecretKey, t.cl.User, resp.StatusCode)}
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return resp.StatusCode, raw, &callError{op: op, cluster: t.cl.Name, transient: true,
			after: remote.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			msg:   fmt.Sprintf("HTTP %d: %s", resp.StatusCode, remote.Snippet(raw))}
	}
	return resp.StatusCode, raw, nil
}

// restJob is a job as either shape writes it; the flexible fields are
// decoded by hand.
type restJob struct {
	JobID          int64           `json:"job_id"`
	Name           string          `json:"name"`
	Comment        string          `json:"comment"`
	JobState       json.RawMessage `json:"job_state"`
	StateReason    string          `json:"state_reason"`
	ExitCode       json.RawMessage `json:"exit_code"`
	StandardOutput string          `json:"standard_output"`
	StandardError  string          `json:"standard_error"`
	UserName       string          `json:"user_name"`
}

// stateOf reads job_state: "RUNNING" (v0.0.38) or ["RUNNING", "..."] (v0.0.40+).
func stateOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil && len(l) > 0 {
		return l[0]
	}
	return ""
}

// exitOf reads exit_code: a raw wait status (v0.0.38) or
// {"return_code": {"number": N}, "signal": {"id": {"number": S}}} (v0.0.40+).
func exitOf(raw json.RawMessage) (code, sig int) {
	var ws int
	if json.Unmarshal(raw, &ws) == nil {
		return fromWaitStatus(ws)
	}
	var o struct {
		ReturnCode json.RawMessage `json:"return_code"`
		Signal     struct {
			ID json.RawMessage `json:"id"`
		} `json:"signal"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return 0, 0
	}
	return numberOf(o.ReturnCode), numberOf(o.Signal.ID)
}

// numberOf reads N or {"set": true, "number": N}.
func numberOf(raw json.RawMessage) int {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	var o struct {
		Number int `json:"number"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Number
}

func (j *restJob) info() *jobInfo {
	id := strconv.FormatInt(j.JobID, 10)
	out := &jobInfo{ID: id, Name: j.Name, Comment: j.Comment, Reason: j.StateReason,
		StdOut: expandPattern(j.StandardOutput, id, j.Name, j.UserName),
		StdErr: expandPattern(j.StandardError, id, j.Name, j.UserName)}
	out.State, _ = normalizeState(stateOf(j.JobState))
	out.ExitCode, out.Signal = exitOf(j.ExitCode)
	return out
}

// expandPattern expands the filename patterns slurmrestd v0.0.38 leaves
// unexpanded (%j, %A, %x, %u, %%).
func expandPattern(p, id, name, user string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	r := strings.NewReplacer("%%", "%", "%j", id, "%A", id, "%x", name, "%u", user)
	return r.Replace(p)
}

// restScriptField is the submission's script field (and argv[0]).
const restScriptField = "script"

// restFields maps the sbatch options REST can express to job fields.
// Options missing here cannot be sent over REST (BadTaskSpecification).
//
//nolint:goconst // a table of sbatch option names, read as one
var restFields = map[string]string{
	"partition": "partition", "account": "account", "qos": "qos", "time": "time_limit",
	"cpus-per-task": "cpus_per_task", "ntasks": "tasks", "nodes": "nodes", "mem": "memory_per_node",
	"output": "standard_output", "error": "standard_error", "chdir": "current_working_directory",
	"constraint": "constraints", "reservation": "reservation", "nice": "nice",
}

// restJobBody is the job description for a submission.
func restJobBody(sub *Submission, shape restShape) (map[string]any, error) {
	job := map[string]any{
		"name":                      sub.Marker,
		"current_working_directory": "/tmp",
	}
	if shape == shapeFlat {
		job["environment"] = map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin"}
	} else {
		job["environment"] = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	}
	for _, o := range sub.Options {
		field, ok := restFields[o.Name]
		if !ok {
			return nil, badSpec("sbatch option %q cannot be sent to a slurmrestd cluster; options REST supports: %s", o.Name, strings.Join(restOptionNames(), ", "))
		}
		var v any = o.Value
		switch o.Name {
		case "time":
			m, err := minutesOf(o.Value)
			if err != nil {
				return nil, badSpec("sbatch option time=%q: %v", o.Value, err)
			}
			v = setNumber(m, shape)
		case "cpus-per-task", "ntasks", "nice":
			n, err := strconv.Atoi(o.Value)
			if err != nil {
				return nil, badSpec("sbatch option %s=%q is not a whole number", o.Name, o.Value)
			}
			v = n
			if shape == shapeLists && o.Name != "nice" {
				v = n
			}
		case "mem":
			mb, err := megabytesOf(o.Value)
			if err != nil {
				return nil, badSpec("sbatch option mem=%q: %v", o.Value, err)
			}
			v = setNumber(mb, shape)
		}
		job[field] = v
	}
	if _, ok := job["standard_output"]; !ok {
		// sbatch's default, made explicit so the job reports where it is.
		job["standard_output"] = strings.TrimSuffix(fmt.Sprint(job["current_working_directory"]), "/") + "/slurm-%j.out"
	}
	if len(sub.Args) > 0 {
		job["argv"] = append([]string{restScriptField}, sub.Args...)
	}
	return job, nil
}

func setNumber(n int, shape restShape) any {
	if shape == shapeFlat {
		return n
	}
	return map[string]any{"set": true, "infinite": false, "number": n}
}

func restOptionNames() []string {
	names := make([]string, 0, len(restFields))
	for k := range restFields {
		names = append(names, k)
	}
	return sortedStrings(names)
}

// minutesOf reads sbatch's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
func minutesOf(s string) (int, error) {
	days := 0
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad days")
		}
		days, s = n, rest
		parts := strings.Split(s, ":")
		nums := make([]int, 3)
		for i, p := range parts {
			if i > 2 {
				return 0, fmt.Errorf("too many fields")
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("bad number %q", p)
			}
			nums[i] = n
		}
		return days*24*60 + nums[0]*60 + nums[1] + ceilDiv(nums[2], 60), nil
	}
	parts := strings.Split(s, ":")
	nums := []int{}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad number %q", p)
		}
		nums = append(nums, n)
	}
	switch len(nums) {
	case 1:
		return nums[0], nil
	case 2:
		return nums[0] + ceilDiv(nums[1], 60), nil
	case 3:
		return nums[0]*60 + nums[1] + ceilDiv(nums[2], 60), nil
	}
	return 0, fmt.Errorf("too many fields")
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func megabytesOf(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		s, mult = strings.TrimSuffix(s, "K"), -1024
	case strings.HasSuffix(s, "M"):
		s = strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		s, mult = strings.TrimSuffix(s, "G"), 1024
	case strings.HasSuffix(s, "T"):
		s, mult = strings.TrimSuffix(s, "T"), 1024*1024
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size")
	}
	if mult < 0 {
		return ceilDiv(n, -mult), nil
	}
	return n * mult, nil
}

func (t *restTransport) submit(ctx context.Context, sub *Submission) (string, bool, error) {
	if id, ok, err := t.find(ctx, sub.Marker); err != nil || ok {
		return id, ok, err
	}
	job, err := restJobBody(sub, t.shape)
	if err != nil {
		return "", false, err
	}
	script := sub.Script
	if sub.ScriptPath != "" {
		// REST takes the script's text: run the one on the cluster.
		args := `"$@"`
		script = "#!/bin/bash\nexec " + shellQuote(sub.ScriptPath) + " " + args + "\n"
	}
	status, raw, err := t.do(ctx, opSubmit, http.MethodPost, "/job/submit", map[string]any{restScriptField: script, "job": job})
	if err != nil {
		return "", false, err
	}
	var out struct {
		restErrors
		JobID *int64 `json:"job_id"`
	}
	if jerr := json.Unmarshal(raw, &out); jerr != nil {
		return "", false, &callError{op: opSubmit, cluster: t.cl.Name, transient: true, msg: fmt.Sprintf("unreadable answer (HTTP %d): %s", status, remote.Snippet(raw))}
	}
	if out.JobID == nil || *out.JobID == 0 || len(out.Errors) > 0 {
		return "", false, &callError{op: opSubmit, cluster: t.cl.Name, permanent: status < 500, transient: status >= 500, code: codeSubmitRejected,
			msg: fmt.Sprintf("slurmrestd rejected the job (HTTP %d): %s", status, out.String())}
	}
	return strconv.FormatInt(*out.JobID, 10), false, nil
}

// find looks for a job named marker among the controller's jobs.
func (t *restTransport) find(ctx context.Context, marker string) (string, bool, error) {
	status, raw, err := t.do(ctx, "find", http.MethodGet, "/jobs", nil)
	if err != nil {
		return "", false, err
	}
	var out struct {
		restErrors
		Jobs []restJob `json:"jobs"`
	}
	if jerr := json.Unmarshal(raw, &out); jerr != nil || status >= 300 {
		return "", false, &callError{op: "find", cluster: t.cl.Name, transient: true, msg: fmt.Sprintf("HTTP %d: %s", status, remote.Snippet(raw))}
	}
	var best int64
	for _, j := range out.Jobs {
		if j.Name == marker && j.JobID > best {
			best = j.JobID
		}
	}
	if best == 0 {
		return "", false, nil
	}
	return strconv.FormatInt(best, 10), true, nil
}

func (t *restTransport) job(ctx context.Context, id string) (*jobInfo, error) {
	status, raw, err := t.do(ctx, "status", http.MethodGet, "/job/"+id, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		restErrors
		Jobs []restJob `json:"jobs"`
	}
	jerr := json.Unmarshal(raw, &out)
	if jerr == nil && out.has(errorNumberNoJob) || status == http.StatusNotFound {
		return nil, errJobGone
	}
	if jerr != nil || status >= 300 {
		return nil, &callError{op: "status", cluster: t.cl.Name, transient: true, msg: fmt.Sprintf("HTTP %d: %s", status, remote.Snippet(raw))}
	}
	for i := range out.Jobs {
		if strconv.FormatInt(out.Jobs[i].JobID, 10) == id {
			return out.Jobs[i].info(), nil
		}
	}
	return nil, errJobGone
}

func (t *restTransport) record(_ context.Context, id string) (*jobInfo, bool, error) {
	if t.cl.JobCompPath == "" {
		return nil, false, nil
	}
	raw, err := t.readFn(t.cl.JobCompPath)
	if err != nil {
		return nil, false, nil
	}
	var last string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "JobId="+id+" ") {
			last = line
		}
	}
	return recordFrom(last, id)
}

func (t *restTransport) cancel(ctx context.Context, id string) error {
	status, raw, err := t.do(ctx, "cancel", http.MethodDelete, "/job/"+id, nil)
	if err != nil {
		return err
	}
	var out restErrors
	_ = json.Unmarshal(raw, &out)
	if status < 300 && len(out.Errors) == 0 || out.has(errorNumberNoJob) || status == http.StatusNotFound {
		return nil
	}
	msg := out.String()
	if strings.Contains(strings.ToLower(msg), "already complet") {
		return nil
	}
	return &callError{op: "cancel", cluster: t.cl.Name, transient: status >= 500, permanent: status < 500,
		msg: fmt.Sprintf("HTTP %d: %s", status, orStr(msg, remote.Snippet(raw)))}
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}

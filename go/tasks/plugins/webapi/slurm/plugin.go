package slurm

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginErrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core/template"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/ioutils"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/flyteorg/flyte/flytestdlib/logger"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

const pluginID = "slurm"

// Codes of failures the plugin decides itself.
const (
	codeBadTaskSpec  = pluginErrors.BadTaskSpecification
	codeClusterError = "SlurmClusterError"
	codeJobLost      = "SlurmJobOutcomeUnknown"
	// codeSubmitRejected: sbatch or slurmrestd refused the job.
	codeSubmitRejected = "SlurmSubmitRejected"
)

// JobMeta is the plugin state of a submitted job: where it runs and how to
// find it. No key, token or host key.
type JobMeta struct {
	Cluster string
	JobID   string
	Marker  string
	// Outputs are a shell task's output locations (var → location).
	Outputs map[string]string
	// Note says what the plugin ignored in the task (client_keys).
	Note string
}

// jobResource is what Get learns.
type jobResource struct {
	job     *jobInfo
	failure *failure
	aborted bool
}

type failure struct {
	rule remote.Rule
	msg  string
}

// IsTerminal tells the web-API cache to stop polling.
func (r *jobResource) IsTerminal() bool {
	if r.failure != nil {
		return true
	}
	rl, _ := ruleFor(r.job.State)
	return rl.Outcome.Terminal()
}

// Plugin is the Slurm web-API plugin.
type Plugin struct {
	cfg        Config
	clusters   map[string]*Cluster
	transports map[string]transport
	links      linkTemplates
	secrets    *remote.Secrets
	retry      *remote.Retrier
	// outage is the backoff across polls, one gate per cluster shared by
	// every task (retry.outageBackoff).
	outage *remote.Outage
	now    func() time.Time
	// last is the last job state seen per cluster/job, for a job purged
	// with no jobcomp record.
	last sync.Map
	// aborted marks jobs our own abort cancelled.
	aborted sync.Map
}

var _ webapi.AsyncPlugin = (*Plugin)(nil)

// PluginEntry registers ID "slurm" for task types "slurm" and "slurm_fn".
func PluginEntry() webapi.PluginEntry {
	return webapi.PluginEntry{
		ID:                 pluginID,
		SupportedTaskTypes: []core.TaskType{TaskTypeScript, TaskTypeFunction},
		PluginLoader:       loadPlugin,
	}
}

func init() {
	gob.Register(JobMeta{})
	pluginmachinery.PluginRegistry().RegisterRemotePlugin(PluginEntry())
}

func loadPlugin(_ context.Context, iCtx webapi.PluginSetupContext) (webapi.AsyncPlugin, error) {
	p, err := New(*GetConfig())
	if err != nil {
		return nil, err
	}
	if sc, ok := iCtx.(interface{ SecretManager() core.SecretManager }); ok {
		p.secrets.Manager = sc.SecretManager()
	}
	return p, nil
}

// New builds the plugin from a config (the CLI uses it to render).
func New(cfg Config) (*Plugin, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	links, err := parseLinks(cfg.Logs)
	if err != nil {
		return nil, err
	}
	p := &Plugin{cfg: cfg, clusters: map[string]*Cluster{}, transports: map[string]transport{}, links: links,
		secrets: &remote.Secrets{What: "Slurm credential"}, now: time.Now}
	p.retry = remote.NewRetrier(remote.Policy{MaxAttempts: cfg.Retry.MaxAttempts,
		Base: cfg.Retry.BaseBackoff.Duration, Max: cfg.Retry.MaxBackoff.Duration})
	p.retry.Log = func(ctx context.Context, f string, a ...any) { logger.Infof(ctx, f, a...) }
	p.outage = &remote.Outage{Policy: remote.OutagePolicy{Base: cfg.Retry.OutageBackoff.Duration, Max: cfg.Retry.OutageMaxBackoff.Duration},
		Now: func() time.Time { return p.now() }}
	for i := range cfg.Clusters {
		cl := cfg.Clusters[i]
		key := func(ctx context.Context) (string, error) {
			return p.secrets.Get(ctx, cl.SecretKey, func(msg string) { logger.Warnf(ctx, "%s", msg) })
		}
		var t transport
		if cl.Transport == TransportSSH {
			t, err = newSSHTransport(cl, key, cfg.CallTimeout.Duration, cfg.ScriptDir)
		} else {
			t, err = newRESTTransport(cl, key, cfg.CallTimeout.Duration)
		}
		if err != nil {
			return nil, fmt.Errorf("plugins.slurm.clusters %q: %w", cl.Name, err)
		}
		p.transports[cl.Name] = t
		for _, n := range append([]string{cl.Name}, cl.Aliases...) {
			p.clusters[n] = &cfg.Clusters[i]
		}
	}
	return p, nil
}

// Close releases pooled connections.
func (p *Plugin) Close() {
	for _, t := range p.transports {
		t.close()
	}
}

// GetConfig returns the web-API machinery config.
func (p *Plugin) GetConfig() webapi.PluginConfig { return p.cfg.WebAPI }

// ResourceRequirements puts every job in the "default" quota namespace.
func (p *Plugin) ResourceRequirements(context.Context, webapi.TaskExecutionContextReader) (core.ResourceNamespace, core.ResourceConstraintsSpec, error) {
	return "default", p.cfg.ResourceConstraints, nil
}

// BuildSubmission is the sbatch submission a task would make, without
// making it (flytedist render prints it). A task that can never be
// submitted is a BadTaskSpecification error.
func (p *Plugin) BuildSubmission(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (*Submission, error) {
	sub, err := p.submission(ctx, tCtx)
	var se *specError
	if errors.As(err, &se) {
		return nil, pluginErrors.Errorf(pluginErrors.BadTaskSpecification, "%s", se.msg)
	}
	return sub, err
}

func (p *Plugin) submission(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (*Submission, error) {
	tmpl, err := tCtx.TaskReader().Read(ctx)
	if err != nil {
		return nil, pluginErrors.Wrapf(pluginErrors.MetadataAccessFailed, err, "reading the task template")
	}
	spec, err := parseSpec(tmpl.GetCustom())
	if err != nil {
		return nil, err
	}
	cl, ok := p.clusters[spec.Host]
	if !ok {
		return nil, badSpec("ssh_config.host %q is not a cluster in plugins.slurm.clusters (known: %s)", spec.Host, strings.Join(p.clusterNames(), ", "))
	}
	md := tCtx.TaskExecutionMetadata()
	sub := &Submission{Cluster: cl.Name, Marker: markerFor(md.GetTaskExecutionID().GetGeneratedName()),
		Options: sortedOptions(spec.Sbatch), Args: spec.BatchScriptArgs}
	if spec.ClientKeys || len(spec.SSHExtra) > 0 {
		ignored := spec.SSHExtra
		if spec.ClientKeys {
			ignored = append([]string{"client_keys"}, ignored...)
		}
		sub.Notes = append(sub.Notes, fmt.Sprintf("ssh_config %s ignored: cluster %q is reached with the platform's configured user and credentials",
			strings.Join(ignored, ", "), cl.Name))
	}
	switch tmpl.GetType() {
	case TaskTypeFunction:
		args, err := template.Render(ctx, tmpl.GetContainer().GetArgs(), template.Parameters{
			TaskExecMetadata: md, Inputs: tCtx.InputReader(), OutputPath: tCtx.OutputWriter(), Task: tCtx.TaskReader(),
		})
		if err != nil {
			return nil, pluginErrors.Wrapf(pluginErrors.RuntimeFailure, err, "rendering the task's args")
		}
		if sub.Script, err = buildFunction(spec, args); err != nil {
			return nil, err
		}
		sub.Args = nil
	default:
		if spec.Script != nil {
			inputs, err := inputStrings(ctx, tCtx)
			if err != nil {
				return nil, err
			}
			sub.Outputs = map[string]string{}
			for _, o := range spec.OutputLocs {
				loc, err := interpolate(o.Location, inputs, nil)
				if err != nil {
					return nil, err
				}
				sub.Outputs[o.Var] = loc
			}
			if sub.Script, err = interpolate(*spec.Script, inputs, sub.Outputs); err != nil {
				return nil, err
			}
		} else {
			if spec.BatchScriptPath == "" {
				return nil, badSpec("a slurm task needs script or batch_script_path")
			}
			sub.ScriptPath = spec.BatchScriptPath
		}
	}
	return sub, nil
}

func (p *Plugin) clusterNames() []string {
	var names []string
	for n := range p.clusters {
		names = append(names, fmt.Sprintf("%q", n))
	}
	sort.Strings(names)
	return names
}

// inputStrings are the task's primitive inputs as the connector's f-string
// interpolation prints them.
func inputStrings(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (map[string]string, error) {
	out := map[string]string{}
	lm, err := tCtx.InputReader().Get(ctx)
	if err != nil {
		return nil, pluginErrors.Wrapf(pluginErrors.RuntimeFailure, err, "reading the task's inputs")
	}
	for name, lit := range lm.GetLiterals() {
		if s, ok := literalString(lit); ok {
			out[name] = s
		}
	}
	return out, nil
}

func literalString(l *idlcore.Literal) (string, bool) {
	sc := l.GetScalar()
	if sc == nil {
		return "", false
	}
	if b := sc.GetBlob(); b != nil {
		return b.GetUri(), true
	}
	p := sc.GetPrimitive()
	if p == nil {
		return "", false
	}
	switch v := p.GetValue().(type) {
	case *idlcore.Primitive_StringValue:
		return v.StringValue, true
	case *idlcore.Primitive_Integer:
		return fmt.Sprint(v.Integer), true
	case *idlcore.Primitive_FloatValue:
		return fmt.Sprint(v.FloatValue), true
	case *idlcore.Primitive_Boolean:
		if v.Boolean {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// Create submits the job, or adopts the one a previous Create submitted
// for the same attempt.
func (p *Plugin) Create(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (webapi.ResourceMeta, webapi.Resource, error) {
	sub, err := p.submission(ctx, tCtx)
	if err != nil {
		var se *specError
		if errors.As(err, &se) {
			return nil, &jobResource{failure: &failure{rule: remote.Rule{Outcome: remote.PermanentFailure, Code: codeBadTaskSpec}, msg: se.msg}}, nil
		}
		return nil, nil, err
	}
	cl := p.clusters[sub.Cluster]
	if _, err := p.secrets.FromTask(ctx, tCtx.SecretManager(), cl.SecretKey); err != nil {
		return nil, nil, pluginErrors.Wrapf(pluginErrors.RuntimeFailure, err, "cluster %q", cl.Name)
	}
	for _, n := range sub.Notes {
		logger.Warnf(ctx, "%s: %s", sub.Marker, n)
	}
	var id string
	var adopted bool
	err = p.call(ctx, cl.Name, func() error {
		var e error
		id, adopted, e = p.transports[cl.Name].submit(ctx, sub)
		return e
	})
	if err != nil {
		if res := p.finalFailure(err); res != nil {
			return nil, res, nil
		}
		return nil, nil, pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "submitting %s", sub.Marker)
	}
	if adopted {
		logger.Infof(ctx, "%s: adopted Slurm job %s on %q, submitted before", sub.Marker, id, cl.Name)
	} else {
		logger.Infof(ctx, "%s: submitted as Slurm job %s on %q", sub.Marker, id, cl.Name)
	}
	meta := JobMeta{Cluster: cl.Name, JobID: id, Marker: sub.Marker, Outputs: sub.Outputs, Note: strings.Join(sub.Notes, "; ")}
	return meta, nil, nil
}

// errBackingOff marks a call not made because its cluster is failing.
var errBackingOff = errors.New("backing off")

// call makes a call to a cluster through its outage gate: while the cluster
// keeps failing, calls from every task back off across polls
// (retry.outageBackoff), and each probe is a single try.
func (p *Plugin) call(ctx context.Context, cluster string, fn func() error) error {
	ok, failing, wait, failures, last := p.outage.Admit(cluster)
	if !ok {
		return fmt.Errorf("%w: %d calls to Slurm cluster %q failed in a row (last: %s); next try in %v",
			errBackingOff, failures, cluster, last, wait.Round(time.Second))
	}
	attempts := 0
	if failing {
		attempts = 1
	}
	err := p.retry.Do(ctx, cluster, attempts, fn)
	var se *specError
	switch e, isCall := asCallError(err); {
	case err == nil, errors.Is(err, errJobGone), errors.As(err, &se), isCall && e.permanent:
		p.outage.Succeeded(cluster)
	case isCall && e.transient && ctx.Err() == nil:
		p.outage.Failed(cluster, err.Error())
	}
	return err
}

// finalFailure turns an error no retry can change into a failed resource.
func (p *Plugin) finalFailure(err error) *jobResource {
	var se *specError
	if errors.As(err, &se) {
		return &jobResource{failure: &failure{rule: remote.Rule{Outcome: remote.PermanentFailure, Code: codeBadTaskSpec}, msg: se.msg}}
	}
	e, ok := asCallError(err)
	if !ok || !e.permanent {
		return nil
	}
	code := e.code
	outcome := remote.SystemPermanentFailure
	switch code {
	case codeBadTaskSpec, codeSubmitRejected:
		outcome = remote.PermanentFailure
	case "":
		code = codeClusterError
	}
	return &jobResource{failure: &failure{rule: remote.Rule{Outcome: outcome, Code: code}, msg: e.Error()}}
}

func (p *Plugin) metaOf(m webapi.ResourceMeta) (JobMeta, transport, error) {
	var meta JobMeta
	switch v := m.(type) {
	case JobMeta:
		meta = v
	case *JobMeta:
		if v != nil {
			meta = *v
		}
	default:
		return meta, nil, pluginErrors.Errorf(pluginErrors.CorruptedPluginState, "plugin state holds a %T, not a slurm.JobMeta", m)
	}
	t, ok := p.transports[meta.Cluster]
	if !ok || !isJobID(meta.JobID) {
		return meta, nil, pluginErrors.Errorf(pluginErrors.CorruptedPluginState,
			"plugin state names cluster %q and job %q, which plugins.slurm does not offer", meta.Cluster, meta.JobID)
	}
	return meta, t, nil
}

// Get reads the job: from the controller, or, once purged, from its
// jobcomp record or the last state seen.
func (p *Plugin) Get(ctx context.Context, gCtx webapi.GetContext) (webapi.Resource, error) {
	meta, t, err := p.metaOf(gCtx.ResourceMeta())
	if err != nil {
		return nil, err
	}
	key := meta.Cluster + "/" + meta.JobID
	_, aborted := p.aborted.Load(key)
	var j *jobInfo
	err = p.call(ctx, meta.Cluster, func() error {
		var e error
		j, e = t.job(ctx, meta.JobID)
		return e
	})
	if errors.Is(err, errBackingOff) {
		if last, ok := p.last.Load(key); ok {
			// The cluster is failing: report what was last seen rather
			// than add to the storm.
			return &jobResource{job: last.(*jobInfo), aborted: aborted}, nil
		}
	}
	if errors.Is(err, errJobGone) {
		rec, ok, rerr := t.record(ctx, meta.JobID)
		switch {
		case rerr != nil:
			return nil, pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, rerr, "reading the record of job %s", meta.JobID)
		case ok:
			j, err = rec, nil
		default:
			if last, ok := p.last.Load(key); ok {
				cp := *last.(*jobInfo)
				if r, _ := ruleFor(cp.State); r.Outcome.Terminal() {
					cp.FromRecord = "last state seen before the controller purged the job"
					return &jobResource{job: &cp, aborted: aborted}, nil
				}
			}
			return &jobResource{job: &jobInfo{ID: meta.JobID}, aborted: aborted, failure: &failure{
				rule: remote.Rule{Outcome: remote.SystemRetryableFailure, Code: codeJobLost},
				msg: fmt.Sprintf("Slurm job %s on %q is no longer listed by the controller and has no jobcomp record; "+
					"it ended with an outcome this plugin cannot learn", meta.JobID, meta.Cluster)}}, nil
		}
	}
	if err != nil {
		if res := p.finalFailure(err); res != nil {
			return res, nil
		}
		return nil, pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "reading job %s", meta.JobID)
	}
	p.last.Store(key, j)
	return &jobResource{job: j, aborted: aborted}, nil
}

// Delete cancels the job; a finished or purged job is not an error.
func (p *Plugin) Delete(ctx context.Context, dCtx webapi.DeleteContext) error {
	meta, t, err := p.metaOf(dCtx.ResourceMeta())
	if err != nil {
		logger.Warnf(ctx, "not cancelling: %v", err)
		return nil
	}
	p.aborted.Store(meta.Cluster+"/"+meta.JobID, true)
	err = p.call(ctx, meta.Cluster, func() error { return t.cancel(ctx, meta.JobID) })
	if err != nil {
		return pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "cancelling Slurm job %s", meta.JobID)
	}
	return nil
}

// Status maps the job to a phase; on success it hands Flyte the outputs.
func (p *Plugin) Status(ctx context.Context, sCtx webapi.StatusContext) (core.PhaseInfo, error) {
	res, ok := sCtx.Resource().(*jobResource)
	if !ok || res == nil {
		return core.PhaseInfoUndefined, pluginErrors.Errorf(pluginErrors.CorruptedPluginState, "resource is a %T, not a Slurm job", sCtx.Resource())
	}
	var meta JobMeta
	if m, ok := sCtx.ResourceMeta().(JobMeta); ok {
		meta = m
	}
	j := res.job
	if j == nil {
		j = &jobInfo{ID: meta.JobID}
	}
	info := p.links.taskInfo(meta.Cluster, j, p.now())
	if meta.Note != "" {
		info.CustomInfo.Fields["note"] = structString(meta.Note)
	}
	if f := res.failure; f != nil {
		return f.rule.Phase(f.msg, info), nil
	}
	ph := phaseOf(j, res.aborted, info)
	if ph.Phase() == core.PhasePermanentFailure && (j.State == stateFailed || j.State == stateOutOfMemory) && recoverable(ctx, sCtx) {
		// The task's own error file says a retry may succeed.
		ph = core.PhaseInfoRetryableFailure(ph.Err().GetCode(), ph.Err().GetMessage()+" (the task's error file says RECOVERABLE)", info)
	}
	if ph.Phase() == core.PhaseQueued && meta.Note != "" {
		ph = core.PhaseInfoQueuedWithTaskInfo(ph.Version(), ph.Reason()+" ("+meta.Note+")", info)
	}
	if ph.Phase() == core.PhaseSuccess {
		if err := writeOutputs(ctx, sCtx, meta.Outputs); err != nil {
			return core.PhaseInfoUndefined, err
		}
	}
	return ph, nil
}

// recoverable reports whether the task wrote an error file (flytekit does,
// under the output prefix, when a slurm_fn task raises) that says a retry
// may succeed. No error file, or one that cannot be read, is not.
func recoverable(ctx context.Context, sCtx webapi.StatusContext) bool {
	reader := ioutils.NewRemoteFileOutputReader(ctx, sCtx.DataStore(), sCtx.OutputWriter(), 0)
	if isErr, err := reader.IsError(ctx); err != nil || !isErr {
		return false
	}
	ee, err := reader.ReadError(ctx)
	return err == nil && ee.IsRecoverable
}

// writeOutputs: a shell task's outputs are its output locations; a
// slurm_fn task wrote its own outputs under the output prefix.
func writeOutputs(ctx context.Context, sCtx webapi.StatusContext, locs map[string]string) error {
	tmpl, err := sCtx.TaskReader().Read(ctx)
	if err != nil {
		return pluginErrors.Wrapf(pluginErrors.MetadataAccessFailed, err, "reading the task template")
	}
	vars := tmpl.GetInterface().GetOutputs().GetVariables()
	if len(vars) == 0 {
		return nil
	}
	var reader = ioutils.NewRemoteFileOutputReader(ctx, sCtx.DataStore(), sCtx.OutputWriter(), 0)
	if tmpl.GetType() == TaskTypeScript {
		lm := &idlcore.LiteralMap{Literals: map[string]*idlcore.Literal{}}
		for name, v := range vars {
			loc, ok := locs[name]
			if !ok {
				return pluginErrors.Errorf(pluginErrors.BadTaskSpecification, "output %q has no output_locs entry", name)
			}
			lm.Literals[name] = locationLiteral(v.GetType(), loc)
		}
		return sCtx.OutputWriter().Put(ctx, ioutils.NewInMemoryOutputReader(lm, nil, nil))
	}
	if err := sCtx.OutputWriter().Put(ctx, reader); err != nil {
		return pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "handing over the task's outputs")
	}
	return nil
}

// locationLiteral is an output location as the declared type: a blob
// (FlyteFile/FlyteDirectory) at it, or the location as a string.
func locationLiteral(t *idlcore.LiteralType, loc string) *idlcore.Literal {
	if b := t.GetBlob(); b != nil {
		return &idlcore.Literal{Value: &idlcore.Literal_Scalar{Scalar: &idlcore.Scalar{Value: &idlcore.Scalar_Blob{
			Blob: &idlcore.Blob{Uri: loc, Metadata: &idlcore.BlobMetadata{Type: b}}}}}}
	}
	return &idlcore.Literal{Value: &idlcore.Literal_Scalar{Scalar: &idlcore.Scalar{Value: &idlcore.Scalar_Primitive{
		Primitive: &idlcore.Primitive{Value: &idlcore.Primitive_StringValue{StringValue: loc}}}}}}
}

// Rendered is what `flytedist render` prints for a Slurm task.
type Rendered struct {
	Cluster   string `json:"cluster"`
	Transport string `json:"transport"`
	Address   string `json:"address"`
	User      string `json:"user"`
	// Command is the sbatch command line (SSH); the script reaches it on
	// stdin, written to ScriptFile first.
	Command    string `json:"command,omitempty"`
	ScriptFile string `json:"scriptFile,omitempty"`
	// Request is the slurmrestd request (REST).
	Request map[string]any    `json:"request,omitempty"`
	Script  string            `json:"script,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
	Notes   []string          `json:"notes,omitempty"`
}

// Render is the submission a task would make, as flytedist prints it.
func (p *Plugin) Render(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (*Rendered, error) {
	sub, err := p.BuildSubmission(ctx, tCtx)
	if err != nil {
		return nil, err
	}
	cl := p.clusters[sub.Cluster]
	r := &Rendered{Cluster: cl.Name, Transport: cl.Transport, Address: cl.Address, User: cl.User,
		Script: sub.Script, Outputs: sub.Outputs, Notes: sub.Notes}
	if cl.Transport == TransportSSH {
		path := shellQuote(sub.ScriptPath)
		if sub.ScriptPath == "" {
			r.ScriptFile = strings.TrimSuffix(p.cfg.ScriptDir, "/") + "/" + sub.Marker + ".sh"
			if !strings.HasPrefix(r.ScriptFile, "/") {
				r.ScriptFile = "$HOME/" + r.ScriptFile
			}
			path = r.ScriptFile
		}
		r.Command = sbatchCommand(sub, path)
		return r, nil
	}
	shape, _ := restShapeFor(cl.APIVersion)
	job, err := restJobBody(sub, shape)
	if err != nil {
		var se *specError
		if errors.As(err, &se) {
			return nil, pluginErrors.Errorf(pluginErrors.BadTaskSpecification, "%s", se.msg)
		}
		return nil, err
	}
	r.Request = map[string]any{"method": "POST", "url": strings.TrimSuffix(cl.Address, "/") + "/slurm/" + cl.APIVersion + "/job/submit",
		"body": map[string]any{restScriptField: sub.Script, "job": job}}
	return r, nil
}

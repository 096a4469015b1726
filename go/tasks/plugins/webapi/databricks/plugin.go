package databricks

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	pluginErrors "github.com/flyteorg/flyte/flyteplugins/go/tasks/errors"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core/template"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/ioutils"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/webapi"
	"github.com/flyteorg/flyte/flytestdlib/logger"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/internal/remote"
)

const pluginID = "databricks"

// The task types the plugin handles. Both carry a SparkJob (flyteidl
// plugins.SparkJob) whose databricksConf is the runs/submit body.
const (
	TaskTypeSpark      core.TaskType = "spark"
	TaskTypeDatabricks core.TaskType = "databricks"
)

// Error codes of failures the plugin itself decides (run states have theirs
// in the state tables).
const (
	codeBadTaskSpec     = pluginErrors.BadTaskSpecification
	codeTokenRefused    = "DatabricksTokenRefused"
	codeRequestRejected = "DatabricksRequestRejected"
	codeRunNotFound     = "DatabricksRunNotFound"
	// codeSubmitUnconfirmed: Databricks never confirmed a submission
	// within submitPatience.
	codeSubmitUnconfirmed = "DatabricksSubmitUnconfirmed"
	// codeStateNotTrusted: the saved state names a host or secret the
	// config does not (edited state, or a config that no longer allows it).
	codeStateNotTrusted = "DatabricksStateNotTrusted"
)

// RunMeta is the plugin state kept for a submitted run; propeller persists it
// with the task's state. It names the run, the host it runs on and the secret
// key its token is read from — never the token.
type RunMeta struct {
	// RunID is the Databricks run ID; 0 while the submission is unconfirmed.
	RunID int64
	// Instance is the workspace host the run was submitted to.
	Instance string
	// TokenKey is the secret key the token for Instance is read from.
	TokenKey string
	// PendingSubmit is the runs/submit body (it holds no token) of a
	// submission Databricks has not confirmed: the call failed in a way
	// that may or may not have created the run. Polling submits it again;
	// its idempotency token makes Databricks return the run if it exists
	// and create it if not, so the attempt has exactly one run.
	PendingSubmit []byte
	// SubmitSince is when the unconfirmed submission was first tried.
	SubmitSince time.Time
}

// submitPatience is how long polling keeps submitting an unconfirmed run
// before the attempt fails (retryable, as a system failure).
const submitPatience = 30 * time.Minute

// String names the run for logs.
func (m RunMeta) String() string {
	return fmt.Sprintf("Databricks run %d on %s", m.RunID, m.Instance)
}

// runResource is what Get learns about a run, reduced to what Status needs.
type runResource struct {
	RunID          int64
	JobID          int64
	LifeCycleState string
	ResultState    string
	Message        string
	RunPageURL     string
	// failure is set when the call itself decided the task's fate (the token
	// was refused, the request rejected, the run is gone).
	failure *callFailure
	// unconfirmed is set while Databricks has not confirmed the submission
	// (Message says why).
	unconfirmed bool
}

// callFailure is a task failure decided by an API answer rather than a run
// state.
type callFailure struct {
	verdict verdict
	code    string
	message string
}

// IsTerminal tells the web-API cache to stop polling a finished run.
func (r *runResource) IsTerminal() bool {
	if r.failure != nil {
		return true
	}
	rl, _ := ruleFor(r.LifeCycleState, r.ResultState)
	return rl.verdict >= verdictSuccess
}

// Plugin is the Databricks web-API plugin.
type Plugin struct {
	cfg    Config
	router router
	client *client
	// secrets reads the token per call: through the setup context's secret
	// manager for Get and Delete, which have no task context to ask.
	secrets *remote.Secrets
	// outage is the backoff across polls for submissions, one gate per
	// workspace shared by every task (retry.outageBackoff).
	outage *remote.Outage
	now    func() time.Time
}

var _ webapi.AsyncPlugin = (*Plugin)(nil)

// PluginEntry is the plugin's registration: ID "databricks" for task types
// "spark" and "databricks", loaded with the current plugins.databricks config.
func PluginEntry() webapi.PluginEntry {
	return webapi.PluginEntry{
		ID:                 pluginID,
		SupportedTaskTypes: []core.TaskType{TaskTypeSpark, TaskTypeDatabricks},
		PluginLoader:       loadPlugin,
	}
}

// upstreamRunMeta reads the plugin state flyteplugins' own Databricks
// plugin saved (its ResourceMetaWrapper, registered under its gob name), so
// tasks in flight when a platform swaps plugins are tracked and can be
// aborted. Its Token field is deliberately absent: gob drops it on reading,
// so the token upstream stored never reaches memory, logs or saved state.
type upstreamRunMeta struct {
	RunID              string
	DatabricksInstance string
}

// upstreamStateName is the gob name upstream's plugin state is saved under.
const upstreamStateName = "github.com/flyteorg/flyte/flyteplugins/go/tasks/plugins/webapi/databricks.ResourceMetaWrapper"

func init() {
	gob.Register(RunMeta{})
	gob.RegisterName(upstreamStateName, upstreamRunMeta{})
	pluginmachinery.PluginRegistry().RegisterRemotePlugin(PluginEntry())
}

// loadPlugin builds the plugin from a snapshot of the current config.
func loadPlugin(_ context.Context, iCtx webapi.PluginSetupContext) (webapi.AsyncPlugin, error) {
	cfg := *GetConfig()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r, err := newRouter(&cfg)
	if err != nil {
		return nil, err
	}
	p := &Plugin{cfg: cfg, router: r, client: newClient(&cfg), now: time.Now,
		secrets: &remote.Secrets{What: "Databricks token"}}
	p.outage = &remote.Outage{
		Policy: remote.OutagePolicy{Base: cfg.Retry.OutageBackoff.Duration, Max: cfg.Retry.OutageMaxBackoff.Duration},
		Now:    func() time.Time { return p.now() },
	}
	// propeller's setup context is a core.SetupContext, which has the same
	// secret manager task contexts hand out.
	if sc, ok := iCtx.(interface{ SecretManager() core.SecretManager }); ok {
		p.secrets.Manager = sc.SecretManager()
	}
	return p, nil
}

// GetConfig returns the web-API machinery config.
func (p *Plugin) GetConfig() webapi.PluginConfig {
	return p.cfg.WebAPI
}

// ResourceRequirements puts every run in the "default" quota namespace with
// the configured constraints.
func (p *Plugin) ResourceRequirements(_ context.Context, _ webapi.TaskExecutionContextReader) (
	core.ResourceNamespace, core.ResourceConstraintsSpec, error) {
	return "default", p.cfg.ResourceConstraints, nil
}

// Create submits the task as a one-time run. A task that can never be
// submitted, or a request Databricks refuses for good, comes back as a
// resource in a failed state (so Flyte fails the task without retrying the
// submission); a passing failure comes back as an error (retryable).
func (p *Plugin) Create(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (webapi.ResourceMeta, webapi.Resource, error) {
	md := tCtx.TaskExecutionMetadata()
	name := md.GetTaskExecutionID().GetGeneratedName()
	req, err := p.submitRequest(ctx, tCtx)
	if err != nil {
		var spec *specError
		if errors.As(err, &spec) {
			return nil, rejected(err), nil
		}
		return nil, nil, err
	}
	host, raw := req.Host, req.Body

	key := p.router.tokenKeyFor(md.GetNamespace())
	token, err := p.secrets.FromTask(ctx, tCtx.SecretManager(), key)
	if err != nil {
		return nil, nil, pluginErrors.Wrapf(pluginErrors.RuntimeFailure, err, "reading the secret")
	}

	pending := RunMeta{Instance: host, TokenKey: key, PendingSubmit: raw, SubmitSince: p.now()}
	admitted, failing, wait, _, _ := p.outage.Admit(host)
	if !admitted {
		// The workspace is failing: the submission waits for its turn
		// instead of adding to the storm (polling makes it).
		logger.Warnf(ctx, "%s: Databricks at %s is failing; submitting in %v at the earliest", name, host, wait.Round(time.Second))
		return pending, nil, nil
	}
	runID, err := p.submitTracked(ctx, failing, host, token, raw)
	if err != nil {
		e, ok := asAPIError(err)
		switch {
		case ok && e.final():
			return nil, &runResource{failure: refusedCall(e, key)}, nil
		case ok && e.transient():
			// The run may exist (the answer was lost) or not (Databricks was
			// busy). Failing the attempt would either orphan it or spend a
			// user retry on an outage; polling submits again instead, with
			// the same idempotency token.
			logger.Warnf(ctx, "%s: Databricks has not confirmed the submission (%v); submitting again while polling", name, err)
			return pending, nil, nil
		}
		return nil, nil, pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "submitting %s", name)
	}
	meta := RunMeta{RunID: runID, Instance: host, TokenKey: key}
	logger.Infof(ctx, "%s: submitted as %v", name, meta)
	return meta, nil, nil
}

// SubmitRequest is the runs/submit call a task makes: the workspace it goes
// to and the JSON body. It holds no token.
type SubmitRequest struct {
	Host string
	Body []byte
}

// BuildSubmitRequest is the request Create would send for a task, without
// sending it (the flytedist CLI prints it). A task that can never be
// submitted is a BadTaskSpecification error.
func (p *Plugin) BuildSubmitRequest(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (SubmitRequest, error) {
	req, err := p.submitRequest(ctx, tCtx)
	var spec *specError
	if errors.As(err, &spec) {
		return req, pluginErrors.Errorf(pluginErrors.BadTaskSpecification, "%s", spec.msg)
	}
	return req, err
}

// submitRequest builds the request; a *specError means the task can never
// be submitted.
func (p *Plugin) submitRequest(ctx context.Context, tCtx webapi.TaskExecutionContextReader) (SubmitRequest, error) {
	tmpl, err := tCtx.TaskReader().Read(ctx)
	if err != nil {
		return SubmitRequest{}, pluginErrors.Wrapf(pluginErrors.MetadataAccessFailed, err, "reading the task template")
	}
	md := tCtx.TaskExecutionMetadata()
	execID := md.GetTaskExecutionID()
	name := execID.GetGeneratedName()

	job, err := decodeSparkJob(tmpl)
	if err != nil {
		return SubmitRequest{}, err
	}
	host, note, err := p.router.instance(job.GetDatabricksInstance())
	if err != nil {
		return SubmitRequest{}, badSpec("%v", err)
	}
	if note != "" {
		logger.Warnf(ctx, "%s: %s", name, note)
	}
	if job.GetDatabricksToken() != "" {
		logger.Warnf(ctx, "%s: the task sets databricksToken; it is ignored, the token comes from the secret manager", name)
	}

	args, err := template.Render(ctx, tmpl.GetContainer().GetArgs(), template.Parameters{
		TaskExecMetadata: md,
		Inputs:           tCtx.InputReader(),
		OutputPath:       tCtx.OutputWriter(),
		Task:             tCtx.TaskReader(),
	})
	if err != nil {
		return SubmitRequest{}, pluginErrors.Wrapf(pluginErrors.RuntimeFailure, err, "rendering the task's args")
	}
	id := execID.GetID()
	body, err := buildSubmitBody(submitSpec{
		job:              job,
		image:            tmpl.GetContainer().GetImage(),
		args:             args,
		runName:          name,
		idempotencyToken: idempotencyToken(&id, name),
		timeoutSeconds:   timeoutSeconds(tmpl.GetMetadata().GetTimeout().AsDuration()),
		entrypointFile:   p.cfg.EntrypointFile,
	})
	if err != nil {
		return SubmitRequest{}, err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return SubmitRequest{}, badSpec("databricksConf cannot be sent as JSON: %v", err)
	}

	return SubmitRequest{Host: host, Body: raw}, nil
}

// timeoutSeconds is a task timeout in whole seconds, rounded up (0: none).
func timeoutSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}

// rejected is the resource of a task that cannot be submitted.
func rejected(err error) *runResource {
	msg := err.Error()
	var se *specError
	if !errors.As(err, &se) {
		msg = "invalid task: " + msg
	}
	return &runResource{failure: &callFailure{verdict: verdictPermanent, code: codeBadTaskSpec, message: msg}}
}

// refusedCall turns an API answer no retry can change into a task failure.
func refusedCall(e *apiError, tokenKey string) *callFailure {
	switch {
	case e.tokenRefused():
		return &callFailure{verdict: verdictSystemPermanent, code: codeTokenRefused,
			message: fmt.Sprintf("Databricks at %s refused the token from secret %q (HTTP %d %s: %s)",
				e.host, tokenKey, e.status, e.code, e.message)}
	case e.status == 400:
		return &callFailure{verdict: verdictPermanent, code: codeBadTaskSpec,
			message: fmt.Sprintf("Databricks rejected the request (%s): %s", orDefault(e.code, "HTTP 400"), e.message)}
	default:
		return &callFailure{verdict: verdictSystemPermanent, code: codeRequestRejected, message: e.Error()}
	}
}

// runMetaOf reads the plugin state; ok is false if there is none. State
// from upstream's plugin is read too (its run on its instance, the token
// from the platform's default secret key).
func (p *Plugin) runMetaOf(m webapi.ResourceMeta) (RunMeta, bool, error) {
	var meta RunMeta
	switch v := m.(type) {
	case nil:
		return RunMeta{}, false, nil
	case RunMeta:
		meta = v
	case *RunMeta:
		if v == nil {
			return RunMeta{}, false, nil
		}
		meta = *v
	case upstreamRunMeta:
		id, err := strconv.ParseInt(strings.TrimSpace(v.RunID), 10, 64)
		if err != nil {
			return RunMeta{}, false, pluginErrors.Errorf(pluginErrors.CorruptedPluginState,
				"plugin state from flyteplugins' Databricks plugin has run ID %q, not a number", v.RunID)
		}
		host, err := normalizeInstance(v.DatabricksInstance)
		if err != nil {
			return RunMeta{}, false, pluginErrors.Errorf(pluginErrors.CorruptedPluginState,
				"plugin state from flyteplugins' Databricks plugin: %v", err)
		}
		meta = RunMeta{RunID: id, Instance: host, TokenKey: p.router.tokenKey}
	default:
		return RunMeta{}, false, pluginErrors.Errorf(pluginErrors.CorruptedPluginState,
			"plugin state holds a %T, not a databricks.RunMeta", m)
	}
	return meta, true, nil
}

// token returns the token for a secret key outside a task context.
func (p *Plugin) token(ctx context.Context, key string) (string, error) {
	tok, err := p.secrets.Get(ctx, key, func(msg string) { logger.Warnf(ctx, "%s", msg) })
	if err != nil {
		return "", pluginErrors.Errorf(pluginErrors.RuntimeFailure, "%v", err)
	}
	return tok, nil
}

// Get fetches the run's state.
func (p *Plugin) Get(ctx context.Context, gCtx webapi.GetContext) (webapi.Resource, error) {
	meta, ok, err := p.runMetaOf(gCtx.ResourceMeta())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, pluginErrors.Errorf(pluginErrors.CorruptedPluginState, "no Databricks run recorded for this task")
	}
	if err := p.router.trusts(meta); err != nil {
		return &runResource{RunID: meta.RunID, failure: &callFailure{verdict: verdictSystemPermanent, code: codeStateNotTrusted,
			message: fmt.Sprintf("not polling %v: %v", meta, err)}}, nil
	}
	token, err := p.token(ctx, meta.TokenKey)
	if err != nil {
		return nil, err
	}
	if meta.RunID == 0 {
		runID, res := p.confirmSubmission(ctx, meta, token)
		if res != nil {
			return res, nil
		}
		meta.RunID = runID
	}
	run, err := p.client.getRun(ctx, meta.Instance, token, meta.RunID)
	if err != nil {
		e, isAPI := asAPIError(err)
		switch {
		case isAPI && e.notFound():
			return &runResource{RunID: meta.RunID, failure: &callFailure{verdict: verdictSystemRetryable, code: codeRunNotFound,
				message: fmt.Sprintf("Databricks at %s no longer knows run %d: %s", meta.Instance, meta.RunID, e.message)}}, nil
		case isAPI && e.final():
			return &runResource{RunID: meta.RunID, failure: refusedCall(e, meta.TokenKey)}, nil
		}
		return nil, pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "polling %v", meta)
	}
	lifeCycle, result, msg := legacyState(run)
	runID := run.RunID
	if runID == 0 {
		runID = meta.RunID
	}
	return &runResource{
		RunID:          runID,
		JobID:          run.JobID,
		LifeCycleState: lifeCycle,
		ResultState:    result,
		Message:        msg,
		RunPageURL:     run.RunPageURL,
	}, nil
}

// submitTracked submits and tells the workspace's outage gate how it went.
// A probe into a failing workspace (failing) is a single request.
func (p *Plugin) submitTracked(ctx context.Context, failing bool, host, token string, raw []byte) (int64, error) {
	attempts := 0
	if failing {
		attempts = 1
	}
	runID, err := p.client.submitN(ctx, attempts, host, token, raw)
	switch e, ok := asAPIError(err); {
	case err == nil, ok && e.final():
		// Databricks answered: it is up.
		p.outage.Succeeded(host)
	case ok && e.transient() && !errors.Is(err, errPaused) && !errors.Is(err, context.Canceled):
		p.outage.Failed(host, err.Error())
	}
	return runID, err
}

// confirmSubmission submits an unconfirmed run again (same idempotency
// token): it returns the run's ID, or the resource to report while
// Databricks still does not answer (or the failure it answered with).
//
// While the workspace keeps failing, submissions back off across polls
// (retry.outageBackoff, shared by every task on that workspace), so an
// outage costs each task a bounded number of requests; past submitPatience
// the attempt fails as a retryable system failure.
func (p *Plugin) confirmSubmission(ctx context.Context, meta RunMeta, token string) (int64, *runResource) {
	if len(meta.PendingSubmit) == 0 {
		return 0, &runResource{failure: &callFailure{verdict: verdictSystemPermanent, code: pluginErrors.CorruptedPluginState,
			message: "plugin state records neither a run ID nor a submission"}}
	}
	waited := p.now().Sub(meta.SubmitSince)
	admitted, failing, wait, failures, last := p.outage.Admit(meta.Instance)
	if !admitted {
		if waited > submitPatience {
			return 0, &runResource{failure: giveUp(meta.Instance, waited, failures, last)}
		}
		return 0, &runResource{unconfirmed: true, Message: fmt.Sprintf(
			"Databricks has not confirmed the submission yet: %d submissions to %s failed in a row (last: %s); backing off, next try in %v",
			failures, meta.Instance, last, wait.Round(time.Second))}
	}
	runID, err := p.submitTracked(ctx, failing, meta.Instance, token, meta.PendingSubmit)
	if err == nil {
		logger.Infof(ctx, "Databricks confirmed the submission as run %d on %s", runID, meta.Instance)
		return runID, nil
	}
	if e, ok := asAPIError(err); ok && e.final() {
		return 0, &runResource{failure: refusedCall(e, meta.TokenKey)}
	}
	if waited > submitPatience {
		_, _, _, failures, _ = p.outage.Admit(meta.Instance)
		return 0, &runResource{failure: giveUp(meta.Instance, waited, failures, err.Error())}
	}
	return 0, &runResource{unconfirmed: true, Message: fmt.Sprintf("Databricks has not confirmed the submission yet: %v", err)}
}

// giveUp is the failure of a submission Databricks never confirmed.
func giveUp(host string, waited time.Duration, failures int, last string) *callFailure {
	msg := fmt.Sprintf("Databricks at %s has not confirmed the submission for %s", host, waited.Round(time.Second))
	if failures > 0 {
		msg += fmt.Sprintf(" (%d submissions in a row failed; submissions backed off across polls)", failures)
	}
	msg += ": " + last + "; failing this attempt as a system error so that Flyte retries the task once the workspace is back"
	return &callFailure{verdict: verdictSystemRetryable, code: codeSubmitUnconfirmed, message: msg}
}

// Delete cancels the run. Cancelling a run that has finished or that
// Databricks does not know is a success.
func (p *Plugin) Delete(ctx context.Context, dCtx webapi.DeleteContext) error {
	meta, ok, err := p.runMetaOf(dCtx.ResourceMeta())
	if err != nil || !ok {
		return err
	}
	if err := p.router.trusts(meta); err != nil {
		// Sending the token there is what must never happen; an abort that
		// kept failing would not cancel the run either.
		logger.Warnf(ctx, "not cancelling %v: %v", meta, err)
		return nil
	}
	token, err := p.token(ctx, meta.TokenKey)
	if err != nil {
		return err
	}
	if meta.RunID == 0 {
		// The run may exist without us knowing its ID: submitting again
		// (idempotently) names it, and creates it only to cancel it if it
		// did not — never an orphan.
		runID, res := p.confirmSubmission(ctx, meta, token)
		if res != nil {
			if res.failure != nil {
				logger.Warnf(ctx, "not cancelling an unconfirmed submission on %s: %s", meta.Instance, res.failure.message)
				return nil
			}
			return pluginErrors.Errorf(pluginErrors.DownstreamSystemError, "cancelling: %s", res.Message)
		}
		meta.RunID = runID
	}
	err = p.client.cancelRun(ctx, meta.Instance, token, meta.RunID)
	if e, isAPI := asAPIError(err); isAPI && (e.notFound() || e.alreadyFinished()) {
		logger.Infof(ctx, "%v: nothing to cancel (%s)", meta, e.message)
		return nil
	}
	if err != nil {
		return pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "cancelling %v", meta)
	}
	logger.Infof(ctx, "%v: cancelled (%s)", meta, dCtx.Reason())
	return nil
}

// Status maps the run's state to a Flyte phase; on success it hands Flyte the
// task's outputs if the task declares any.
func (p *Plugin) Status(ctx context.Context, sCtx webapi.StatusContext) (core.PhaseInfo, error) {
	res, ok := sCtx.Resource().(*runResource)
	if !ok || res == nil {
		return core.PhaseInfoUndefined, pluginErrors.Errorf(pluginErrors.CorruptedPluginState,
			"resource is a %T, not a Databricks run", sCtx.Resource())
	}
	meta, _, err := p.runMetaOf(sCtx.ResourceMeta())
	if err != nil {
		return core.PhaseInfoUndefined, err
	}
	if res.RunID == 0 {
		// The cache shares the resource between goroutines: work on a copy.
		cp := *res
		cp.RunID = meta.RunID
		res = &cp
	}
	phase := phaseFor(res, taskInfo(res, meta.Instance, p.now()))
	if phase.Phase() == core.PhaseSuccess {
		if err := writeOutputs(ctx, sCtx); err != nil {
			return core.PhaseInfoUndefined, err
		}
	}
	return phase, nil
}

// writeOutputs points Flyte at the outputs the run wrote under the task's
// output prefix, if the task declares outputs.
func writeOutputs(ctx context.Context, sCtx webapi.StatusContext) error {
	tmpl, err := sCtx.TaskReader().Read(ctx)
	if err != nil {
		return pluginErrors.Wrapf(pluginErrors.MetadataAccessFailed, err, "reading the task template")
	}
	if len(tmpl.GetInterface().GetOutputs().GetVariables()) == 0 {
		return nil
	}
	reader := ioutils.NewRemoteFileOutputReader(ctx, sCtx.DataStore(), sCtx.OutputWriter(), 0)
	if err := sCtx.OutputWriter().Put(ctx, reader); err != nil {
		return pluginErrors.Wrapf(pluginErrors.DownstreamSystemError, err, "handing over the task's outputs")
	}
	return nil
}

package demo

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flyteorg/flyte/flytepropeller/pkg/apis/flyteworkflow/v1alpha1"
	"sigs.k8s.io/yaml"
)

// taskResult gathers what the demo saw of one task: the resource as created
// (from the watch, or the Jobs API for Databricks), the phases and links
// propeller reported in its task events, and the node's final status in the
// FlyteWorkflow.
func taskResult(t demoTask, wf *v1alpha1.FlyteWorkflow, w *resourceWatcher, ev *eventReceiver, jobsAPI *localJobsAPI, slurmJobs *slurmWatcher, submitted time.Time) TaskResult {
	r := TaskResult{Label: t.Label, NodeID: t.NodeID, Kind: t.Kind}
	if obs := w.resource(t.NodeID); obs != nil {
		u := obs.Created.DeepCopy()
		unstructuredDropManaged(u.Object)
		if b, err := yaml.Marshal(u.Object); err == nil {
			r.Resource = string(b)
		}
		r.OperatorStates = obs.States
	}
	seen := map[string]bool{}
	for _, e := range ev.taskEvents(t.NodeID) {
		at := time.Duration(0)
		if ts := e.GetOccurredAt(); ts != nil {
			at = ts.AsTime().Sub(submitted).Round(100 * time.Millisecond)
		}
		r.Transitions = append(r.Transitions, Transition{
			At: at, Phase: e.GetPhase().String(), Version: e.GetPhaseVersion(),
			Reason: strings.TrimPrefix(eventReason(e), " — "),
		})
		for _, l := range e.GetLogs() {
			if k := l.GetName() + "\x00" + l.GetUri(); !seen[k] {
				seen[k] = true
				r.Links = append(r.Links, Link{Name: l.GetName(), URI: l.GetUri(), Phase: e.GetPhase().String()})
			}
		}
	}
	if t.Label == labelDatabricks && jobsAPI != nil && len(r.Transitions) > 0 {
		for _, run := range jobsAPI.api.Runs() {
			if strings.HasPrefix(run.RunName, wf.Name) {
				if b, err := yaml.Marshal(run.Body); err == nil {
					r.Resource = string(b)
				}
				st := run.State.LifeCycleState
				if run.State.ResultState != "" {
					st += " (" + run.State.ResultState + ")"
				}
				r.OperatorStates = []string{st}
			}
		}
	}
	if t.Label == labelSlurm {
		if j := slurmJobs.job(); j != nil {
			r.Resource = j.Record
			r.OperatorStates = j.States
		}
		for _, l := range r.Links {
			if path, ok := strings.CutPrefix(l.URI, "file://"); ok && strings.Contains(l.Name, "stdout") {
				if b, err := os.ReadFile(path); err == nil { // #nosec G304 -- the local cluster's job output
					r.Stdout = string(b)
				}
			}
		}
	}
	if ns, ok := wf.Status.NodeStatus[t.NodeID]; ok && ns != nil {
		r.NodePhase = ns.GetPhase().String()
		r.NodeMessage = ns.GetMessage()
	}
	return r
}

// unstructuredDropManaged removes server bookkeeping kubectl hides by
// default.
func unstructuredDropManaged(obj map[string]any) {
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
}

// report prints each task's resource, phases and links, then the workflow's
// final phase.
func report(out io.Writer, o Options, res *Result, instance string, localJobs bool) {
	step(out, "what propeller did")
	for _, t := range res.Tasks {
		fmt.Fprintf(out, "\n---- %s: node %s -> %s ----\n", t.Label, t.NodeID, t.Kind)
		switch {
		case t.Resource == "":
			fmt.Fprintf(out, "resource: none seen\n")
		case t.Label == labelSlurm:
			fmt.Fprintf(out, "job as slurmctld recorded it (jobcomp/filetxt):\n")
		case t.Label == labelDatabricks:
			fmt.Fprintf(out, "request as the Jobs API received it: POST https://%s/api/2.1/jobs/runs/submit\n", instance)
		default:
			fmt.Fprintf(out, "resource as created (kubectl get -o yaml):\n")
		}
		if t.Label == labelDatabricks && !localJobs {
			fmt.Fprintf(out, "  (sent to the real workspace %s; the demo does not see the body)\n", instance)
		}
		if t.Resource != "" {
			if o.Quiet && t.Label != labelSlurm {
				fmt.Fprintf(out, "  (%d lines of YAML; run without -quiet to see them)\n", strings.Count(t.Resource, "\n"))
			} else {
				fmt.Fprint(out, indent(t.Resource, "  "))
			}
		}
		switch {
		case len(t.OperatorStates) > 0 && t.Label == labelDatabricks:
			fmt.Fprintf(out, "run state at the end: %s\n", t.OperatorStates[0])
		case len(t.OperatorStates) > 0 && t.Label == labelSlurm:
			fmt.Fprintf(out, "Slurm job states (squeue, then jobcomp): %s\n", strings.Join(t.OperatorStates, " -> "))
		case len(t.OperatorStates) > 0:
			fmt.Fprintf(out, "operator states: %s\n", strings.Join(t.OperatorStates, " -> "))
		}
		if t.Stdout != "" {
			fmt.Fprintf(out, "the job's stdout (the file its link points at):\n%s", indent(t.Stdout, "  "))
		}
		fmt.Fprintf(out, "task phases (propeller's task events):\n")
		for _, tr := range t.Transitions {
			reason := ""
			if tr.Reason != "" {
				reason = "  " + tr.Reason
			}
			line := fmt.Sprintf("  %6.1fs  %-12s v%-2d%s", tr.At.Seconds(), tr.Phase, tr.Version, reason)
			fmt.Fprintln(out, strings.TrimRight(line, " "))
		}
		fmt.Fprintf(out, "links:\n")
		if len(t.Links) == 0 {
			fmt.Fprintf(out, "  (none)\n")
		}
		for _, l := range t.Links {
			fmt.Fprintf(out, "  %-28s %s  (from %s)\n", l.Name, l.URI, l.Phase)
		}
		fmt.Fprintf(out, "node phase (FlyteWorkflow status): %s\n", strings.TrimSpace(t.NodePhase+" "+t.NodeMessage))
	}
	fmt.Fprintf(out, "\nflyteadmin API calls propeller made (to the demo's event receiver): %s\n", res.AdminCalls)
	fmt.Fprintf(out, "\n==> workflow %s: %s\n", res.Execution, res.Phase)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

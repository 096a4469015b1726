package kit

import (
	"strconv"
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteplugins/go/tasks/logs"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

// Per-pod links come from the job's own status (the pods an operator names
// there), never from an API call: GetTaskPhase runs for every task on every
// round. A job optionally names its pods this way (the small-interface
// rule of DESIGN.md): Spark names its driver and executors, KubeRay its
// head, Kubeflow's pod names are predictable from the spec; DaskJob only
// names the runner.

// MaxPodLinks is the cap on a task's per-pod links,
// plugins.queueing.liveView.maxPodLinks; 0 means no cap.
func MaxPodLinks() int { return max(0, queueing.GetConfig().LiveView.MaxPodLinks) }

// PodSet is the pods of a job its status names.
type PodSet struct {
	// Pods are pod names in the order their links show.
	Pods []string
	// Linked counts pods the job's own links already show (Spark's
	// driver, Ray's head): they count toward the cap and the total.
	Linked int
	// Total counts the job's pods, named or not (KubeRay names only the
	// head); less than Linked+len(Pods) means that sum.
	Total int
	// Prefix starts every pod name of the job; the aggregate link renders
	// with it as {{ .podName }} (a prefix query in most log UIs).
	Prefix string
	// Job names the job in the aggregate link's name.
	Job string
}

func (s *PodSet) total() int { return max(s.Total, s.Linked+len(s.Pods)) }

// shown is how many of Pods get links under limit (0: no cap).
func (s *PodSet) shown(limit int) int {
	if limit > 0 {
		return max(0, min(len(s.Pods), limit-s.Linked))
	}
	return len(s.Pods)
}

// RenderPods appends the links cfg gives each of set's pods, up to limit
// pods with set.Linked (0: no cap), each named after its pod ("Kubernetes Logs(spark-pi-
// exec-1)"), then, when pods were left out, the aggregate links
// (RenderAggregate). Only templates that name {{ .podName }} render: the
// others read the same for every pod, and the job's own links carry them.
func (l *LogLinks) RenderPods(dst []*core.TaskLog, cfg *logs.LogConfig, in LogInput, set PodSet, limit int) []*core.TaskLog {
	if cfg == nil {
		return dst
	}
	shown := set.shown(limit)
	in.PodScoped, in.TaskTemplate = true, nil
	if shown > 0 {
		c := l.compiled(cfg, func() *compiledLogs { return compileLogConfig(cfg) })
		dst = c.renderPods(dst, &in, set.Pods[:shown], "")
	}
	if set.total() > set.Linked+shown {
		dst = l.RenderAggregate(dst, cfg, in, set)
	}
	return dst
}

// RenderAggregate appends the links cfg gives the pod-name prefix of set,
// named "(all N pods of <job>)": one way to every pod the per-pod links
// left out. Only templates that name {{ .podName }} render.
func (l *LogLinks) RenderAggregate(dst []*core.TaskLog, cfg *logs.LogConfig, in LogInput, set PodSet) []*core.TaskLog {
	if cfg == nil || set.Prefix == "" {
		return dst
	}
	in.PodScoped, in.TaskTemplate = true, nil
	c := l.compiled(cfg, func() *compiledLogs { return compileLogConfig(cfg) })
	prefix := [1]string{set.Prefix}
	return c.renderPods(dst, &in, prefix[:], "all "+strconv.Itoa(set.total())+" pods of "+set.Job)
}

// Bounds of PodSetReason: the names it lists, and their length.
const (
	reasonPods  = 8
	reasonBytes = 240
)

// PodSetReason is the pod set in a Running reason, so a changed set
// changes the reason and the console gets it: "3 pods: a, b, c"; past 8
// names or 240 bytes, "12 pods: a, …, h and 4 more (set 9f3a61c2)", the
// fingerprint covering every name so a change among the unlisted ones
// shows too. pods must be in a stable order (PodNameCompare); total counts
// unnamed pods as well (less than len(pods) means len(pods)). "" for no
// pods.
func PodSetReason(pods []string, total int) string {
	total = max(total, len(pods))
	if total == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(64)
	b.WriteString(strconv.Itoa(total))
	if total == 1 {
		b.WriteString(" pod")
	} else {
		b.WriteString(" pods")
	}
	listed := 0
	for _, p := range pods {
		if listed == reasonPods || b.Len()+len(p) > reasonBytes {
			break
		}
		if listed == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p)
		listed++
	}
	if rest := total - listed; rest > 0 && listed > 0 {
		b.WriteString(" and ")
		b.WriteString(strconv.Itoa(rest))
		b.WriteString(" more")
	}
	if listed < len(pods) {
		h := fnv(2166136261)
		for _, p := range pods {
			h = h.add(p)
		}
		var hex [8]byte
		const digits = "0123456789abcdef"
		for i := range hex {
			hex[i] = digits[(uint32(h)>>(28-4*i))&0xf]
		}
		b.WriteString(" (set ")
		b.Write(hex[:])
		b.WriteByte(')')
	}
	return b.String()
}

// JoinReason joins two parts of a reason with "; ", either may be empty.
func JoinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// PodNameLess orders pod names with runs of digits compared as numbers,
// so "exec-2" comes before "exec-10": the order operators number pods in.
func PodNameLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			if da != db {
				return da < db
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// PodNameCompare is PodNameLess as a three-way comparison, for
// slices.SortFunc.
func PodNameCompare(a, b string) int {
	switch {
	case PodNameLess(a, b):
		return -1
	case PodNameLess(b, a):
		return 1
	}
	return 0
}

// renderPods is render for each of pods, named after the pod (or label,
// when set), with the pod-scoped templates only. It shares one variable set, one scratch
// buffer and one block of links across the pods: a pod costs two strings
// a link, where a render per pod costs about eight allocations a link.
func (c *compiledLogs) renderPods(dst []*core.TaskLog, in *LogInput, pods []string, label string) []*core.TaskLog {
	n, logNameVar := 0, false
	for i := range c.static {
		if lt := &c.static[i]; lt.namesPod() {
			n += len(lt.uris)
			logNameVar = logNameVar || lt.names("logname")
		}
	}
	if n == 0 {
		return dst
	}
	block := make([]core.TaskLog, 0, n*len(pods))
	v := newVars(in)
	var scratch [256]byte
	buf := scratch[:0]
	for _, pod := range pods {
		in.PodName = pod
		name := pod
		if label != "" {
			name = label
		}
		if logNameVar {
			v.logName = LogName(name)
		}
		for i := range c.static {
			lt := &c.static[i]
			if !lt.namesPod() {
				continue
			}
			var ok bool
			if buf, ok = v.appendRender(buf[:0], lt.displayName); !ok {
				continue
			}
			buf = append(append(append(buf, '('), name...), ')')
			linkName := string(buf)
			for _, u := range lt.uris {
				if buf, ok = v.appendRender(buf[:0], u); !ok {
					continue
				}
				block = block[:len(block)+1]
				link := &block[len(block)-1]
				link.Uri, link.Name, link.MessageFormat = string(buf), linkName, lt.messageFormat
				link.ShowWhilePending, link.HideOnceFinished = lt.showWhilePending || in.ShowWhilePending, lt.hideOnceFinished
				dst = append(dst, link)
			}
		}
	}
	return dst
}

// appendRender is render into a byte slice.
func (v *vars) appendRender(dst []byte, t template) ([]byte, bool) {
	ok := true
	for _, seg := range t {
		if seg.name == "" {
			dst = append(dst, seg.text...)
			continue
		}
		val, pending := v.value(seg)
		ok = ok && !pending
		if val != "" {
			dst = append(dst, val...)
		} else {
			dst = append(dst, seg.text...)
		}
	}
	return dst, ok
}

// names reports whether a URI or the display name of the link names the
// variable (lower-cased).
func (lt *linkTemplate) names(variable string) bool {
	for _, seg := range lt.displayName {
		if seg.name == variable {
			return true
		}
	}
	for _, u := range lt.uris {
		for _, seg := range u {
			if seg.name == variable {
				return true
			}
		}
	}
	return false
}

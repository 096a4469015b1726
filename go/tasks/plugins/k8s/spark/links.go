package spark

import (
	"slices"
	"strings"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	pluginsCore "github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
	sparkv1beta2 "github.com/kubeflow/spark-operator/v2/api/v1beta2"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

// Custom-info keys of the UI links, as upstream's console plugin reads them.
const (
	customDriverUI  = "sparkDriverUI"
	customHistoryUI = "sparkHistoryUI"
)

// Log names of the links, appended to each template's display name.
var (
	logNameDriver  = kit.LogName("Driver Logs")
	logNameUser    = kit.LogName("User Logs")
	logNameSystem  = kit.LogName("System Logs")
	logNameAllUser = kit.LogName("Spark-Submit/All User Logs")
)

// linkers cache one initialised log plugin per log config.
type linkers struct {
	mixed, user, system, allUser kit.LogLinks
}

// taskInfo renders the application's log and UI links.
func (l *linkers) taskInfo(cfg *Config, app *sparkv1beta2.SparkApplication, execID pluginsCore.TaskExecutionID, tmpl *core.TaskTemplate) (*pluginsCore.TaskInfo, error) {
	state := app.Status.AppState.State
	in := kit.LogInput{
		Namespace:    app.Namespace,
		Start:        app.CreationTimestamp.Time,
		TaskExecID:   execID,
		TaskTemplate: tmpl,
	}
	if state == sparkv1beta2.ApplicationStateCompleted || state == sparkv1beta2.ApplicationStateFailed {
		in.Finish = app.Status.TerminationTime.Time
	}

	executors := orderedExecutors(app.Status.ExecutorState)
	taskLogs := make([]*core.TaskLog, 0, 6+len(executors))
	var err error
	// The driver's links show once it has a name (the spec's rule for the
	// mixed config); user links that name the driver pod wait for it too
	// (kit leaves them out until then), the others show at once.
	in.PodName, in.LogName = app.Status.DriverInfo.PodName, logNameDriver
	if in.PodName != "" {
		if taskLogs, err = l.mixed.Render(taskLogs, &cfg.LogConfig.Mixed, in); err != nil {
			return nil, err
		}
	}
	// Each executor the operator reports gets the mixed config's pod
	// links, named after its pod, up to the live-view cap (the driver
	// counts); the rest share one link on the application's name, which
	// prefixes every pod of it. Upstream has no executor log config.
	set := kit.PodSet{Pods: executors, Prefix: app.Name, Job: app.Name}
	if in.PodName != "" {
		set.Linked = 1
	}
	taskLogs = l.mixed.RenderPods(taskLogs, &cfg.LogConfig.Mixed, in, set, kit.MaxPodLinks())
	// Task-config `link_type` links come from the mixed config only, as
	// upstream renders them: a platform that lists the same dynamic link in
	// several sections gets it once.
	in.LogName, in.TaskTemplate = logNameUser, nil
	if taskLogs, err = l.user.Render(taskLogs, &cfg.LogConfig.User, in); err != nil {
		return nil, err
	}
	in.PodName, in.LogName = app.Name, logNameSystem
	if taskLogs, err = l.system.Render(taskLogs, &cfg.LogConfig.System, in); err != nil {
		return nil, err
	}
	in.LogName, in.ShowWhilePending = logNameAllUser, true
	if taskLogs, err = l.allUser.Render(taskLogs, &cfg.LogConfig.AllUser, in); err != nil {
		return nil, err
	}

	info := &pluginsCore.TaskInfo{Logs: taskLogs}
	if name, key, uri := uiLink(cfg, app); uri != "" {
		info.Logs = append(info.Logs, &core.TaskLog{Uri: uri, Name: name, MessageFormat: core.TaskLog_JSON})
		info.CustomInfo = &structpb.Struct{Fields: map[string]*structpb.Value{key: structpb.NewStringValue(uri)}}
	}
	return info, nil
}

// live reports an executor whose pod may still run; the operator keeps
// finished executors in the map.
func live(s sparkv1beta2.ExecutorState) bool {
	return s != sparkv1beta2.ExecutorStateCompleted && s != sparkv1beta2.ExecutorStateFailed
}

// orderedExecutors lists the executor pods, live ones first, each group by
// name (exec-2 before exec-10), so the cap keeps the pods worth looking at
// and the order is the same every round.
func orderedExecutors(states map[string]sparkv1beta2.ExecutorState) []string {
	if len(states) == 0 {
		return nil
	}
	pods := make([]string, 0, len(states))
	for pod := range states {
		pods = append(pods, pod)
	}
	slices.SortFunc(pods, func(a, b string) int {
		if la, lb := live(states[a]), live(states[b]); la != lb {
			if la {
				return -1
			}
			return 1
		}
		return kit.PodNameCompare(a, b)
	})
	return pods
}

// podSetReason is the live pods (driver and executors that have not
// finished) for the Running reason, by name, so the reason, and with it
// the phase version, changes when an executor comes or goes.
func podSetReason(driver string, states map[string]sparkv1beta2.ExecutorState) string {
	pods := make([]string, 0, 1+len(states))
	if driver != "" {
		pods = append(pods, driver)
	}
	for pod, s := range states {
		if live(s) {
			pods = append(pods, pod)
		}
	}
	slices.SortFunc(pods, kit.PodNameCompare)
	return kit.PodSetReason(pods, 0)
}

// uiLink is the Spark Driver UI while the application runs, or the History
// UI once it is done (when a history server is configured and Spark
// reported an application ID).
func uiLink(cfg *Config, app *sparkv1beta2.SparkApplication) (name, key, uri string) {
	switch state := app.Status.AppState.State; {
	case state == sparkv1beta2.ApplicationStateRunning && app.Status.DriverInfo.WebUIIngressAddress != "":
		uri = app.Status.DriverInfo.WebUIIngressAddress
		if !strings.HasPrefix(uri, "http://") && !strings.HasPrefix(uri, "https://") {
			uri = "https://" + uri
		}
		return "Spark Driver UI", customDriverUI, uri
	case terminal(state) && cfg.SparkHistoryServerURL != "" && app.Status.SparkApplicationID != "":
		return "Spark History UI", customHistoryUI, strings.TrimSuffix(cfg.SparkHistoryServerURL, "/") + "/history/" + app.Status.SparkApplicationID
	}
	return "", "", ""
}

package databricks

import (
	"fmt"
	"net/url"
	"time"

	idlcore "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
)

// ConsoleLinkName is the name of the link to the run's page in the Databricks
// workspace.
const ConsoleLinkName = "Databricks Console"

// runPageURL is the run's page: the run_page_url Databricks gave, or, if it
// gave none that is a web URL, the page's usual address on host.
func runPageURL(res *runResource, host string) string {
	if u, err := url.Parse(res.RunPageURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return res.RunPageURL
	}
	if host == "" || res.RunID == 0 {
		return ""
	}
	return fmt.Sprintf("https://%s/#job/%d/run/%d", host, res.JobID, res.RunID)
}

// taskInfo is what Flyte shows for the run: the console link (from QUEUED on,
// so it is shown while the run is pending) and the run's state with a reason.
func taskInfo(res *runResource, host string, now time.Time) *core.TaskInfo {
	info := &core.TaskInfo{OccurredAt: &now}
	if link := runPageURL(res, host); link != "" {
		info.Logs = []*idlcore.TaskLog{{
			Name:             ConsoleLinkName,
			Uri:              link,
			MessageFormat:    idlcore.TaskLog_UNKNOWN,
			ShowWhilePending: true,
		}}
	}
	fields := map[string]*structpb.Value{}
	if res.RunID != 0 {
		fields["runId"] = structpb.NewStringValue(fmt.Sprint(res.RunID))
	}
	if res.LifeCycleState != "" {
		fields["lifeCycleState"] = structpb.NewStringValue(res.LifeCycleState)
	}
	if res.ResultState != "" {
		fields["resultState"] = structpb.NewStringValue(res.ResultState)
	}
	if reason := stateReason(res); reason != "" {
		fields["reason"] = structpb.NewStringValue(reason)
	}
	if len(fields) > 0 {
		info.CustomInfo = &structpb.Struct{Fields: fields}
	}
	return info
}

package demo

import (
	"context"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/admin"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/event"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/service"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// eventReceiver stands in for the one part of flyteadmin this demo's
// propeller talks to: the event API (CreateWorkflowEvent, CreateNodeEvent,
// CreateTaskEvent). Propeller's admin event sink sends it exactly what it
// would send flyteadmin: each task's phase, phase version, reasons and log
// links. Every other admin call answers Unimplemented; propeller makes none
// in this demo (launch plans are off, the catalog is noop, no gate nodes).
type eventReceiver struct {
	service.UnimplementedAdminServiceServer

	srv  *grpc.Server
	addr string

	mu     sync.Mutex
	tasks  []*event.TaskExecutionEvent
	onTask func(*event.TaskExecutionEvent)
	onWf   func(*event.WorkflowExecutionEvent)
	calls  map[string]int // admin API method -> calls
}

func startEventReceiver() (*eventReceiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &eventReceiver{addr: l.Addr().String(), calls: map[string]int{}}
	// Count every call, so the demo can show that the event API is all of
	// flyteadmin propeller used.
	r.srv = grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		r.mu.Lock()
		r.calls[path.Base(info.FullMethod)]++
		r.mu.Unlock()
		return h(ctx, req)
	}))
	service.RegisterAdminServiceServer(r.srv, r)
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

func (r *eventReceiver) stop() { r.srv.Stop() }

// CreateWorkflowEvent accepts a workflow event and shows it.
func (r *eventReceiver) CreateWorkflowEvent(_ context.Context, req *admin.WorkflowExecutionEventRequest) (*admin.WorkflowExecutionEventResponse, error) {
	e := proto.Clone(req.GetEvent()).(*event.WorkflowExecutionEvent)
	r.mu.Lock()
	cb := r.onWf
	r.mu.Unlock()
	if cb != nil {
		cb(e)
	}
	return &admin.WorkflowExecutionEventResponse{}, nil
}

// CreateNodeEvent accepts a node event (the demo reads node phases from the
// FlyteWorkflow status instead).
func (r *eventReceiver) CreateNodeEvent(context.Context, *admin.NodeExecutionEventRequest) (*admin.NodeExecutionEventResponse, error) {
	return &admin.NodeExecutionEventResponse{}, nil
}

// CreateTaskEvent records a task event.
func (r *eventReceiver) CreateTaskEvent(_ context.Context, req *admin.TaskExecutionEventRequest) (*admin.TaskExecutionEventResponse, error) {
	e := proto.Clone(req.GetEvent()).(*event.TaskExecutionEvent)
	r.mu.Lock()
	r.tasks = append(r.tasks, e)
	cb := r.onTask
	r.mu.Unlock()
	if cb != nil {
		cb(e)
	}
	return &admin.TaskExecutionEventResponse{}, nil
}

// setCallbacks sets the functions called with each task and workflow event.
func (r *eventReceiver) setCallbacks(onTask func(*event.TaskExecutionEvent), onWf func(*event.WorkflowExecutionEvent)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onTask, r.onWf = onTask, onWf
}

// taskEvents returns the task events of one node, in arrival order.
func (r *eventReceiver) taskEvents(nodeID string) []*event.TaskExecutionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*event.TaskExecutionEvent
	for _, e := range r.tasks {
		if e.GetParentNodeExecutionId().GetNodeId() == nodeID {
			out = append(out, e)
		}
	}
	return out
}

// callSummary lists the admin API methods propeller called, with counts.
func (r *eventReceiver) callSummary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for m, n := range r.calls {
		parts = append(parts, m+" x"+strconv.Itoa(n))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

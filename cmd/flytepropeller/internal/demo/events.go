package demo

import (
	"context"
	"net"
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

	mu      sync.Mutex
	tasks   []*event.TaskExecutionEvent
	nodes   []*event.NodeExecutionEvent
	wfs     []*event.WorkflowExecutionEvent
	onTask  func(*event.TaskExecutionEvent)
	onWf    func(*event.WorkflowExecutionEvent)
	changed chan struct{}
}

func startEventReceiver() (*eventReceiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &eventReceiver{srv: grpc.NewServer(), addr: l.Addr().String(), changed: make(chan struct{}, 1)}
	service.RegisterAdminServiceServer(r.srv, r)
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

func (r *eventReceiver) stop() { r.srv.Stop() }

func (r *eventReceiver) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// CreateWorkflowEvent records a workflow event.
func (r *eventReceiver) CreateWorkflowEvent(_ context.Context, req *admin.WorkflowExecutionEventRequest) (*admin.WorkflowExecutionEventResponse, error) {
	e := proto.Clone(req.GetEvent()).(*event.WorkflowExecutionEvent)
	r.mu.Lock()
	r.wfs = append(r.wfs, e)
	cb := r.onWf
	r.mu.Unlock()
	if cb != nil {
		cb(e)
	}
	r.notify()
	return &admin.WorkflowExecutionEventResponse{}, nil
}

// CreateNodeEvent records a node event.
func (r *eventReceiver) CreateNodeEvent(_ context.Context, req *admin.NodeExecutionEventRequest) (*admin.NodeExecutionEventResponse, error) {
	e := proto.Clone(req.GetEvent()).(*event.NodeExecutionEvent)
	r.mu.Lock()
	r.nodes = append(r.nodes, e)
	r.mu.Unlock()
	r.notify()
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
	r.notify()
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

// workflowEvents returns the workflow events in arrival order.
func (r *eventReceiver) workflowEvents() []*event.WorkflowExecutionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*event.WorkflowExecutionEvent(nil), r.wfs...)
}

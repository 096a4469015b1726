package main

import (
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/admin"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"google.golang.org/protobuf/proto"
)

// protoMarshalSpec writes a task the way `pyflyte package` does.
func protoMarshalSpec(tmpl *core.TaskTemplate) ([]byte, error) {
	return proto.Marshal(&admin.TaskSpec{Template: tmpl})
}

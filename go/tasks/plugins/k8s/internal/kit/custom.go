package kit

import (
	"encoding/json"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	v1 "k8s.io/api/core/v1"
)

// UnmarshalCustom decodes a task template's custom struct into msg. A missing
// custom or one that does not fit msg is a BadTaskSpecification error. Unknown
// fields are tolerated so a newer flytekit can talk to an older backend.
func UnmarshalCustom(tmpl *core.TaskTemplate, msg proto.Message) error {
	custom := tmpl.GetCustom()
	if custom == nil {
		return BadSpec("custom", "", "the task has no custom config; the task type needs one")
	}
	if fastUnmarshal(custom, msg) {
		return nil
	}
	raw, err := protojson.Marshal(custom)
	if err != nil {
		return BadSpec("custom", custom, err.Error())
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, msg); err != nil {
		return BadSpec("custom", string(raw), err.Error())
	}
	return nil
}

// UnmarshalPodSpec decodes a K8sPod's pod spec struct. field names where the
// struct came from (e.g. "driverPod.podSpec") for the error message.
func UnmarshalPodSpec(field string, s *structpb.Struct) (*v1.PodSpec, error) {
	if s == nil {
		return nil, nil
	}
	raw, err := protojson.Marshal(s)
	if err != nil {
		return nil, BadSpec(field, s, err.Error())
	}
	spec := &v1.PodSpec{}
	if err := json.Unmarshal(raw, spec); err != nil {
		return nil, BadSpec(field, string(raw), err.Error())
	}
	return spec, nil
}

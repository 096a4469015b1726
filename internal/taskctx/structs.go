package taskctx

import (
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// CustomStruct is msg as the custom Struct flytekit puts in a task template
// (its protojson form).
func CustomStruct(msg proto.Message) (*structpb.Struct, error) {
	raw, err := protojson.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return jsonStruct(raw)
}

// ObjectStruct is a JSON-marshalable value (a Kubernetes pod spec) as a
// Struct, the form a K8sPod's pod spec takes in a task.
func ObjectStruct(v any) (*structpb.Struct, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonStruct(raw)
}

func jsonStruct(raw []byte) (*structpb.Struct, error) {
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, s); err != nil {
		return nil, err
	}
	return s, nil
}

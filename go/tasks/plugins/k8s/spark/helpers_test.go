package spark_test

import (
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func protoFromStruct(s *structpb.Struct, msg proto.Message) error {
	raw, err := protojson.Marshal(s)
	if err != nil {
		return err
	}
	return protojson.Unmarshal(raw, msg)
}

func protoClone(m proto.Message) proto.Message { return proto.Clone(m) }

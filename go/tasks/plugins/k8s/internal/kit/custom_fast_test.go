package kit

import (
	"fmt"
	"testing"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/plugins"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// fastTargets are messages of every shape the fast route meets: the
// plugins' custom configs, and core messages with oneofs, maps, enums,
// int64, double, bytes and well-known types.
func fastTargets() []proto.Message {
	return []proto.Message{
		&plugins.DaskJob{}, &plugins.SparkJob{}, &plugins.RayJob{},
		&core.K8SPod{}, &core.TaskTemplate{}, &core.Literal{}, &structpb.Struct{},
	}
}

// slowUnmarshal is the JSON route UnmarshalCustom falls back to.
func slowUnmarshal(s *structpb.Struct, msg proto.Message) error {
	raw, err := protojson.Marshal(s)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(raw, msg)
}

// checkSameAsProtojson fails when the fast route accepts s and gives
// anything other than what protojson gives. It reports whether the fast
// route took s.
func checkSameAsProtojson(t *testing.T, s *structpb.Struct, target proto.Message) bool {
	t.Helper()
	fast := target.ProtoReflect().New().Interface()
	if !fastUnmarshal(s, fast) {
		return false
	}
	slow := target.ProtoReflect().New().Interface()
	if err := slowUnmarshal(s, slow); err != nil {
		t.Fatalf("%T: fast route accepted %v, protojson rejects it: %v", target, s, err)
	}
	if !proto.Equal(fast, slow) {
		t.Fatalf("%T from %v:\nfast %v\nslow %v", target, s, fast, slow)
	}
	return true
}

func mustStruct(t testing.TB, js string) *structpb.Struct {
	t.Helper()
	s := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(js), s); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

func TestFastUnmarshalMatchesProtojson(t *testing.T) {
	cases := []struct {
		target proto.Message
		json   string
		fast   bool // the fast route must take it
	}{
		{&plugins.DaskJob{}, `{"scheduler":{"image":"s","resources":{"limits":[{"name":"CPU","value":"2"},{"name":"MEMORY","value":"4Gi"}]}},"workers":{"numberOfWorkers":3,"image":"w","resources":{"requests":[{"name":3,"value":"1"}]}}}`, true},
		{&plugins.DaskJob{}, `{"workers":{"number_of_workers":2},"unknownField":{"a":[1,null]}}`, true},
		{&plugins.DaskJob{}, `{"workers":{"numberOfWorkers":null}}`, true},
		{&plugins.DaskJob{}, `{"scheduler":null}`, true},
		{&plugins.DaskJob{}, `{}`, true},
		{&plugins.SparkJob{}, `{"mainApplicationFile":"local:///app.py","sparkConf":{"a":"b"},"hadoopConf":{},"applicationType":"PYTHON","executorPod":{"primaryContainerName":"p","podSpec":{"containers":[{"name":"p","args":["x",1.5,true,null]}]},"metadata":{"labels":{"l":"v"}}}}`, true},
		{&plugins.RayJob{}, `{"rayCluster":{"headGroupSpec":{"rayStartParams":{"k":"v"}},"workerGroupSpec":[{"groupName":"g","replicas":2,"minReplicas":1,"maxReplicas":4}],"enableAutoscaling":true},"runtimeEnvYaml":"x","shutdownAfterJobFinishes":true,"ttlSecondsAfterFinished":60}`, true},
		{&core.TaskTemplate{}, `{"type":"dask","taskTypeVersion":1,"config":{"link_type":"vscode"},"container":{"image":"i","args":["a"]},"custom":{"x":{"y":[1,2]}}}`, true},
		{&core.Literal{}, `{"scalar":{"primitive":{"floatValue":1.25}}}`, true},
		// Well-known types, string numbers, floats, bytes, unknown enum
		// names, duplicates and oneof conflicts take the JSON route; either
		// way the result is protojson's.
		{&core.Literal{}, `{"scalar":{"primitive":{"integer":"42"}}}`, false},
		{&core.Literal{}, `{"scalar":{"primitive":{"datetime":"2026-01-01T00:00:00Z"}}}`, false},
		{&core.Literal{}, `{"scalar":{"binary":{"value":"aGk=","tag":"t"}}}`, false},
		{&plugins.SparkJob{}, `{"applicationType":"COBOL"}`, false},
		{&plugins.DaskJob{}, `{"workers":{"numberOfWorkers":1,"number_of_workers":2}}`, false},
		{&plugins.DaskJob{}, `{"workers":{"numberOfWorkers":-1}}`, false},
		{&plugins.DaskJob{}, `{"workers":{"numberOfWorkers":1.5}}`, false},
		{&plugins.DaskJob{}, `{"workers":{"numberOfWorkers":4294967296}}`, false},
		{&plugins.DaskJob{}, `{"workers":"three"}`, false},
		{&core.TaskTemplate{}, `{"container":{"image":"i"},"k8sPod":{}}`, false},
		{&structpb.Struct{}, `{"a":1}`, false},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			s := mustStruct(t, tc.json)
			took := checkSameAsProtojson(t, s, tc.target)
			if took != tc.fast {
				t.Errorf("fast route took it: %v, want %v", took, tc.fast)
			}
			// UnmarshalCustom gives protojson's result (or error) either way.
			got := tc.target.ProtoReflect().New().Interface()
			errGot := UnmarshalCustom(&core.TaskTemplate{Custom: s}, got)
			want := tc.target.ProtoReflect().New().Interface()
			errWant := slowUnmarshal(s, want)
			if (errGot == nil) != (errWant == nil) {
				t.Fatalf("UnmarshalCustom error %v, protojson error %v", errGot, errWant)
			}
			if errGot == nil && !proto.Equal(got, want) {
				t.Errorf("UnmarshalCustom %v, protojson %v", got, want)
			}
		})
	}
}

// Values protojson cannot marshal take the JSON route, which reports them.
func TestFastUnmarshalRejectsUnmarshalable(t *testing.T) {
	bad := []*structpb.Struct{
		{Fields: map[string]*structpb.Value{"workers": structpb.NewNumberValue(nan())}},
		{Fields: map[string]*structpb.Value{"unknown": {}}},
		{Fields: map[string]*structpb.Value{"unknown": structpb.NewStringValue("\xff")}},
		{Fields: map[string]*structpb.Value{"unknown": nil}},
	}
	for _, s := range bad {
		if fastUnmarshal(s, &plugins.DaskJob{}) {
			t.Errorf("fast route took %v", s)
		}
		if err := UnmarshalCustom(&core.TaskTemplate{Custom: s}, &plugins.DaskJob{}); err == nil {
			t.Errorf("UnmarshalCustom accepted %v", s)
		}
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// FuzzFastUnmarshal holds the fast route to protojson's result for any
// custom JSON.
func FuzzFastUnmarshal(f *testing.F) {
	for _, seed := range []string{
		`{"workers":{"numberOfWorkers":3,"resources":{"limits":[{"name":"CPU","value":"2"}]}}}`,
		`{"rayCluster":{"workerGroupSpec":[{"replicas":2}]}}`,
		`{"sparkConf":{"a":"b"},"applicationType":1,"driverPod":{"podSpec":{"x":[1,{"y":null}]}}}`,
		`{"scalar":{"primitive":{"integer":9007199254740992}}}`,
		`{"config":{"a":"b"},"taskTypeVersion":-3,"custom":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &structpb.Struct{}
		if protojson.Unmarshal(data, s) != nil {
			return
		}
		for _, target := range fastTargets() {
			checkSameAsProtojson(t, s, target)
		}
	})
}

// The fast route is what makes UnmarshalCustom cheap.
func BenchmarkUnmarshalCustom(b *testing.B) {
	tmpl := &core.TaskTemplate{Custom: mustStruct(b, `{"scheduler":{"image":"s","resources":{"limits":[{"name":"CPU","value":"2"},{"name":"MEMORY","value":"4Gi"}]}},"workers":{"numberOfWorkers":3,"image":"w","resources":{"requests":[{"name":"CPU","value":"1"}],"limits":[{"name":"CPU","value":"1"}]}}}`)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := UnmarshalCustom(tmpl, &plugins.DaskJob{}); err != nil {
			b.Fatal(err)
		}
	}
}

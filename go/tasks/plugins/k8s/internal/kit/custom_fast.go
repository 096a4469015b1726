package kit

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// This file decodes a task's custom Struct straight into a proto message,
// with the result protojson gives for the Struct's JSON (UnmarshalCustom's
// reference route) but without the JSON round trip, which was about 40% of
// a k8s plugin's BuildResource allocations. It takes only what it converts
// exactly as protojson does; anything else (a string-encoded number, a
// float field, an unknown enum name, a duplicate or conflicting field, a
// well-known type other than Struct/Value/ListValue, ...) makes it report
// false, and UnmarshalCustom takes the JSON route, which also words the
// error. TestFastUnmarshalMatchesProtojson and FuzzFastUnmarshal hold the two
// routes to the same result.

const (
	// maxFastDepth bounds the recursion; deeper input takes the JSON route.
	maxFastDepth = 64
	// maxExactInt is the largest integer a float64 and its shortest decimal
	// form (what protojson writes and re-reads) both hold exactly.
	maxExactInt = 1 << 53
)

// fastUnmarshal fills msg from s as protojson.Unmarshal (DiscardUnknown)
// would from protojson.Marshal(s). It reports false, leaving msg in an
// unspecified state, when the input needs the JSON route.
func fastUnmarshal(s *structpb.Struct, msg proto.Message) bool {
	if !validStruct(s, 0) {
		return false
	}
	proto.Reset(msg)
	m := msg.ProtoReflect()
	if isWellKnown(m.Descriptor().FullName()) {
		return false
	}
	return structInto(s, m, 0)
}

// validStruct reports whether protojson can marshal s: no NaN or infinite
// numbers, valid UTF-8, every Value set.
func validStruct(s *structpb.Struct, depth int) bool {
	if s == nil || depth > maxFastDepth {
		return false
	}
	for k, v := range s.GetFields() {
		if !utf8.ValidString(k) || !validValue(v, depth+1) {
			return false
		}
	}
	return true
}

func validValue(v *structpb.Value, depth int) bool {
	if v == nil {
		return false
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue, *structpb.Value_BoolValue:
		return true
	case *structpb.Value_NumberValue:
		return !math.IsNaN(k.NumberValue) && !math.IsInf(k.NumberValue, 0)
	case *structpb.Value_StringValue:
		return utf8.ValidString(k.StringValue)
	case *structpb.Value_StructValue:
		return validStruct(k.StructValue, depth)
	case *structpb.Value_ListValue:
		if k.ListValue == nil || depth > maxFastDepth {
			return false
		}
		for _, e := range k.ListValue.GetValues() {
			if !validValue(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// structInto sets m's fields from s, following protojson's field lookup
// (JSON name, then proto name), its duplicate and oneof checks, and its
// null handling.
func structInto(s *structpb.Struct, m protoreflect.Message, depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	fields := m.Descriptor().Fields()
	var seenBuf [16]protoreflect.FieldNumber
	seen := seenBuf[:0]
	var oneofBuf [4]int
	oneofs := oneofBuf[:0]
	for name, v := range s.GetFields() {
		if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
			return false // an extension
		}
		fd := fields.ByJSONName(name)
		if fd == nil {
			fd = fields.ByTextName(name)
		}
		if fd == nil {
			continue // unknown fields are discarded
		}
		if slices.Contains(seen, fd.Number()) {
			return false // protojson: duplicate field
		}
		seen = append(seen, fd.Number())
		if isNullValueEnum(fd) {
			return false
		}
		if _, null := v.GetKind().(*structpb.Value_NullValue); null && !isValueMessage(fd) {
			continue // null leaves a field unset
		}
		switch {
		case fd.IsList():
			lv := v.GetListValue()
			if lv == nil {
				return false
			}
			list := m.Mutable(fd).List()
			for _, e := range lv.GetValues() {
				if _, null := e.GetKind().(*structpb.Value_NullValue); null && !isValueMessage(fd) {
					return false
				}
				var val protoreflect.Value
				if isMessage(fd) {
					val = list.NewElement()
					if !messageFrom(e, val.Message(), depth+1) {
						return false
					}
				} else {
					var ok bool
					if val, ok = scalar(fd, e); !ok {
						return false
					}
				}
				list.Append(val)
			}
		case fd.IsMap():
			sv := v.GetStructValue()
			if sv == nil || fd.MapKey().Kind() != protoreflect.StringKind {
				return false
			}
			mv := fd.MapValue()
			mm := m.Mutable(fd).Map()
			for k, e := range sv.GetFields() {
				if _, null := e.GetKind().(*structpb.Value_NullValue); null && !isValueMessage(mv) {
					return false
				}
				var val protoreflect.Value
				if isMessage(mv) {
					val = mm.NewValue()
					if !messageFrom(e, val.Message(), depth+1) {
						return false
					}
				} else {
					var ok bool
					if val, ok = scalar(mv, e); !ok {
						return false
					}
				}
				mm.Set(protoreflect.ValueOfString(k).MapKey(), val)
			}
		default:
			if od := fd.ContainingOneof(); od != nil {
				if slices.Contains(oneofs, od.Index()) {
					return false // protojson: oneof already set
				}
				oneofs = append(oneofs, od.Index())
			}
			if isMessage(fd) {
				val := m.NewField(fd)
				if !messageFrom(v, val.Message(), depth+1) {
					return false
				}
				m.Set(fd, val)
				continue
			}
			val, ok := scalar(fd, v)
			if !ok {
				return false
			}
			m.Set(fd, val)
		}
	}
	return true
}

// messageFrom fills dst, a new message, from v.
func messageFrom(v *structpb.Value, dst protoreflect.Message, depth int) bool {
	name := dst.Descriptor().FullName()
	switch name {
	case "google.protobuf.Value":
		proto.Merge(dst.Interface(), v)
		return true
	case "google.protobuf.Struct":
		sv := v.GetStructValue()
		if sv == nil {
			return false
		}
		proto.Merge(dst.Interface(), sv)
		return true
	case "google.protobuf.ListValue":
		lv := v.GetListValue()
		if lv == nil {
			return false
		}
		proto.Merge(dst.Interface(), lv)
		return true
	}
	if isWellKnown(name) {
		return false
	}
	sv := v.GetStructValue()
	if sv == nil {
		return false
	}
	return structInto(sv, dst, depth)
}

// scalar converts v for a non-message field.
func scalar(fd protoreflect.FieldDescriptor, v *structpb.Value) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.GetKind().(*structpb.Value_BoolValue); ok {
			return protoreflect.ValueOfBool(b.BoolValue), true
		}
	case protoreflect.StringKind:
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			return protoreflect.ValueOfString(s.StringValue), true
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n, ok := integral(v, math.MinInt32, math.MaxInt32); ok {
			return protoreflect.ValueOfInt32(int32(n)), true
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if n, ok := integral(v, -maxExactInt, maxExactInt); ok {
			return protoreflect.ValueOfInt64(int64(n)), true
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if n, ok := integral(v, 0, math.MaxUint32); ok {
			return protoreflect.ValueOfUint32(uint32(n)), true
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, ok := integral(v, 0, maxExactInt); ok {
			return protoreflect.ValueOfUint64(uint64(n)), true
		}
	case protoreflect.DoubleKind:
		if f, ok := v.GetKind().(*structpb.Value_NumberValue); ok {
			return protoreflect.ValueOfFloat64(f.NumberValue), true
		}
	case protoreflect.EnumKind:
		switch k := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			if ev := fd.Enum().Values().ByName(protoreflect.Name(k.StringValue)); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), true
			}
		case *structpb.Value_NumberValue:
			if n, ok := integral(v, math.MinInt32, math.MaxInt32); ok {
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), true
			}
		}
	}
	// Float (rounding through decimal text may differ), bytes (base64) and
	// every mismatch of JSON and field kind take the JSON route.
	return protoreflect.Value{}, false
}

// integral is v's number when it is a whole number in [lo, hi].
func integral(v *structpb.Value, lo, hi float64) (float64, bool) {
	n, ok := v.GetKind().(*structpb.Value_NumberValue)
	if !ok {
		return 0, false
	}
	f := n.NumberValue
	if f != math.Trunc(f) || f < lo || f > hi {
		return 0, false
	}
	return f, true
}

func isMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
}

func isValueMessage(fd protoreflect.FieldDescriptor) bool {
	md := fd.Message()
	return md != nil && md.FullName() == "google.protobuf.Value"
}

func isNullValueEnum(fd protoreflect.FieldDescriptor) bool {
	ed := fd.Enum()
	return ed != nil && ed.FullName() == "google.protobuf.NullValue"
}

func isWellKnown(name protoreflect.FullName) bool {
	return strings.HasPrefix(string(name), "google.protobuf.")
}

package kit

import (
	"reflect"
	"strconv"

	v1 "k8s.io/api/core/v1"
)

// MergePodSpec merges overlay onto base in place, by the one rule every plugin
// uses (DESIGN.md):
//
//   - named lists (containers, init containers, env, volumes, volume mounts,
//     ports, image pull secrets) merge by name, the overlay's item merged
//     over the base's item of the same name, new names appended;
//   - args and command are replaced when the overlay sets them;
//   - other lists (tolerations, …) are appended without exact duplicates;
//   - maps merge key by key, the overlay winning; resources too, keeping
//     each request within its limit (mergeResources);
//   - required node-selector terms are AND-ed, never OR-ed, so the base's
//     requirements still hold (mergeNodeSelector);
//   - structs merge field by field; a scalar the overlay sets wins.
//
// A field the overlay leaves at its zero value never clears the base's.
func MergePodSpec(base, overlay *v1.PodSpec) {
	if base == nil || overlay == nil {
		return
	}
	mergeValue(reflect.ValueOf(base).Elem(), reflect.ValueOf(overlay).Elem(), "")
}

// MergeContainer merges overlay onto base by the same rule as MergePodSpec.
func MergeContainer(base, overlay *v1.Container) {
	if base == nil || overlay == nil {
		return
	}
	mergeValue(reflect.ValueOf(base).Elem(), reflect.ValueOf(overlay).Elem(), "")
}

// MergeMaps returns the union of maps, later maps winning. It allocates only
// when there is something to merge and never mutates its inputs.
func MergeMaps(maps ...map[string]string) map[string]string {
	n := 0
	for _, m := range maps {
		n += len(m)
	}
	if n == 0 {
		return nil
	}
	out := make(map[string]string, n)
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// replacedLists are the lists an overlay replaces rather than merges: a
// command line is one value, and appending two of them runs nonsense.
var replacedLists = map[string]bool{"Args": true, "Command": true}

// keyFuncs name the identity of items in the named lists.
var keyFuncs = map[reflect.Type]func(reflect.Value) string{
	reflect.TypeOf(v1.Container{}):            byName,
	reflect.TypeOf(v1.EnvVar{}):               byName,
	reflect.TypeOf(v1.Volume{}):               byName,
	reflect.TypeOf(v1.VolumeMount{}):          byName,
	reflect.TypeOf(v1.LocalObjectReference{}): byName,
	reflect.TypeOf(v1.ContainerPort{}): func(v reflect.Value) string {
		// Ports are optional-named; an unnamed port is identified by number
		// and protocol.
		p := v.Interface().(v1.ContainerPort)
		if p.Name != "" {
			return p.Name
		}
		return strconv.Itoa(int(p.ContainerPort)) + "/" + string(p.Protocol)
	},
}

func byName(v reflect.Value) string { return v.FieldByName("Name").String() }

// wholeItems are named items an overlay replaces whole instead of merging
// field by field: their value is a one-of (an env var's value or
// valueFrom, a volume's source), and merging two of them makes an item
// Kubernetes rejects (an env var with both value and valueFrom).
var wholeItems = map[reflect.Type]bool{
	reflect.TypeOf(v1.EnvVar{}): true,
	reflect.TypeOf(v1.Volume{}): true,
}

var (
	resourcesType    = reflect.TypeOf(v1.ResourceRequirements{})
	nodeSelectorType = reflect.TypeOf(v1.NodeSelector{})
)

func mergeValue(dst, src reflect.Value, field string) {
	switch src.Kind() {
	case reflect.Struct:
		switch src.Type() {
		case resourcesType:
			mergeResources(dst.Addr().Interface().(*v1.ResourceRequirements), src.Interface().(v1.ResourceRequirements))
			return
		case nodeSelectorType:
			mergeNodeSelector(dst.Addr().Interface().(*v1.NodeSelector), src.Interface().(v1.NodeSelector))
			return
		}
		if !mergeable(src.Type()) {
			if !src.IsZero() {
				dst.Set(src)
			}
			return
		}
		t := src.Type()
		for i := 0; i < t.NumField(); i++ {
			mergeValue(dst.Field(i), src.Field(i), t.Field(i).Name)
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		if dst.IsNil() || src.Elem().Kind() != reflect.Struct || !mergeable(src.Elem().Type()) {
			dst.Set(deepCopy(src))
			return
		}
		mergeValue(dst.Elem(), src.Elem(), field)
	case reflect.Map:
		if src.Len() == 0 {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
		}
		iter := src.MapRange()
		for iter.Next() {
			dst.SetMapIndex(iter.Key(), iter.Value())
		}
	case reflect.Slice:
		if src.Len() == 0 {
			return
		}
		if replacedLists[field] {
			dst.Set(deepCopy(src))
			return
		}
		if key, ok := keyFuncs[src.Type().Elem()]; ok {
			mergeNamed(dst, src, key)
			return
		}
		appendUnique(dst, src)
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}

// mergeNamed merges each overlay item into the base item with the same key.
// An overlay that repeats a key (the same volume mounted at two paths) gets
// the second item appended rather than merged twice into one.
func mergeNamed(dst, src reflect.Value, key func(reflect.Value) string) {
	index := make(map[string]int, dst.Len())
	for i := 0; i < dst.Len(); i++ {
		if _, seen := index[key(dst.Index(i))]; !seen {
			index[key(dst.Index(i))] = i
		}
	}
	used := make(map[int]bool, src.Len())
	out := dst
	if out.IsNil() {
		out = reflect.MakeSlice(src.Type(), 0, src.Len())
	}
	for i := 0; i < src.Len(); i++ {
		item := src.Index(i)
		if j, ok := index[key(item)]; ok && !used[j] {
			used[j] = true
			if wholeItems[item.Type()] {
				out.Index(j).Set(deepCopy(item))
			} else {
				mergeValue(out.Index(j), item, "")
			}
			continue
		}
		if !containsEqual(out, item) {
			out = reflect.Append(out, deepCopy(item))
		}
	}
	dst.Set(out)
}

func containsEqual(list, item reflect.Value) bool {
	for j := 0; j < list.Len(); j++ {
		if reflect.DeepEqual(list.Index(j).Interface(), item.Interface()) {
			return true
		}
	}
	return false
}

func appendUnique(dst, src reflect.Value) {
	out := dst
	for i := 0; i < src.Len(); i++ {
		item := src.Index(i)
		if !containsEqual(out, item) {
			out = reflect.Append(out, deepCopy(item))
		}
	}
	dst.Set(out)
}

// mergeable reports whether a struct can be merged field by field. Structs
// with unexported fields (resource.Quantity, metav1.Time) are values: the
// overlay's replaces the base's.
func mergeable(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			return false
		}
	}
	return true
}

// deepCopy copies v so base and overlay never share memory after a merge.
func deepCopy(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Struct && v.CanAddr() {
		if m := v.Addr().MethodByName("DeepCopy"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
			return m.Call(nil)[0].Elem()
		}
	}
	if m := v.MethodByName("DeepCopy"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
		out := m.Call(nil)[0]
		if out.Type() == v.Type() {
			return out
		}
		if out.Kind() == reflect.Pointer && out.Type().Elem() == v.Type() {
			return out.Elem()
		}
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	}
	return v
}

// mergeResources merges requests and limits key by key, the overlay
// winning, and keeps each resource valid: a request the overlay raises
// above the base's limit raises the limit with it, and a limit the overlay
// lowers below the base's request lowers the request — what the overlay
// says is what the container gets, never a request above its limit, which
// Kubernetes rejects.
func mergeResources(dst *v1.ResourceRequirements, src v1.ResourceRequirements) {
	// Requests may not exceed limits: a raised request lifts the limit
	// (sign 1), a lowered limit drops the request (sign -1).
	mergeQuantities(&dst.Requests, &dst.Limits, src.Requests, src.Limits, 1)
	mergeQuantities(&dst.Limits, &dst.Requests, src.Limits, src.Requests, -1)
	if len(src.Claims) > 0 {
		appendUnique(reflect.ValueOf(&dst.Claims).Elem(), reflect.ValueOf(src.Claims))
	}
}

// mergeQuantities sets the overlay's quantities (set) into dst and, for a
// resource the overlay leaves unset on the other side, moves the other
// side's quantity along when it is on the wrong side of the new one (its
// comparison with the new one equals -sign).
func mergeQuantities(dst, other *v1.ResourceList, set, otherSet v1.ResourceList, sign int) {
	for name, q := range set {
		if *dst == nil {
			*dst = make(v1.ResourceList, len(set))
		}
		(*dst)[name] = q.DeepCopy()
		if _, both := otherSet[name]; both {
			continue
		}
		if o, ok := (*other)[name]; ok && o.Cmp(q) == -sign {
			(*other)[name] = q.DeepCopy()
		}
	}
}

// mergeNodeSelector combines required node-selector terms so that both
// sides still hold. Terms are OR-ed, so appending the overlay's would let a
// pod that satisfies only the overlay's term escape the base's (the
// platform's non-interruptible requirement, say); instead every base term
// is AND-ed with every overlay term, as Flyte itself adds a requirement to
// each existing term.
func mergeNodeSelector(dst *v1.NodeSelector, src v1.NodeSelector) {
	if len(src.NodeSelectorTerms) == 0 {
		return
	}
	if len(dst.NodeSelectorTerms) == 0 {
		dst.NodeSelectorTerms = src.DeepCopy().NodeSelectorTerms
		return
	}
	out := make([]v1.NodeSelectorTerm, 0, len(dst.NodeSelectorTerms)*len(src.NodeSelectorTerms))
	for _, b := range dst.NodeSelectorTerms {
		for _, o := range src.NodeSelectorTerms {
			t := *b.DeepCopy()
			appendUnique(reflect.ValueOf(&t.MatchExpressions).Elem(), reflect.ValueOf(o.MatchExpressions))
			appendUnique(reflect.ValueOf(&t.MatchFields).Elem(), reflect.ValueOf(o.MatchFields))
			if !containsEqual(reflect.ValueOf(out), reflect.ValueOf(t)) {
				out = append(out, t)
			}
		}
	}
	dst.NodeSelectorTerms = out
}

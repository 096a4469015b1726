// Package apicheck compares an object as a client built it with the object
// as the API server stored it, to find what the server pruned or changed.
//
// The API server prunes fields a CRD's structural schema does not declare,
// silently: a create succeeds and the field is gone. Lost reports such
// losses by walking what the client set, after a JSON round trip of both
// sides, and ignoring what the server added (defaults, metadata), so it
// can be used against CRDs that default fields.
package apicheck

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
)

// Lost returns one line per value that sent sets and stored does not hold
// equally: "spec.a.b: sent X, stored Y" or "spec.a.b: sent X, pruned".
// Both are turned into JSON first (anything encoding/json accepts: typed
// objects, unstructured maps, raw JSON as json.RawMessage). A JSON null in
// sent counts as unset: the API server drops nulls for fields its schema
// does not make nullable. Lists must keep their length and order. Paths are
// dotted, with [i] for list items; the result is sorted.
func Lost(sent, stored any) ([]string, error) {
	a, err := generic(sent)
	if err != nil {
		return nil, fmt.Errorf("apicheck: sent object: %w", err)
	}
	b, err := generic(stored)
	if err != nil {
		return nil, fmt.Errorf("apicheck: stored object: %w", err)
	}
	var out []string
	walk("", a, b, true, &out)
	sort.Strings(out)
	return out, nil
}

func generic(v any) (any, error) {
	var raw []byte
	switch v := v.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func walk(path string, sent, stored any, present bool, out *[]string) {
	if sent == nil {
		return
	}
	if !present {
		*out = append(*out, fmt.Sprintf("%s: sent %s, pruned", display(path), short(sent)))
		return
	}
	switch s := sent.(type) {
	case map[string]any:
		m, ok := stored.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: sent %s, stored %s", display(path), short(sent), short(stored)))
			return
		}
		for k, v := range s {
			sv, has := m[k]
			walk(join(path, k), v, sv, has, out)
		}
	case []any:
		l, ok := stored.([]any)
		if !ok || len(l) != len(s) {
			*out = append(*out, fmt.Sprintf("%s: sent %s, stored %s", display(path), short(sent), short(stored)))
			return
		}
		for i := range s {
			walk(path+"["+strconv.Itoa(i)+"]", s[i], l[i], true, out)
		}
	default:
		if !reflect.DeepEqual(sent, stored) {
			*out = append(*out, fmt.Sprintf("%s: sent %s, stored %s", display(path), short(sent), short(stored)))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func display(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

// short renders a value for a message, cut to keep reports readable.
func short(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const limit = 120
	if len(raw) > limit {
		return string(raw[:limit]) + "…"
	}
	return string(raw)
}

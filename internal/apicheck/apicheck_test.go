package apicheck_test

import (
	"encoding/json"
	"testing"

	"github.com/flytedist/flyteplugins/internal/apicheck"
)

func TestLost(t *testing.T) {
	for _, tc := range []struct {
		name         string
		sent, stored string
		want         []string
	}{
		{"equal", `{"a":{"b":[1,"x"]}}`, `{"a":{"b":[1,"x"]}}`, nil},
		{"server defaults are fine", `{"a":{"b":1}}`, `{"a":{"b":1,"c":2},"d":true}`, nil},
		{"null is unset", `{"a":null,"b":{"c":null}}`, `{"b":{}}`, nil},
		{"pruned key", `{"spec":{"x":{"y":"z"},"k":1}}`, `{"spec":{"k":1}}`, []string{`spec.x: sent {"y":"z"}, pruned`}},
		{"pruned in a list item", `{"l":[{"n":"a","bad":1},{"n":"b"}]}`, `{"l":[{"n":"a"},{"n":"b"}]}`, []string{`l[0].bad: sent 1, pruned`}},
		{"changed scalar", `{"a":"1Gi"}`, `{"a":"1024Mi"}`, []string{`a: sent "1Gi", stored "1024Mi"`}},
		{"list length", `{"a":[1,2]}`, `{"a":[1]}`, []string{`a: sent [1,2], stored [1]`}},
		{"type change", `{"a":{"b":1}}`, `{"a":"b"}`, []string{`a: sent {"b":1}, stored "b"`}},
		{"empty map kept", `{"a":{}}`, `{"a":{}}`, nil},
		{"empty map pruned", `{"a":{}}`, `{}`, []string{`a: sent {}, pruned`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := apicheck.Lost(json.RawMessage(tc.sent), json.RawMessage(tc.stored))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Lost = %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("Lost[%d] = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLostTypedValues(t *testing.T) {
	type spec struct {
		Name  string            `json:"name"`
		Extra map[string]string `json:"extra,omitempty"`
	}
	got, err := apicheck.Lost(spec{Name: "a", Extra: map[string]string{"k": "v"}}, map[string]any{"name": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != `extra: sent {"k":"v"}, pruned` {
		t.Errorf("Lost = %q", got)
	}
	if _, err := apicheck.Lost(func() {}, nil); err == nil {
		t.Error("an unmarshalable value is an error")
	}
}

package kit

import (
	"fmt"
	"reflect"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// As casts the object propeller hands a plugin to the plugin's resource
// type. A foreign or nil object (typed or not) is an error, never a panic.
func As[T client.Object](plugin string, r client.Object) (T, error) {
	obj, ok := r.(T)
	var zero T
	if v := reflect.ValueOf(obj); !ok || !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return zero, fmt.Errorf("%s plugin: expected a %T, got %T", plugin, zero, r)
	}
	return obj, nil
}

// FirstTime is the first of times that is set: how a plugin picks the
// completion time from what its operator reports, most precise first.
func FirstTime(times ...time.Time) time.Time {
	for _, t := range times {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

package kit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	v1 "k8s.io/api/core/v1"
)

func TestAs(t *testing.T) {
	pod := &v1.Pod{}
	got, err := As[*v1.Pod]("test", pod)
	assert.NoError(t, err)
	assert.Same(t, pod, got)

	_, err = As[*v1.Pod]("test", &v1.Service{})
	assert.EqualError(t, err, "test plugin: expected a *v1.Pod, got *v1.Service")
	_, err = As[*v1.Pod]("test", nil)
	assert.Error(t, err)
	var nilPod *v1.Pod
	_, err = As[*v1.Pod]("test", nilPod)
	assert.Error(t, err, "a typed nil is refused too")
}

func TestFirstTime(t *testing.T) {
	a := time.Unix(100, 0)
	assert.Equal(t, a, FirstTime(time.Time{}, a, time.Unix(200, 0)))
	assert.True(t, FirstTime().IsZero())
	assert.True(t, FirstTime(time.Time{}).IsZero())
}

package kit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	v1 "k8s.io/api/core/v1"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/kit"
)

func TestSetEnv(t *testing.T) {
	c := &v1.Container{Env: []v1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}}}
	kit.SetEnv(c, v1.EnvVar{Name: "B", Value: "new"}, v1.EnvVar{Name: "C", Value: "3"})
	assert.Equal(t, []v1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "new"}, {Name: "C", Value: "3"}}, c.Env)

	empty := &v1.Container{}
	kit.SetEnv(empty)
	assert.Nil(t, empty.Env)
}

func TestSetPorts(t *testing.T) {
	c := &v1.Container{Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 80}, {ContainerPort: 9000}}}
	kit.SetPorts(c,
		v1.ContainerPort{Name: "http", ContainerPort: 8080},
		v1.ContainerPort{ContainerPort: 9000},
		v1.ContainerPort{ContainerPort: 9000, Protocol: v1.ProtocolUDP},
		v1.ContainerPort{Name: "dashboard", ContainerPort: 8265},
	)
	assert.Equal(t, []v1.ContainerPort{
		{Name: "http", ContainerPort: 8080},
		{ContainerPort: 9000},
		{ContainerPort: 9000, Protocol: v1.ProtocolUDP},
		{Name: "dashboard", ContainerPort: 8265},
	}, c.Ports)
}

func TestMoveFirst(t *testing.T) {
	names := func(cs []v1.Container) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.Name
		}
		return out
	}
	cs := []v1.Container{{Name: "a"}, {Name: "b"}, {Name: "main"}, {Name: "c"}}
	assert.True(t, kit.MoveFirst(cs, "main"))
	assert.Equal(t, []string{"main", "a", "b", "c"}, names(cs))
	assert.True(t, kit.MoveFirst(cs, "main"))
	assert.Equal(t, []string{"main", "a", "b", "c"}, names(cs))
	assert.False(t, kit.MoveFirst(cs, "missing"))
	assert.False(t, kit.MoveFirst(nil, "x"))
}

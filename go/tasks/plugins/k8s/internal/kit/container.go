package kit

import (
	"slices"

	v1 "k8s.io/api/core/v1"
)

// SetEnv sets environment variables on a container by name (see
// WithEnv). It never leaves two variables with one name.
func SetEnv(c *v1.Container, vars ...v1.EnvVar) {
	c.Env = WithEnv(c.Env, vars...)
}

// WithEnv sets vars in env by name: a variable env already has is replaced
// in place, a new one appended. It returns the list, which shares memory
// with env as append does.
func WithEnv(env []v1.EnvVar, vars ...v1.EnvVar) []v1.EnvVar {
	for _, v := range vars {
		if i := slices.IndexFunc(env, func(e v1.EnvVar) bool { return e.Name == v.Name }); i >= 0 {
			env[i] = v
			continue
		}
		env = append(env, v)
	}
	return env
}

// SetPorts sets container ports by name (unnamed ports by number and
// protocol), replacing a port the container already has and appending the
// rest, so a port is never declared twice.
func SetPorts(c *v1.Container, ports ...v1.ContainerPort) {
	for _, p := range ports {
		if i := indexPort(c.Ports, p); i >= 0 {
			c.Ports[i] = p
			continue
		}
		c.Ports = append(c.Ports, p)
	}
}

func indexPort(ports []v1.ContainerPort, p v1.ContainerPort) int {
	for i := range ports {
		if p.Name != "" && ports[i].Name == p.Name {
			return i
		}
		if p.Name == "" && ports[i].Name == "" && ports[i].ContainerPort == p.ContainerPort && ports[i].Protocol == p.Protocol {
			return i
		}
	}
	return -1
}

// MoveFirst moves the named container to index 0, keeping the order of the
// others. Operators that take "the first container" as the main one (KubeRay)
// need the primary there. It reports whether the container was found.
func MoveFirst(containers []v1.Container, name string) bool {
	for i := range containers {
		if containers[i].Name == name {
			if i > 0 {
				c := containers[i]
				copy(containers[1:i+1], containers[:i])
				containers[0] = c
			}
			return true
		}
	}
	return false
}

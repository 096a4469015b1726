package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/flyteorg/flyte/flyteplugins/go/tasks/pluginmachinery/core"
)

// Secrets reads credentials from the platform's secret manager on every
// call. Get and Delete of a web-API plugin have no task context; the
// setup-time manager serves them, and when there is none the value the last
// task context gave for that key (kept in memory only, never in plugin
// state).
type Secrets struct {
	// Manager is the setup-time secret manager, if propeller offered one.
	Manager core.SecretManager
	// What names the credential in errors ("Databricks token").
	What string
	last sync.Map
}

// FromTask reads key through a task's secret manager.
func (s *Secrets) FromTask(ctx context.Context, m core.SecretManager, key string) (string, error) {
	v, err := m.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("reading the %s from secret %q: %w", s.What, key, err)
	}
	if v == "" {
		return "", fmt.Errorf("the %s in secret %q is empty", s.What, key)
	}
	s.last.Store(key, v)
	return v, nil
}

// Get reads key outside a task context. warn, when set, is told why the
// setup-time manager could not give it.
func (s *Secrets) Get(ctx context.Context, key string, warn func(string)) (string, error) {
	if s.Manager != nil {
		v, err := s.Manager.Get(ctx, key)
		if err == nil && v != "" {
			s.last.Store(key, v)
			return v, nil
		}
		if warn != nil {
			warn(fmt.Sprintf("reading the %s from secret %q failed: %v", s.What, key, err))
		}
	}
	if v, ok := s.last.Load(key); ok {
		return v.(string), nil
	}
	return "", fmt.Errorf("no %s available from secret %q", s.What, key)
}

// Redact removes every copy of each secret from s.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// Snippet is a short printable excerpt of a body that is not the API's JSON.
func Snippet(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ScrubTransportError keeps a transport error's text (net/http's names the
// URL, never headers) but makes sure no secret appears in it, and marks
// timeouts; a cancelled context stays recognisable with errors.Is.
func ScrubTransportError(err error, secrets ...string) error {
	msg := Redact(err.Error(), secrets...)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timed out: %s", msg)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", msg, context.Canceled)
	}
	return errors.New(msg)
}

package databricks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// router decides where a run goes and which secret holds the token sent
// there: the platform's token must only ever reach hosts the platform chose.
type router struct {
	// defaultInstance is plugins.databricks.databricksInstance, normalised
	// (empty if unset).
	defaultInstance string
	// allowed holds the normalised hosts a task may choose.
	allowed map[string]bool
	// tokenKey is the secret key used when no namespace key applies.
	tokenKey string
	// namespaceKeys maps a namespace to its secret key.
	namespaceKeys map[string]string
}

func newRouter(cfg *Config) (router, error) {
	r := router{
		allowed:       map[string]bool{},
		tokenKey:      cfg.TokenKey,
		namespaceKeys: map[string]string{},
	}
	if cfg.DatabricksInstance != "" {
		h, err := normalizeInstance(cfg.DatabricksInstance)
		if err != nil {
			return router{}, fmt.Errorf("plugins.databricks.databricksInstance: %w", err)
		}
		r.defaultInstance = h
		r.allowed[h] = true
	}
	for i, a := range cfg.AllowedInstances {
		h, err := normalizeInstance(a)
		if err != nil {
			return router{}, fmt.Errorf("plugins.databricks.allowedInstances[%d]: %w", i, err)
		}
		r.allowed[h] = true
	}
	for ns, key := range cfg.NamespaceTokenKeys {
		r.namespaceKeys[ns] = key
	}
	return r, nil
}

// instance picks the host for a task that asked for taskInstance (may be
// empty). note, when set, explains why the task's choice was not taken; err is
// set when there is no host to use at all.
func (r router) instance(taskInstance string) (host, note string, err error) {
	if taskInstance != "" {
		h, nerr := normalizeInstance(taskInstance)
		switch {
		case nerr != nil:
			note = fmt.Sprintf("the task's databricksInstance %q is not a valid host (%v)", taskInstance, nerr)
		case r.allowed[h]:
			return h, "", nil
		default:
			note = fmt.Sprintf("the task's databricksInstance %q is not in plugins.databricks.allowedInstances", taskInstance)
		}
	}
	if r.defaultInstance == "" {
		if note == "" {
			note = "the task gives no databricksInstance"
		}
		return "", note, fmt.Errorf("no Databricks instance to send the run to: %s and plugins.databricks.databricksInstance is empty", note)
	}
	if note != "" {
		note += fmt.Sprintf("; using the configured instance %q", r.defaultInstance)
	}
	return r.defaultInstance, note, nil
}

// trusts checks plugin state before a token is sent where it says: the
// host must be one this config allows and the secret key one it names.
// Plugin state lives in the FlyteWorkflow object, which is not the config;
// whoever can edit one must not be able to send a secret anywhere.
func (r router) trusts(m RunMeta) error {
	if h, err := normalizeInstance(m.Instance); err != nil || h != m.Instance || !r.allowed[h] {
		return fmt.Errorf("instance %q is not plugins.databricks.databricksInstance or in allowedInstances", m.Instance)
	}
	if m.TokenKey == r.tokenKey {
		return nil
	}
	for _, k := range r.namespaceKeys {
		if k == m.TokenKey {
			return nil
		}
	}
	return fmt.Errorf("secret key %q is not plugins.databricks.databricksTokenKey or a namespaceTokenKeys value", m.TokenKey)
}

// tokenKeyFor is the secret key holding the token for runs from namespace.
func (r router) tokenKeyFor(namespace string) string {
	if k, ok := r.namespaceKeys[namespace]; ok {
		return k
	}
	return r.tokenKey
}

var (
	hostnamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	ipv6Pattern     = regexp.MustCompile(`^\[[0-9a-f:.]+\]$`)
)

// normalizeInstance turns an instance as configs and tasks write it
// ("host", "host:port", "https://host/") into a lower-case host[:port]. It
// refuses anything else — other schemes, paths, user info, queries — so that
// "https://" + the result always names exactly that host.
func normalizeInstance(s string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(h, "https://"); ok {
		h = rest
	} else if strings.Contains(h, "://") {
		return "", fmt.Errorf("instance %q: only https is supported; give a bare host", s)
	}
	h = strings.TrimSuffix(h, "/")
	if h == "" {
		return "", fmt.Errorf("instance %q is empty", s)
	}
	if len(h) > 260 {
		return "", fmt.Errorf("instance %q is too long", s)
	}
	host, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		host, port = h[:i], h[i+1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", fmt.Errorf("instance %q: bad port %q", s, port)
		}
	}
	if !hostnamePattern.MatchString(host) && !ipv6Pattern.MatchString(host) {
		return "", fmt.Errorf("instance %q: want a host name or host:port, nothing else", s)
	}
	return h, nil
}

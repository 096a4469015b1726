package ray

import "strings"

// shellJoin joins command lines into one POSIX shell command line, the
// form KubeRay's RayJob entrypoint takes (it hands it to a shell via `ray
// job submit`). Each argument is quoted only when it needs it, so plain
// arguments read as they are and every argument — empty, with spaces,
// quotes or `$` — reaches the job exactly.
func shellJoin(parts ...[]string) string {
	n := 0
	for _, p := range parts {
		for _, a := range p {
			n += len(a) + 3
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		for _, a := range p {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			writeShellQuoted(&b, a)
		}
	}
	return b.String()
}

// writeShellQuoted writes s as one shell word: as-is when every byte is
// safe, else in single quotes, each single quote written as '"'"'.
func writeShellQuoted(b *strings.Builder, s string) {
	if s != "" && shellSafe(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(`'"'"'`)
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}

// shellSafe reports whether s needs no quoting: letters, digits and
// @%+=:,./_- only (Python's shlex.quote set).
func shellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("@%+=:,./_-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

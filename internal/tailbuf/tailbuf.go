// Package tailbuf keeps the tail of a process's output (a control plane's,
// an operator's, a Slurm daemon's) to show when something fails. It is its
// own package so test helpers that must stay light (internal/slurmenv) can
// share it with internal/testenv without linking Kubernetes.
package tailbuf

import "sync"

// Buffer is an io.Writer, safe for concurrent use, that keeps only the last
// max bytes written.
type Buffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// New returns a Buffer keeping the last max bytes.
func New(max int) *Buffer { return &Buffer{max: max} }

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// Cap is the most the buffer keeps.
func (b *Buffer) Cap() int { return b.max }

// String returns what the buffer holds.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

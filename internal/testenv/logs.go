package testenv

import "github.com/flytedist/flyteplugins/internal/tailbuf"

// TailBuffer keeps the last bytes of a process's output (the control
// plane's, an operator's), shown when something fails.
type TailBuffer = tailbuf.Buffer

// NewTailBuffer returns a TailBuffer keeping the last max bytes.
func NewTailBuffer(max int) *TailBuffer { return tailbuf.New(max) }

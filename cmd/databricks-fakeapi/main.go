// Command databricks-fakeapi serves a local Databricks Jobs API (package
// go/tasks/plugins/webapi/databricks/fakeapi) over HTTPS on a loopback
// address, for the demo and for trying the Databricks plugin by hand.
//
// It prints the server's URL as the first line on stdout; the plugin's
// databricksInstance is that URL without "https://". Without -tls-cert and
// -tls-key it makes a self-signed certificate for the address and, with
// -ca-out, writes it where SSL_CERT_FILE can point, so that propeller (or
// curl --cacert) trusts the server through the system pool.
//
// Usage:
//
//	databricks-fakeapi -addr 127.0.0.1:8443 -token dapi-demo -ca-out /tmp/fakeapi-ca.pem \
//	    -tick 2s -fault submit:unavailable:2 -fault get:drop-connection:1:after
//
// Faults are endpoint:kind[:count[:after]] with endpoint submit, get or
// cancel and kind rate-limit, internal-error, unavailable, slow,
// malformed-json or drop-connection; -retry-after and -slow parametrise
// rate-limit and slow. While it runs, the admin endpoints under /fakeapi/
// (see package fakeapi) inject more faults, advance runs and pick outcomes.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "databricks-fakeapi:", err)
		os.Exit(2)
	}
}

const localhost = "localhost"

// faultFlags collects repeated -fault values.
type faultFlags []string

func (f *faultFlags) String() string     { return strings.Join(*f, ",") }
func (f *faultFlags) Set(v string) error { *f = append(*f, v); return nil }

// options is the parsed command line.
type options struct {
	addr, certFile, keyFile, caOut, token string
	api                                   fakeapi.Options
	faults                                []faultSpec
}

type faultSpec struct {
	endpoint fakeapi.Endpoint
	fault    fakeapi.Fault
	count    int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("databricks-fakeapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var (
		tick                                  time.Duration
		queued, pending, running, terminating time.Duration
		outcome                               string
		faults                                faultFlags
		retryAfter, slow                      time.Duration
	)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8443", "loopback `host:port` to listen on (port 0 picks one)")
	fs.StringVar(&o.certFile, "tls-cert", "", "PEM certificate `file` (default: a self-signed one for -addr)")
	fs.StringVar(&o.keyFile, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.StringVar(&o.caOut, "ca-out", "", "write the self-signed certificate to this `file` (for SSL_CERT_FILE)")
	fs.StringVar(&o.token, "token", "", "bearer `token` clients must send (required)")
	fs.DurationVar(&tick, "tick", 2*time.Second, "how long a run stays in each state before moving on")
	fs.DurationVar(&queued, "queued", -1, "time in QUEUED (default -tick)")
	fs.DurationVar(&pending, "pending", -1, "time in PENDING (default -tick)")
	fs.DurationVar(&running, "running", -1, "time in RUNNING (default -tick)")
	fs.DurationVar(&terminating, "terminating", -1, "time in TERMINATING (default -tick)")
	fs.BoolVar(&o.api.Manual, "manual", false, "runs move only when advanced through POST /fakeapi/advance")
	fs.StringVar(&outcome, "outcome", string(fakeapi.OutcomeSuccess), "how runs end unless told otherwise: "+outcomeNames())
	fs.BoolVar(&o.api.StatusOnly, "status-only", false, "answer runs/get with the 2.2 status object only")
	fs.Var(&faults, "fault", "inject `endpoint:kind[:count[:after]]` (repeatable)")
	fs.DurationVar(&retryAfter, "retry-after", time.Second, "Retry-After sent with rate-limit faults")
	fs.DurationVar(&slow, "slow", 5*time.Second, "delay of slow faults")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.token == "" {
		return nil, errors.New("-token is required")
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if o.certFile != "" && o.caOut != "" {
		return nil, errors.New("-ca-out writes the self-signed certificate; it makes no sense with -tls-cert")
	}
	if err := requireLoopback(o.addr); err != nil {
		return nil, err
	}
	if tick < 0 {
		return nil, errors.New("-tick must not be negative")
	}
	pick := func(d time.Duration) time.Duration {
		if d < 0 {
			return tick
		}
		return d
	}
	o.api.Token = o.token
	o.api.Durations = fakeapi.Durations{Queued: pick(queued), Pending: pick(pending), Running: pick(running), Terminating: pick(terminating)}
	out, ok := fakeapi.ParseOutcome(outcome)
	if !ok {
		return nil, fmt.Errorf("-outcome %q: want one of %s", outcome, outcomeNames())
	}
	o.api.DefaultOutcome = out
	for _, f := range faults {
		spec, err := parseFault(f, retryAfter, slow)
		if err != nil {
			return nil, err
		}
		o.faults = append(o.faults, spec)
	}
	return o, nil
}

func outcomeNames() string {
	names := make([]string, len(fakeapi.Outcomes))
	for i, o := range fakeapi.Outcomes {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

// parseFault reads endpoint:kind[:count[:after]].
func parseFault(s string, retryAfter, slow time.Duration) (faultSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 4 {
		return faultSpec{}, fmt.Errorf("-fault %q: want endpoint:kind[:count[:after]]", s)
	}
	ep, ok := fakeapi.ParseEndpoint(parts[0])
	if !ok {
		return faultSpec{}, fmt.Errorf("-fault %q: unknown endpoint %q (want one of %v)", s, parts[0], fakeapi.Endpoints)
	}
	spec := faultSpec{endpoint: ep, count: 1, fault: fakeapi.Fault{Kind: fakeapi.FaultKind(parts[1]), RetryAfter: retryAfter, Delay: slow}}
	if err := spec.fault.Validate(); err != nil {
		return faultSpec{}, fmt.Errorf("-fault %q: %w", s, err)
	}
	if len(parts) >= 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return faultSpec{}, fmt.Errorf("-fault %q: count %q is not a positive integer", s, parts[2])
		}
		spec.count = n
	}
	if len(parts) == 4 {
		if parts[3] != "after" {
			return faultSpec{}, fmt.Errorf("-fault %q: the fourth field can only be \"after\"", s)
		}
		spec.fault.AfterEffect = true
	}
	return spec, nil
}

// requireLoopback refuses to listen anywhere but on this machine: the server
// accepts a token and has no real security.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == localhost {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", addr)
}

// run serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	api := fakeapi.New(o.api)
	for _, f := range o.faults {
		if err := api.InjectFault(f.endpoint, f.fault, f.count); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer func() { _ = ln.Close() }()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if h, _, _ := net.SplitHostPort(o.addr); h == localhost {
		host = h
	}
	instance := net.JoinHostPort(host, port)

	cert, err := loadOrMakeCert(o, host)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		// HTTP/1.1 only: drop-connection faults hijack the connection.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}

	if _, err := fmt.Fprintf(stdout, "https://%s\n", instance); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(stderr, "databricks-fakeapi: serving the Databricks Jobs API at https://%s (databricksInstance: %s)\n", instance, instance)
	if o.caOut != "" {
		_, _ = fmt.Fprintf(stderr, "databricks-fakeapi: trust it with SSL_CERT_FILE=%s\n", o.caOut)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadOrMakeCert loads -tls-cert/-tls-key, or makes a self-signed
// certificate for host (and writes it to -ca-out).
func loadOrMakeCert(o *options, host string) (tls.Certificate, error) {
	if o.certFile != "" {
		return tls.LoadX509KeyPair(o.certFile, o.keyFile)
	}
	c, err := fakeapi.NewLoopbackCert(host)
	if err != nil {
		return tls.Certificate{}, err
	}
	if o.caOut != "" {
		if err := os.WriteFile(o.caOut, c.CertPEM, 0o600); err != nil { // #nosec G703 -- the operator's own -ca-out path
			return tls.Certificate{}, err
		}
	}
	return c.TLS, nil
}

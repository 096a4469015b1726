package demo

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/webapi/databricks/fakeapi"
)

// localJobsAPI is the local Databricks Jobs API (package fakeapi) served over
// HTTPS on loopback with a certificate from the demo's test CA.
type localJobsAPI struct {
	api *fakeapi.Server
	srv *http.Server
	// Instance is the workspace host to configure: 127.0.0.1:<port>.
	Instance string
	// Token is the bearer token the server accepts.
	Token string
	// CAFile is the PEM file of the CA that signed the server's certificate.
	CAFile string
}

func startLocalJobsAPI(dir string) (*localJobsAPI, error) {
	// A throwaway CA: its PEM goes into the file FlytePropeller trusts
	// through SSL_CERT_FILE, so the plugin's production HTTPS path runs
	// unchanged, certificate verification included.
	ca, err := fakeapi.NewLoopbackCert()
	if err != nil {
		return nil, err
	}
	cert := ca.TLS
	caFile := filepath.Join(dir, "demo-ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		return nil, err
	}
	token, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	token = "dapi" + token
	api := fakeapi.New(fakeapi.Options{
		Token: token,
		// Long enough in PENDING and RUNNING for propeller's status cache
		// (resynced every 5 s in the demo config) to see each.
		Durations: fakeapi.Durations{Queued: time.Second, Pending: 5 * time.Second, Running: 6 * time.Second, Terminating: time.Second},
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	go func() {
		if err := srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("local Databricks Jobs API stopped: %v\n", err)
		}
	}()
	return &localJobsAPI{
		api:      api,
		srv:      srv,
		Instance: "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port),
		Token:    token,
		CAFile:   caFile,
	}, nil
}

func (j *localJobsAPI) stop() { _ = j.srv.Close() }

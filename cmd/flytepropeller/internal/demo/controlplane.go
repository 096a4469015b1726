package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// controlPlane is a local etcd and kube-apiserver on loopback: the binaries
// hack/k8s/build.sh builds, started the way the platform spec describes
// (etcd without fsync in a temporary directory; kube-apiserver on 127.0.0.1
// with a token file, a self-signed serving certificate, a service-account key
// pair and no endpoint reconciler).
type controlPlane struct {
	etcd, apiserver *proc
	// Kubeconfig is an administrator's kubeconfig file (system:masters).
	Kubeconfig string
	// Config is the same as a client config.
	Config *rest.Config
	// Version is what the API server reports, e.g. v1.37.2.
	Version string
}

// startControlPlane starts etcd and kube-apiserver from binDir with their
// state under dir. On error, stop what was started with stop.
func startControlPlane(ctx context.Context, sp *spawner, binDir, dir string, log io.Writer) (*controlPlane, error) {
	cp := &controlPlane{}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cp, err
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if fi, err := os.Stat(filepath.Join(binDir, b)); err != nil || fi.IsDir() {
			return cp, fmt.Errorf("%s not found in %s: run `bash hack/k8s/build.sh` (or `make k8s-bins`) first", b, binDir)
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return cp, err
	}
	clientPort, peerPort, apiPort := ports[0], ports[1], ports[2]

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	cp.etcd, err = sp.start("etcd", []string{
		filepath.Join(binDir, "etcd"),
		"--name=demo",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=demo=" + peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}, nil, filepath.Join(dir, "etcd.log"))
	if err != nil {
		return cp, err
	}
	begin := time.Now()
	if err := waitFor(ctx, 60*time.Second, cp.etcd, func() bool {
		resp, err := http.Get(etcdURL + "/health") // #nosec G107 -- loopback
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"true"`)
	}); err != nil {
		return cp, fmt.Errorf("etcd: %w", err)
	}
	fmt.Fprintf(log, "    etcd ready on %s (%s)\n", etcdURL, since(begin))

	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return cp, err
	}
	token, err := randomHex(16)
	if err != nil {
		return cp, err
	}
	tokenFile := filepath.Join(pki, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+`,demo-admin,demo-admin,"system:masters"`+"\n"), 0o600); err != nil {
		return cp, err
	}
	saKey, saPub, err := writeServiceAccountKeys(pki)
	if err != nil {
		return cp, err
	}
	begin = time.Now()
	cp.apiserver, err = sp.start("kube-apiserver", []string{
		filepath.Join(binDir, "kube-apiserver"),
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + pki,
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-key-file=" + saPub,
		"--service-account-signing-key-file=" + saKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none",
		// No controller manager creates service accounts.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
	}, nil, filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return cp, err
	}
	host := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	insecure := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // #nosec G402 -- only to learn when it is up; real clients verify
	}}
	if err := waitFor(ctx, 90*time.Second, cp.apiserver, func() bool {
		req, _ := http.NewRequest(http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := insecure.Do(req)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		return cp, fmt.Errorf("kube-apiserver: %w", err)
	}
	// The serving certificate the server generated (with its CA appended).
	ca, err := os.ReadFile(filepath.Join(pki, "apiserver.crt")) // #nosec G304 -- our own file
	if err != nil {
		return cp, fmt.Errorf("kube-apiserver's serving certificate: %w", err)
	}
	cp.Config = &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	cp.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(cp.Kubeconfig, host, ca, token); err != nil {
		return cp, err
	}
	if cp.Version, err = serverVersion(cp.Config); err != nil {
		return cp, fmt.Errorf("kube-apiserver is up but its certificate or token does not work: %w", err)
	}
	fmt.Fprintf(log, "    kube-apiserver %s ready on %s (%s)\n", cp.Version, host, since(begin))
	return cp, nil
}

// stop stops kube-apiserver, then etcd.
func (cp *controlPlane) stop() {
	if cp.apiserver != nil {
		cp.apiserver.stop(10 * time.Second)
	}
	if cp.etcd != nil {
		cp.etcd.stop(10 * time.Second)
	}
}

// waitFor polls ok until it returns true, p exits, ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, p *proc, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if p != nil && !p.running() {
			return p.exitError()
		}
		if time.Now().After(deadline) {
			if p != nil {
				return fmt.Errorf("not ready after %s; last lines of %s:\n%s", timeout, p.logPath, tail(p.logPath))
			}
			return fmt.Errorf("not ready after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return errStopped
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct free loopback TCP ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeServiceAccountKeys writes an RSA key pair for signing service-account
// tokens and returns the key and public-key file names.
func writeServiceAccountKeys(dir string) (keyFile, pubFile string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	keyFile, pubFile = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return "", "", err
	}
	return keyFile, pubFile, nil
}

func writeKubeconfig(path, host string, ca []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	const name = "flytedist-demo"
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca}
	cfg.AuthInfos["demo-admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: "demo-admin"}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, path)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }

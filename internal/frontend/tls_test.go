package frontend

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and returns the
// file paths and a pool trusting it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ser test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServe runs the listener over HTTP and HTTPS, calls the bridge and
// closes it.
func TestServe(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	for _, tt := range []struct {
		name       string
		cert, key  string
		scheme     string
		clientConf *tls.Config
	}{
		{name: "http", scheme: "http"},
		{name: "https", cert: certFile, key: keyFile, scheme: "https", clientConf: &tls.Config{RootCAs: pool}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Start(rpc.NewLocal(rpc.NewRegistry()), Options{
				Listen: "127.0.0.1:0", CertFile: tt.cert, KeyFile: tt.key, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: tt.clientConf}, Timeout: 5 * time.Second}
			body := `<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName></methodCall>`
			resp, err := client.Post(tt.scheme+"://"+f.Addr()+"/xmlrpc", "text/xml", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), "system.listMethods") {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			f.Close() // returns once the listener ended
			if c, err := net.DialTimeout("tcp", f.Addr(), time.Second); err == nil {
				c.Close()
				t.Fatal("listener open after Close")
			}
		})
	}
}

// TestBadCertificate: a certificate that does not load, or one without a
// key, fails the start and leaves no listener.
func TestBadCertificate(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, o := range []Options{
		{Listen: addr, CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem", Log: log},
		{Listen: addr, CertFile: "/nonexistent/cert.pem", Log: log},
	} {
		if f, err := Start(rpc.NewLocal(rpc.NewRegistry()), o); err == nil {
			f.Close()
			t.Fatalf("started with %+v", o)
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatal("a listener is open after the failed start")
		}
	}
}

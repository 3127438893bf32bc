package xmlrpc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
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

// TestServe runs the stand-alone server over HTTP and HTTPS and stops it
// with its context.
func TestServe(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	tests := []struct {
		name      string
		opts      Options
		scheme    string
		transport http.RoundTripper
	}{
		{name: "http", scheme: "http", transport: &http.Transport{}},
		{name: "https", opts: Options{CertFile: certFile, KeyFile: keyFile}, scheme: "https",
			transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.opts.Logger = quietLogger()
			s, err := New(rpc.NewLocal(f.reg), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, ln) }()

			var res execResult
			err = callWith(t, tt.scheme+"://"+ln.Addr().String()+"/xmlrpc", tt.transport, &res)
			if err != nil || res.Code != 200 {
				t.Fatalf("call: %+v, %v", res, err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Serve did not stop")
			}
		})
	}
}

// callWith runs the seed request with a kolo client over transport.
func callWith(t *testing.T, url string, transport http.RoundTripper, res *execResult) error {
	t.Helper()
	c := newKoloTransport(t, url, transport)
	return c.Call("fifo.execute", map[string]any{"cmdname": "ul_show_contact", "cmdparams": []string{"location", "012345"}}, res)
}

// TestServeBadCertificate fails fast and closes the listener.
func TestServeBadCertificate(t *testing.T) {
	s, err := New(rpc.NewLocal(newFixture(t).reg), Options{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err == nil {
		t.Fatal("Serve succeeded")
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("listener still open")
	}
}

// TestHTTPServerTimeouts checks the defaults derived from CallTimeout.
func TestHTTPServerTimeouts(t *testing.T) {
	s, err := New(rpc.NewLocal(newFixture(t).reg), Options{CallTimeout: 3 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := s.HTTPServer(s.Handler())
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 8*time.Second || srv.IdleTimeout != 120*time.Second {
		t.Fatalf("timeouts %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}

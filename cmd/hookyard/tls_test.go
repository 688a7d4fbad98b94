package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial number.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "hookyard test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(keyFile+".tmp", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	os.WriteFile(certFile+".tmp", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	// Rename both into place so the listener never sees a half-written pair.
	os.Rename(keyFile+".tmp", keyFile)
	os.Rename(certFile+".tmp", certFile)
}

func serialOf(t *testing.T, addr string, cfg *tls.Config) (int64, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// TestTLSMinimumAndReload: the public listener refuses TLS 1.1, serves 1.2+,
// and picks up a replaced certificate without a restart.
func TestTLSMinimumAndReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	sk := newSink(t, nil)
	n := startNodeTLS(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}", certFile, keyFile)

	if _, err := serialOf(t, n.publicAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	if s, err := serialOf(t, n.publicAddr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}); err != nil || s != 1 {
		t.Fatalf("TLS 1.2: serial %d, %v", s, err)
	}
	// Replace the certificate (a later modification time) and watch it
	// being served.
	time.Sleep(10 * time.Millisecond)
	writeCert(t, certFile, keyFile, 2)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(certFile, future, future)
	os.Chtimes(keyFile, future, future)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := serialOf(t, n.publicAddr, &tls.Config{InsecureSkipVerify: true})
		if err == nil && s == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new certificate never served (serial %d, %v)", s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

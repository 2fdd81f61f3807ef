package certfile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair is a self-signed certificate and its key, PEM encoded.
type pair struct{ cert, key []byte }

func newPair(t *testing.T, serial int64) pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pair{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})}
}

// write puts b in path with a modification time of its own, so that a
// rewrite within the file system's time resolution still shows.
func write(t *testing.T, path string, b []byte, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func serial(t *testing.T, c *tls.Certificate) int64 {
	t.Helper()
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.Int64()
}

// TestRenewal: replaced files are taken up at the next handshake; a half
// written renewal (a new certificate beside the old key) keeps the old
// pair in use until the key follows.
func TestRenewal(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := newPair(t, 1), newPair(t, 2)
	at := time.Now().Add(-time.Minute)
	write(t, certFile, a.cert, at)
	write(t, keyFile, a.key, at)

	p, err := Load(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.every = 0
	if got, _ := p.GetCertificate(nil); serial(t, got) != 1 {
		t.Fatalf("serial %d, want 1", serial(t, got))
	}

	write(t, certFile, b.cert, at.Add(time.Second))
	if got, _ := p.GetCertificate(nil); serial(t, got) != 1 {
		t.Fatalf("half a renewal: serial %d, want the old pair (1)", serial(t, got))
	}
	write(t, keyFile, b.key, at.Add(2*time.Second))
	if got, _ := p.GetCertificate(nil); serial(t, got) != 2 {
		t.Fatalf("after renewal: serial %d, want 2", serial(t, got))
	}
	if serial(t, p.Certificate()) != 2 {
		t.Fatal("Certificate does not give the renewed pair")
	}

	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.GetCertificate(nil); serial(t, got) != 2 {
		t.Fatalf("key file gone: serial %d, want the pair in use (2)", serial(t, got))
	}
}

// TestLoadRefusesBadPair: a certificate with another's key is refused at
// start.
func TestLoadRefusesBadPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(t, certFile, newPair(t, 1).cert, time.Now())
	write(t, keyFile, newPair(t, 2).key, time.Now())
	if _, err := Load(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a certificate with another's key was accepted")
	}
	if _, err := Load(filepath.Join(dir, "none.pem"), keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a missing certificate file was accepted")
	}
}

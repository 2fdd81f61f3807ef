package app_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/app"
)

// writeCert writes a self-signed certificate for 127.0.0.1 into a test
// directory and returns its files and DER.
func writeCert(t *testing.T) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key); err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

// TestTURNOverTLSCertificate: TURN over TLS serves its own certificate
// when given one, else the server's (-tls-cert), and a server with neither
// does not start.
func TestTURNOverTLSCertificate(t *testing.T) {
	serverCert, serverKey, serverDER := writeCert(t)
	turnCert, turnKey, turnDER := writeCert(t)
	for _, tc := range []struct {
		name              string
		tlsCert, tlsKey   string
		turnCert, turnKey string
		want              []byte // the certificate TURN over TLS presents
	}{
		{"the server's", serverCert, serverKey, "", "", serverDER},
		{"its own", serverCert, serverKey, turnCert, turnKey, turnDER},
		{"its own, behind a proxy", "", "", turnCert, turnKey, turnDER},
		{"none", "", "", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := app.New(app.Config{Listen: "127.0.0.1:0", LoopbackOnly: true, TLSCert: tc.tlsCert, TLSKey: tc.tlsKey,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				TURN:   app.TURNConfig{Enabled: true, TLSAddr: "127.0.0.1:0", TLSCert: tc.turnCert, TLSKey: tc.turnKey}})
			if tc.want == nil {
				if err == nil {
					a.Close()
					t.Fatal("started without a certificate for TURN over TLS")
				}
				if !strings.Contains(err.Error(), "needs a certificate") {
					t.Fatalf("error %q does not say a certificate is needed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			conn, err := tls.Dial("tcp4", a.TURN().TLSAddr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the certificate is compared below
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got := conn.ConnectionState().PeerCertificates[0].Raw; !bytes.Equal(got, tc.want) {
				t.Fatal("TURN over TLS presents another certificate")
			}
		})
	}
}

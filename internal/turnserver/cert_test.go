package turnserver_test

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

// newCert makes a self-signed server certificate (its own root) for names
// and ips, valid for an hour, as PEM.
func newCert(names []string, ips []net.IP) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "hearth turn test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              names,
		IPAddresses:           ips,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

// certFor makes a certificate for names and ips, and a pool trusting it.
func certFor(t *testing.T, names []string, ips ...net.IP) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM, err := newCert(names, ips)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return &cert, pool
}

var loopback = net.IPv4(127, 0, 0, 1)

// trustedCertEnv is where TestMain puts a certificate for 127.0.0.1 that
// the whole test process trusts (see TestMain).
const trustedCertEnv = "SSL_CERT_FILE"

// writeTrustedCert writes a certificate for 127.0.0.1 and its key into dir
// and returns the certificate's path.
func writeTrustedCert(dir string) (string, error) {
	certPEM, keyPEM, err := newCert(nil, []net.IP{loopback})
	if err != nil {
		return "", err
	}
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", err
	}
	return certFile, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
}

// trustedCert returns the files of the certificate TestMain made trusted.
func trustedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	certFile = os.Getenv(trustedCertEnv)
	if certFile == "" {
		t.Fatalf("%s is not set: TestMain makes a trusted certificate", trustedCertEnv)
	}
	return certFile, filepath.Join(filepath.Dir(certFile), "key.pem")
}

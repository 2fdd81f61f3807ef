package sfu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// A certificate is valid for certLifetime (as pion's own), and a new one
// made certRenewBefore it expires.
const (
	certLifetime    = 30 * 24 * time.Hour
	certRenewBefore = 24 * time.Hour
)

// certificates is the engine's DTLS certificate, the same for every peer
// connection, as browsers and other SFUs use one for all their
// connections: without it pion makes a key pair and signs a certificate
// for each connection, a tenth of a join's CPU. Each handshake still
// agrees fresh keys (ECDHE); the certificate only vouches for the server,
// by the fingerprint in the SDP its offers carry over the signaling.
type certificates struct {
	mu   sync.Mutex
	cert *webrtc.Certificate
	now  func() time.Time
}

// get returns the current certificate, making one when there is none or
// it is within certRenewBefore of expiring. Connections keep the one they
// were made with.
func (c *certificates) get() (webrtc.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if c.cert != nil && now().Add(certRenewBefore).Before(c.cert.Expires()) {
		return *c.cert, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return webrtc.Certificate{}, fmt.Errorf("sfu: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return webrtc.Certificate{}, fmt.Errorf("sfu: certificate serial: %w", err)
	}
	t := now()
	cert, err := webrtc.NewCertificate(key, x509.Certificate{
		SerialNumber: serial,
		Version:      2,
		Issuer:       pkix.Name{CommonName: "WebRTC"},
		Subject:      pkix.Name{CommonName: "WebRTC"},
		NotBefore:    t.Add(-24 * time.Hour),
		NotAfter:     t.Add(certLifetime),
	})
	if err != nil {
		return webrtc.Certificate{}, fmt.Errorf("sfu: certificate: %w", err)
	}
	c.cert = cert
	return *cert, nil
}

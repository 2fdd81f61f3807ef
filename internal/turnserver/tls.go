package turnserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// tlsHost picks the host of turns: URLs: the configured one, else the
// certificate's first DNS name that is not a wildcard, else the public IP.
// Clients check the certificate against it, so it must be covered. It also
// returns the parsed certificate.
func tlsHost(cert *tls.Certificate, host string, public net.IP) (string, *x509.Certificate, error) {
	if len(cert.Certificate) == 0 {
		return "", nil, errors.New("turnserver: the TLS certificate is empty")
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return "", nil, fmt.Errorf("turnserver: TLS certificate: %w", err)
		}
	}
	if host == "" {
		for _, name := range leaf.DNSNames {
			if !strings.HasPrefix(name, "*") {
				host = name
				break
			}
		}
	}
	if host == "" {
		host = public.String()
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return "", nil, fmt.Errorf("turnserver: the TLS certificate does not cover %s, the host clients are told to reach TURN over TLS at: %w", host, err)
	}
	return host, leaf, nil
}

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = 10 * time.Second

// tlsListener serves TLS on a TCP listener for the TURN server. pion's
// server would run the handshake of a *tls.Conn itself, but leaves the
// connection open when the handshake fails; this one closes it, and logs
// the failure (port scanners, clients that do not trust the certificate)
// at debug level only.
type tlsListener struct {
	net.Listener
	config *tls.Config
	log    *slog.Logger
}

func (l tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tlsConn{Conn: tls.Server(c, l.config), log: l.log}, nil
}

// tlsConn runs the handshake on the first read, in the goroutine pion's
// server reads the connection from.
type tlsConn struct {
	*tls.Conn
	log *slog.Logger
	// done: the handshake succeeded. Only Read, called from one
	// goroutine, touches it.
	done bool
}

func (c *tlsConn) Read(b []byte) (int, error) {
	if !c.done {
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
		err := c.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.Close()
			c.log.Debug("TURN over TLS: handshake failed", "src", c.RemoteAddr().String(), "err", err)
			return 0, fmt.Errorf("turnserver: TLS handshake: %w", err)
		}
		c.done = true
	}
	return c.Conn.Read(b)
}

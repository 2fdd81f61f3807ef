// Package certfile serves a TLS certificate from files that may be
// replaced while the server runs: a renewed certificate is taken up at the
// next handshake, without a restart.
package certfile

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// checkEvery is how often, at most, the files are looked at again.
const checkEvery = time.Second

// Pair is a certificate and its key, read from two PEM files and read
// again when either changes. Its zero value is not usable; see Load.
type Pair struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	seen    stamp // the files as they were when cert was read
	failed  stamp // the files as they were when reading them last failed
	checked time.Time
}

// stamp is what tells that a file changed: its size and time of change.
type stamp struct {
	certSize, keySize int64
	certTime, keyTime int64 // nanoseconds since the epoch
}

// Load reads the pair once; it fails if the files are not a valid pair.
func Load(certFile, keyFile string, log *slog.Logger) (*Pair, error) {
	p := &Pair{certFile: certFile, keyFile: keyFile, log: log, every: checkEvery}
	st, err := p.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certfile: %w", err)
	}
	p.cert, p.seen, p.checked = &cert, st, time.Now()
	return p, nil
}

// Certificate is the pair as last read.
func (p *Pair) Certificate() *tls.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cert
}

// GetCertificate is for tls.Config: the current certificate, read again
// first if the files changed since. Files that do not make a valid pair
// (a renewal half written) keep the previous certificate in use.
func (p *Pair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.checked) < p.every {
		return p.cert, nil
	}
	p.checked = time.Now()
	st, err := p.stat()
	if err != nil || st == p.seen || st == p.failed {
		return p.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		p.failed = st
		p.log.Warn("the TLS certificate files changed but do not make a valid pair; the previous certificate stays in use",
			"cert", p.certFile, "err", err)
		return p.cert, nil
	}
	p.cert, p.seen = &cert, st
	p.log.Info("TLS certificate read again", "cert", p.certFile)
	return p.cert, nil
}

func (p *Pair) stat() (stamp, error) {
	c, err := os.Stat(p.certFile)
	if err != nil {
		return stamp{}, fmt.Errorf("certfile: %w", err)
	}
	k, err := os.Stat(p.keyFile)
	if err != nil {
		return stamp{}, fmt.Errorf("certfile: %w", err)
	}
	return stamp{certSize: c.Size(), keySize: k.Size(), certTime: c.ModTime().UnixNano(), keyTime: k.ModTime().UnixNano()}, nil
}

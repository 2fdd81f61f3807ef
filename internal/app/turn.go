package app

import (
	"errors"
	"fmt"

	"github.com/hearth-rtc/hearth/internal/certfile"
	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/hearth-rtc/hearth/protocol"
)

// TURNConfig configures the embedded TURN server.
type TURNConfig struct {
	// Enabled runs it, on UDP and TCP, bound on Listen's host (and on TLS
	// with TLSAddr).
	Enabled bool
	// Port is its port; 0 picks free ports (tests).
	Port int
	// PublicIP is where clients reach it and its relay address; the first
	// of Config.PublicIPs if empty, else Listen's host.
	PublicIP string
	// Realm is the TURN realm; "hearth" if empty.
	Realm string
	// RelayMinPort and RelayMaxPort bound the relay sockets' ports when
	// both are set.
	RelayMinPort, RelayMaxPort int
	// TLSAddr, when set, also serves TURN over TLS there ("host:port"; an
	// empty host is Listen's host, port 0 picks a free one).
	TLSAddr string
	// TLSCert and TLSKey are its certificate and key files (PEM);
	// Config.TLSCert and TLSKey if empty.
	TLSCert, TLSKey string
	// TLSHost is the host name in turns: URLs, which the certificate must
	// cover; its first DNS name if empty (see turnserver.Config.TLSHost).
	TLSHost string
}

// startTURN starts the embedded TURN server, if enabled, relaying to the
// SFU's media endpoints only, with credentials derived from the token
// secret, and on TLS too when TLSAddr is set.
func (a *App) startTURN(host string) error {
	tc := a.cfg.TURN
	if !tc.Enabled {
		return nil
	}
	peers, err := turnserver.MediaEndpoints(a.engine.LocalAddr(), a.cfg.PublicIPs)
	if err != nil {
		return fmt.Errorf("app: turn: %w", err)
	}
	public := tc.PublicIP
	if public == "" && len(a.cfg.PublicIPs) > 0 {
		public = a.cfg.PublicIPs[0]
	}
	cfg := turnserver.Config{
		Host:         host,
		Port:         tc.Port,
		PublicIP:     public,
		Realm:        tc.Realm,
		Key:          turnserver.DeriveKey(a.cfg.Secret),
		Peers:        peers,
		RelayMinPort: tc.RelayMinPort,
		RelayMaxPort: tc.RelayMaxPort,
		Logger:       a.log,
	}
	if tc.TLSAddr != "" {
		certFile, keyFile := tc.TLSCert, tc.TLSKey
		if certFile == "" && keyFile == "" {
			certFile, keyFile = a.cfg.TLSCert, a.cfg.TLSKey
		}
		if certFile == "" || keyFile == "" {
			return errors.New("app: turn: TURN over TLS needs a certificate and its key")
		}
		certs := a.certs
		if certs == nil || certFile != a.cfg.TLSCert || keyFile != a.cfg.TLSKey {
			if certs, err = certfile.Load(certFile, keyFile, a.log); err != nil {
				return fmt.Errorf("app: turn: TLS certificate: %w", err)
			}
		}
		cfg.TLSCertificate, cfg.TLSGetCertificate = certs.Certificate(), certs.GetCertificate
		cfg.TLSAddr, cfg.TLSHost = tc.TLSAddr, tc.TLSHost
	}
	a.turn, err = turnserver.New(cfg)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// turnICEServers hands a participant the embedded TURN server with
// credentials of its own (none when TURN is off).
func (a *App) turnICEServers(participantID string) []protocol.ICEServer {
	if a.turn == nil {
		return nil
	}
	user, pass := a.turn.Credentials(participantID)
	return []protocol.ICEServer{{URLs: a.turn.URLs(), Username: user, Credential: pass}}
}

func (a *App) closeTURN() error {
	if a.turn == nil {
		return nil
	}
	return a.turn.Close()
}

// TURN is the embedded TURN server, or nil when it is off.
func (a *App) TURN() *turnserver.Server { return a.turn }

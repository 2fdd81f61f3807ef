package main

import (
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hearth-rtc/hearth/internal/app"
)

// turnFlags are the -turn-* flags.
type turnFlags struct {
	port                       int
	publicIP, realm, relays    string
	tlsListen, tlsCert, tlsKey string
	tlsHost                    string
}

func addTURNFlags(fs *flag.FlagSet) *turnFlags {
	f := &turnFlags{}
	fs.IntVar(&f.port, "turn-port", 0, "embedded TURN server port, UDP and TCP, bound on the -listen host (0: off; e.g. 3478)")
	fs.StringVar(&f.publicIP, "turn-public-ip", "", "address clients reach TURN at, also its relay address (default: the first -public-ip, else the -listen host)")
	fs.StringVar(&f.realm, "turn-realm", "hearth", "TURN realm")
	fs.StringVar(&f.relays, "turn-relay-ports", "", "port range of TURN relay sockets, e.g. 49152-49407 (any free port if empty)")
	fs.StringVar(&f.tlsListen, "turn-tls-listen", "", "also serve TURN over TLS at this address, e.g. :5349 (on the -listen host) or 203.0.113.8:443 (needs -turn-port)")
	fs.StringVar(&f.tlsCert, "turn-tls-cert", "", "certificate file (PEM) for TURN over TLS (default: -tls-cert)")
	fs.StringVar(&f.tlsKey, "turn-tls-key", "", "private key file (PEM) for TURN over TLS (default: -tls-key)")
	fs.StringVar(&f.tlsHost, "turn-tls-host", "", "host name clients reach TURN over TLS at, which the certificate must cover (default: the certificate's first DNS name)")
	return f
}

// config turns the flags into the embedded TURN server's configuration;
// port 0 leaves it off. serverCert is -tls-cert, which TURN over TLS uses
// when it has no certificate of its own.
func (f *turnFlags) config(serverCert string) (app.TURNConfig, error) {
	if f.port < 0 || f.port > 65535 {
		return app.TURNConfig{}, fmt.Errorf("-turn-port %d is not a port", f.port)
	}
	tlsSet := f.tlsListen != "" || f.tlsCert != "" || f.tlsKey != "" || f.tlsHost != ""
	if f.port == 0 {
		if tlsSet {
			return app.TURNConfig{}, fmt.Errorf("-turn-tls-* need -turn-port: TURN over TLS runs beside TURN over UDP and TCP")
		}
		return app.TURNConfig{}, nil
	}
	minPort, maxPort, err := parsePortRange(f.relays)
	if err != nil {
		return app.TURNConfig{}, fmt.Errorf("-turn-relay-ports: %w", err)
	}
	c := app.TURNConfig{Enabled: true, Port: f.port, PublicIP: f.publicIP, Realm: f.realm,
		RelayMinPort: minPort, RelayMaxPort: maxPort}
	if !tlsSet {
		return c, nil
	}
	if f.tlsListen == "" {
		return app.TURNConfig{}, fmt.Errorf("-turn-tls-cert, -turn-tls-key and -turn-tls-host go with -turn-tls-listen")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return app.TURNConfig{}, fmt.Errorf("-turn-tls-cert and -turn-tls-key go together")
	}
	if f.tlsCert == "" && serverCert == "" {
		return app.TURNConfig{}, fmt.Errorf("-turn-tls-listen needs a certificate: -turn-tls-cert and -turn-tls-key, or -tls-cert and -tls-key")
	}
	host, port, err := net.SplitHostPort(f.tlsListen)
	if err != nil {
		return app.TURNConfig{}, fmt.Errorf("-turn-tls-listen %q is not host:port or :port", f.tlsListen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return app.TURNConfig{}, fmt.Errorf("-turn-tls-listen %q: %q is not a port", f.tlsListen, port)
	}
	if host != "" && net.ParseIP(host) == nil {
		return app.TURNConfig{}, fmt.Errorf("-turn-tls-listen %q: %q is not an IP address", f.tlsListen, host)
	}
	c.TLSAddr, c.TLSCert, c.TLSKey, c.TLSHost = f.tlsListen, f.tlsCert, f.tlsKey, f.tlsHost
	return c, nil
}

// parsePortRange parses "min-max" (inclusive, 1-65535); "" is no range.
func parsePortRange(s string) (minPort, maxPort int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not min-max", s)
	}
	if minPort, err = strconv.Atoi(strings.TrimSpace(lo)); err == nil {
		maxPort, err = strconv.Atoi(strings.TrimSpace(hi))
	}
	if err != nil || minPort < 1 || maxPort > 65535 || minPort > maxPort {
		return 0, 0, fmt.Errorf("%q is not a port range within 1-65535", s)
	}
	return minPort, maxPort, nil
}

// Package turnserver is Hearth's embedded TURN server (RFC 5766/8656 on UDP
// and TCP, and on TLS when given a certificate), for participants whose
// networks block the SFU's UDP port, or let nothing out but TLS.
//
// Credentials are short-lived and stateless (the TURN REST scheme, see
// Credentials): the server hands each participant a username and password
// on join, derived from the server secret, and any Hearth node with the
// same secret accepts them until they expire.
//
// Relays reach only the SFU's media endpoints (Config.Peers): no other
// address, whether on the internet, on the server's private network or on
// its loopback, and never over TCP. A participant holds a bounded number of
// allocations; a TCP or TLS connection that holds none is closed after a
// timeout, and only so many may be open at once.
package turnserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// Defaults.
const (
	DefaultRealm = "hearth"
	// DefaultCredentialTTL covers a long group session. A client cannot
	// refresh its allocation after its credentials expire, so relayed media
	// lasts at most this plus one allocation lifetime (10 min).
	DefaultCredentialTTL = 2 * time.Hour
	// DefaultUnallocatedTimeout is how long a TCP or TLS connection may
	// stay open without an allocation: a client allocates at once.
	DefaultUnallocatedTimeout = 30 * time.Second
	// DefaultMaxUnallocated bounds the TCP and TLS connections open
	// without an allocation at once.
	DefaultMaxUnallocated = 1000
	// DefaultMaxAllocations bounds the allocations one participant holds at
	// once. A browser makes one per TURN URL (three with TLS) and per local
	// interface, and a reconnecting one makes new ones while those of its
	// dropped connection expire.
	DefaultMaxAllocations = 12
	minKeyLen             = 16
)

// Config configures New.
type Config struct {
	// Host is the IP address the UDP and TCP listeners and the relay sockets
	// bind to (Hearth uses the -listen host).
	Host string
	// Port is the TURN port, on UDP and TCP. 0 picks free ports (tests);
	// UDP and TCP may then differ.
	Port int
	// PublicIP is where clients reach the server and the relay address they
	// are given. Defaults to Host, which must then be a specific address.
	PublicIP string
	// Realm is the TURN realm; DefaultRealm if empty.
	Realm string
	// Key checks credentials (DeriveKey of the server secret; at least 16
	// bytes).
	Key []byte
	// CredentialTTL is how long handed-out credentials last;
	// DefaultCredentialTTL if zero.
	CredentialTTL time.Duration
	// Peers are the only addresses relays exchange packets with: the SFU's
	// media endpoints (see MediaEndpoints). Required.
	Peers []netip.AddrPort
	// RelayMinPort and RelayMaxPort, when both set, bound the relay sockets'
	// ports; otherwise the system picks them.
	RelayMinPort, RelayMaxPort int
	// TLSCertificate, when set, also serves TURN over TLS (on TCP) at
	// TLSAddr with this certificate.
	TLSCertificate *tls.Certificate
	// TLSGetCertificate, when set, gives the certificate for each
	// handshake instead (a renewed one, say); TLSCertificate is still the
	// one its host name is checked against at start.
	TLSGetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// TLSAddr is where TURN over TLS listens, "host:port"; an empty host
	// is Host, port 0 picks a free one.
	TLSAddr string
	// TLSHost is the name clients are given in turns: URLs, which the
	// certificate must cover. If empty: the certificate's first DNS name
	// (wildcards aside), else PublicIP.
	TLSHost string
	// MaxAllocations bounds one participant's concurrent allocations;
	// DefaultMaxAllocations if zero.
	MaxAllocations int
	// UnallocatedTimeout and MaxUnallocated bound TCP and TLS connections
	// that hold no allocation: each is closed after UnallocatedTimeout,
	// and beyond MaxUnallocated new ones are closed at once. Defaults:
	// DefaultUnallocatedTimeout, DefaultMaxUnallocated.
	UnallocatedTimeout time.Duration
	MaxUnallocated     int
	Logger             *slog.Logger
	// Now is the clock for credentials; time.Now if nil.
	Now func() time.Time
}

// Server is a running TURN server.
//
// Lifecycle: New (listening and serving) → Close.
type Server struct {
	cfg  Config
	log  *slog.Logger
	turn *turn.Server
	udp  net.PacketConn
	tcp  net.Listener
	tls  net.Listener // nil without TLSCertificate
	// streams tracks the TCP and TLS connections.
	streams *streams
	public  net.IP
	// tlsHost is the host in turns: URLs.
	tlsHost string

	// dropped counts relay packets refused by the peer filter.
	dropped atomic.Uint64

	mu     sync.Mutex
	allocs map[string]int // user -> live allocations
}

// New binds the UDP and TCP listeners and starts serving.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.CredentialTTL <= 0 {
		cfg.CredentialTTL = DefaultCredentialTTL
	}
	if cfg.MaxAllocations <= 0 {
		cfg.MaxAllocations = DefaultMaxAllocations
	}
	if cfg.UnallocatedTimeout <= 0 {
		cfg.UnallocatedTimeout = DefaultUnallocatedTimeout
	}
	if cfg.MaxUnallocated <= 0 {
		cfg.MaxUnallocated = DefaultMaxUnallocated
	}
	if len(cfg.Key) < minKeyLen {
		return nil, fmt.Errorf("turnserver: key must be at least %d bytes", minKeyLen)
	}
	if len(cfg.Peers) == 0 {
		return nil, errors.New("turnserver: no relay peers (the SFU's media endpoints) given")
	}
	host := net.ParseIP(cfg.Host)
	if host == nil {
		return nil, fmt.Errorf("turnserver: host %q is not an IP address", cfg.Host)
	}
	public := host
	if cfg.PublicIP != "" {
		if public = net.ParseIP(cfg.PublicIP); public == nil {
			return nil, fmt.Errorf("turnserver: public IP %q is not an IP address", cfg.PublicIP)
		}
	}
	if public.IsUnspecified() {
		return nil, fmt.Errorf("turnserver: listening on %s needs a public IP to announce", cfg.Host)
	}
	if (cfg.RelayMinPort != 0 || cfg.RelayMaxPort != 0) &&
		(cfg.RelayMinPort < 1 || cfg.RelayMaxPort > 65535 || cfg.RelayMinPort > cfg.RelayMaxPort) {
		return nil, fmt.Errorf("turnserver: relay port range %d-%d is invalid", cfg.RelayMinPort, cfg.RelayMaxPort)
	}

	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "turn"), public: public, allocs: map[string]int{}}
	s.streams = newStreams(s.log, cfg.UnallocatedTimeout, cfg.MaxUnallocated)
	var leaf *x509.Certificate
	if cfg.TLSCertificate != nil {
		var err error
		if s.tlsHost, leaf, err = tlsHost(cfg.TLSCertificate, cfg.TLSHost, public); err != nil {
			return nil, err
		}
	}
	if err := s.listen(); err != nil {
		return nil, err
	}

	peers := newPeerSet(cfg.Peers)
	permit := func(_ net.Addr, peer net.IP) bool {
		ok := peers.allowIP(peer)
		if !ok {
			s.log.Debug("relay permission refused", "peer", peer.String())
		}
		return ok
	}
	gen := func() turn.RelayAddressGenerator {
		var inner turn.RelayAddressGenerator = &turn.RelayAddressGeneratorStatic{RelayAddress: public, Address: cfg.Host}
		if cfg.RelayMinPort != 0 {
			inner = &turn.RelayAddressGeneratorPortRange{RelayAddress: public, Address: cfg.Host,
				MinPort: uint16(cfg.RelayMinPort), MaxPort: uint16(cfg.RelayMaxPort)}
		}
		return &relayGenerator{inner: inner, peers: peers, dropped: &s.dropped}
	}
	listeners := []turn.ListenerConfig{{Listener: s.tcp, RelayAddressGenerator: gen(), PermissionHandler: permit}}
	if s.tls != nil {
		listeners = append(listeners, turn.ListenerConfig{Listener: s.tls, RelayAddressGenerator: gen(), PermissionHandler: permit})
	}
	var err error
	s.turn, err = turn.NewServer(turn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   s.auth,
		QuotaHandler:  s.quota,
		EventHandler:  turn.EventHandler{OnAllocationCreated: s.allocated, OnAllocationDeleted: s.deallocated},
		LoggerFactory: slogFactory{s.log},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: s.udp, RelayAddressGenerator: gen(), PermissionHandler: permit,
		}},
		ListenerConfigs: listeners,
	})
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("turnserver: %w", err)
	}
	s.log.Info("TURN server listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String(),
		"public", public.String(), "realm", cfg.Realm)
	if s.tls != nil {
		expires := leaf.NotAfter.UTC().Format(time.RFC3339)
		s.log.Info("TURN over TLS listening", "addr", s.tls.Addr().String(), "host", s.tlsHost,
			"certificate_expires", expires)
		if !cfg.Now().Before(leaf.NotAfter) {
			s.log.Warn("the TURN over TLS certificate has expired: clients will refuse it", "expired", expires)
		}
	}
	return s, nil
}

// listen binds the UDP and TCP listeners, and the TLS one if configured.
func (s *Server) listen() error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var err error
	if s.udp, err = net.ListenPacket("udp", addr); err != nil {
		return fmt.Errorf("turnserver: listen udp %s: %w", addr, err)
	}
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("turnserver: listen tcp %s: %w", addr, err)
	}
	s.tcp = s.streams.listener(tcp)
	if s.cfg.TLSCertificate == nil {
		return nil
	}
	host, port, err := net.SplitHostPort(s.cfg.TLSAddr)
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("turnserver: TLS address %q: %w", s.cfg.TLSAddr, err)
	}
	if host == "" {
		host = s.cfg.Host
	}
	addr = net.JoinHostPort(host, port)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("turnserver: listen tls %s: %w", addr, err)
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.cfg.TLSGetCertificate}
	if config.GetCertificate == nil {
		config.Certificates = []tls.Certificate{*s.cfg.TLSCertificate}
	}
	s.tls = tlsListener{Listener: s.streams.listener(ln), log: s.log, config: config}
	return nil
}

// closeListeners closes what listen bound (before the TURN server owns it).
func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tls != nil {
		s.tls.Close()
	}
}

// Close stops the server: listeners, connections, allocations and their
// relay sockets.
func (s *Server) Close() error {
	err := s.turn.Close()
	s.streams.close()
	if err != nil {
		return fmt.Errorf("turnserver: close: %w", err)
	}
	return nil
}

// UDPAddr is the bound UDP listener address.
func (s *Server) UDPAddr() *net.UDPAddr { return s.udp.LocalAddr().(*net.UDPAddr) }

// TCPAddr is the bound TCP listener address.
func (s *Server) TCPAddr() *net.TCPAddr { return s.tcp.Addr().(*net.TCPAddr) }

// TLSAddr is the bound TLS listener address, or nil without TLS.
func (s *Server) TLSAddr() *net.TCPAddr {
	if s.tls == nil {
		return nil
	}
	return s.tls.Addr().(*net.TCPAddr)
}

// Realm is the TURN realm.
func (s *Server) Realm() string { return s.cfg.Realm }

// Dropped counts relay packets refused because their peer is not an SFU
// media endpoint.
func (s *Server) Dropped() uint64 { return s.dropped.Load() }

// URLs are the TURN URLs clients are given: UDP, then TCP, then TLS. A
// client gathers relays through all of them at once, and browsers and
// pion rank a relay reached over UDP above one over TCP, and that above
// one over TLS, so a client relays over UDP where its network lets UDP
// out and falls back to TCP, then TLS, by itself.
func (s *Server) URLs() []string {
	urls := []string{
		"turn:" + hostPort(s.public.String(), s.UDPAddr().Port) + "?transport=udp",
		"turn:" + hostPort(s.public.String(), s.TCPAddr().Port) + "?transport=tcp",
	}
	if s.tls != nil {
		urls = append(urls, "turns:"+hostPort(s.tlsHost, s.TLSAddr().Port)+"?transport=tcp")
	}
	return urls
}

// hostPort is net.JoinHostPort for URLs (IPv6 literals in brackets).
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// Credentials returns fresh credentials for user (a participant id),
// valid for the configured TTL.
func (s *Server) Credentials(user string) (username, password string) {
	return Credentials(s.cfg.Key, user, s.cfg.Now().Add(s.cfg.CredentialTTL))
}

// auth is the long-term credential check: the key for username, when the
// username is well formed, unexpired and for this realm. A refusal makes
// the server answer 401.
func (s *Server) auth(ra *turn.RequestAttributes) (userID string, key []byte, ok bool) {
	if ra.Realm != s.cfg.Realm {
		s.log.Debug("TURN auth refused", "reason", "realm", "src", addrString(ra.SrcAddr))
		return "", nil, false
	}
	user, password, err := Password(s.cfg.Key, ra.Username, s.cfg.Now())
	if err != nil {
		s.log.Debug("TURN auth refused", "err", err, "src", addrString(ra.SrcAddr))
		return "", nil, false
	}
	return user, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

func (s *Server) quota(user, _ string, src net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allocs[user] >= s.cfg.MaxAllocations {
		s.log.Info("TURN allocation quota reached", "user", user, "src", addrString(src))
		return false
	}
	return true
}

func (s *Server) allocated(src, dst net.Addr, _, user, _ string, _ net.Addr, _ int) {
	s.mu.Lock()
	s.allocs[user]++
	s.mu.Unlock()
	s.streams.allocated(src, dst)
}

func (s *Server) deallocated(src, dst net.Addr, _, user, _ string) {
	s.mu.Lock()
	if s.allocs[user]--; s.allocs[user] <= 0 {
		delete(s.allocs, user)
	}
	s.mu.Unlock()
	s.streams.deallocated(src, dst)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// MediaEndpoints lists the addresses at which clients reach the SFU's media
// socket, the only peers TURN relays to: each public IP with the media
// port, and the bound address itself (or, when bound to an unspecified
// address, every IPv4 address of the machine's interfaces but loopback,
// which the SFU does not announce then).
func MediaEndpoints(bound *net.UDPAddr, publicIPs []string) ([]netip.AddrPort, error) {
	port := uint16(bound.Port)
	var out []netip.AddrPort
	add := func(ip net.IP) {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, netip.AddrPortFrom(a.Unmap(), port))
		}
	}
	for _, p := range publicIPs {
		ip := net.ParseIP(p)
		if ip == nil {
			return nil, fmt.Errorf("turnserver: public IP %q is not an IP address", p)
		}
		add(ip)
	}
	if bound.IP != nil && !bound.IP.IsUnspecified() {
		add(bound.IP)
		return out, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turnserver: interface addresses: %w", err)
	}
	for _, a := range addrs {
		// The SFU's media socket is IPv4.
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			add(n.IP)
		}
	}
	return out, nil
}

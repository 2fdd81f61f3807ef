package turnserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pion/turn/v5"
)

// Relay errors.
var (
	// ErrPeerNotAllowed: a relay tried to send to an address that is not one
	// of the SFU's media endpoints.
	ErrPeerNotAllowed = errors.New("turnserver: relay peer not allowed")
	// ErrTCPRelay: TCP relays (RFC 6062) are not offered.
	ErrTCPRelay = errors.New("turnserver: TCP relays are not offered")
)

// peerSet is the set of addresses relays may exchange packets with: the
// SFU's media endpoints, and nothing else. Hearth's TURN server exists only
// to carry media between participants and Hearth's own SFU; relaying to
// anything else would turn it into an open relay into the server's network
// (its loopback and private services) and onto the internet.
type peerSet struct {
	addrs map[netip.AddrPort]bool
	ips   map[netip.Addr]bool
}

func newPeerSet(peers []netip.AddrPort) peerSet {
	s := peerSet{addrs: map[netip.AddrPort]bool{}, ips: map[netip.Addr]bool{}}
	for _, p := range peers {
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		s.addrs[p] = true
		s.ips[p.Addr()] = true
	}
	return s
}

// allowIP is the permission check (TURN permissions are per IP).
func (s peerSet) allowIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && s.ips[a.Unmap()]
}

// allow checks a full transport address.
func (s peerSet) allow(addr net.Addr) bool {
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	default:
		return false
	}
	return s.addrs[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]
}

// relayGenerator makes UDP relay sockets (through inner) whose traffic is
// limited to the peer set, ignores the ports clients ask for, and refuses
// TCP relays, which would let participants open TCP connections from the
// server.
type relayGenerator struct {
	inner   turn.RelayAddressGenerator
	peers   peerSet
	dropped *atomic.Uint64
}

func (g *relayGenerator) Validate() error {
	if err := g.inner.Validate(); err != nil {
		return fmt.Errorf("turnserver: relay addresses: %w", err)
	}
	return nil
}

func (g *relayGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	conf.RequestedPort = 0 // clients do not pick ports on this host
	conn, addr, err := g.inner.AllocatePacketConn(conf)
	if err != nil {
		return nil, nil, err
	}
	return &filteredConn{PacketConn: conn, peers: g.peers, dropped: g.dropped}, addr, nil
}

func (g *relayGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, ErrTCPRelay
}

func (g *relayGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, ErrTCPRelay
}

// filteredConn is a relay socket that exchanges datagrams with the peer set
// only. Permissions are per IP; this also pins the port, so a participant
// cannot reach another service on the SFU's address.
type filteredConn struct {
	net.PacketConn
	peers   peerSet
	dropped *atomic.Uint64
}

func (c *filteredConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || c.peers.allow(addr) {
			return n, addr, err
		}
		c.dropped.Add(1)
	}
}

func (c *filteredConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if !c.peers.allow(addr) {
		c.dropped.Add(1)
		return 0, fmt.Errorf("%w: %s", ErrPeerNotAllowed, addr)
	}
	return c.PacketConn.WriteTo(b, addr)
}

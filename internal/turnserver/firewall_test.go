package turnserver_test

import (
	"errors"
	"fmt"
	"net"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

var errBlocked = errors.New("blocked by the client's firewall")

// firewall is a client's network that lets nothing out but TCP to the given
// ports and, if udp, UDP: no UDP at all, as on networks that block UDP,
// and with one port, as on those that let out only TLS to 443. Given to a pion peer
// connection (webrtc.SettingEngine.SetNet), it stands between pion and the
// machine's sockets.
type firewall struct {
	*stdnet.Net
	udp      bool
	tcpPorts []int
}

func newFirewall(udp bool, tcpPorts ...int) (*firewall, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &firewall{Net: n, udp: udp, tcpPorts: tcpPorts}, nil
}

func (f *firewall) allowTCP(port int) error {
	for _, p := range f.tcpPorts {
		if p == port {
			return nil
		}
	}
	return fmt.Errorf("tcp to port %d: %w", port, errBlocked)
}

func (f *firewall) ListenPacket(network, address string) (net.PacketConn, error) {
	if f.udp {
		return f.Net.ListenPacket(network, address)
	}
	return nil, fmt.Errorf("udp: %w", errBlocked)
}

func (f *firewall) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	if f.udp {
		return f.Net.ListenUDP(network, laddr)
	}
	return nil, fmt.Errorf("udp: %w", errBlocked)
}

func (f *firewall) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	if f.udp {
		return f.Net.DialUDP(network, laddr, raddr)
	}
	return nil, fmt.Errorf("udp: %w", errBlocked)
}

func (f *firewall) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	if err := f.allowTCP(raddr.Port); err != nil {
		return nil, err
	}
	return f.Net.DialTCP(network, laddr, raddr)
}

func (f *firewall) Dial(network, address string) (net.Conn, error) {
	addr, err := net.ResolveTCPAddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", network, address, errBlocked)
	}
	if err := f.allowTCP(addr.Port); err != nil {
		return nil, err
	}
	return f.Net.Dial(network, address)
}

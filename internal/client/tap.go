package client

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// The light receive path (BareOptions.Light). A client's pion stack handles
// ICE, DTLS, RTCP and everything it sends, but the RTP it receives is
// counted straight off its socket and never handed to pion: SRTP leaves the
// RTP header in the clear, and the header is all a load run measures
// (sequence number for loss, timestamp for jitter, SSRC for the stream).
// That spares the client a decryption and three goroutine hand-offs per
// packet, which otherwise make the load tool, not the server, the
// bottleneck of a same-machine run. Which publisher an SSRC belongs to is
// read from the server's offers (ssrcMids) and sections messages.

// tapNet is the transport pion uses to open its sockets: host candidates get
// a tapConn.
type tapNet struct {
	*stdnet.Net
	onRTP func([]byte)
}

func newTapNet(onRTP func([]byte)) (*tapNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &tapNet{Net: n, onRTP: onRTP}, nil
}

// ListenUDP opens a socket whose RTP goes to onRTP.
func (n *tapNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &tapConn{UDPConn: c, onRTP: n.onRTP}, nil
}

// tapConn diverts RTP from the reads ICE makes. ICE reads through
// ReadFromAddrPort (it prefers it when present), or ReadFrom.
type tapConn struct {
	*net.UDPConn
	onRTP func([]byte)
}

// isRTP applies RFC 7983's demultiplexing: RTP and RTCP start with version
// 2; RTCP packet types (with the marker bit's place) are 192 to 223.
func isRTP(b []byte) bool {
	return len(b) >= 12 && b[0]>>6 == 2 && (b[1] < 192 || b[1] > 223)
}

func (c *tapConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, addr, err := c.UDPConn.ReadFromUDPAddrPort(b)
		if err != nil || !isRTP(b[:n]) {
			return n, addr, err
		}
		c.onRTP(b[:n])
	}
}

func (c *tapConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.UDPConn.WriteToUDPAddrPort(b, addr)
}

func (c *tapConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(addr), nil
}

// streamKey names a received stream: its publisher (the stream id: a
// screen share's ends in "-screen") and kind.
type streamKey struct{ publisher, kind string }

// ssrcMids maps the SSRCs a server offer announces to the mids of their
// sections. Retransmission SSRCs (RTX, in ssrc-group FID) are left out.
func ssrcMids(offer string) (map[uint32]string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, err
	}
	out := map[uint32]string{}
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		repair := map[uint32]bool{}
		mid, _ := m.Attribute(sdp.AttrKeyMID)
		for _, a := range m.Attributes {
			f := strings.Fields(a.Value)
			if a.Key == sdp.AttrKeySSRCGroup && len(f) == 3 && f[0] == sdp.SemanticTokenFlowIdentification {
				if v, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					repair[uint32(v)] = true
				}
			}
		}
		for _, a := range m.Attributes {
			if a.Key != sdp.AttrKeySSRC {
				continue
			}
			f := strings.Fields(a.Value)
			if len(f) == 0 {
				continue
			}
			v, err := strconv.ParseUint(f[0], 10, 32)
			if err != nil || repair[uint32(v)] || mid == "" {
				continue
			}
			out[uint32(v)] = mid
		}
	}
	return out, nil
}

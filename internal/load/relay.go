package load

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// The relay is the ceiling Hearth is measured against: the least a server
// can do to fan media out. Each packet is read once, decrypted once, then
// encrypted and sent with one sendto per subscriber. No ICE, no DTLS, no
// RTCP, no NACK buffers: keys are derived from the room and member numbers
// that a participant announces in a hello.
//
// Wire format: RTP/SRTP packets as usual; control packets start with a zero
// byte (never a valid RTP first byte):
//
//	hello  0x00 'H' room(2) member(2)  → ack 0x00 'A'
//	stats  0x00 'S'                    → 0x00 's' received(8) forwarded(8)

// RelayProfile is the SRTP profile the relay and its clients use. It is the
// one Hearth negotiates with pion clients (its first preference), so both
// servers do the same cryptographic work per packet.
const RelayProfile = srtp.ProtectionProfileAeadAes256Gcm

// RelayOptions configure a relay server.
type RelayOptions struct {
	// Addr to listen on, e.g. 127.0.0.1:0.
	Addr string
	// Plain forwards packets untouched (no SRTP): the bare sendto cost.
	Plain bool
	// Workers reading the socket; 0 means GOMAXPROCS.
	Workers int
	// Layout, when set, makes the relay forward simulcast video as Hearth
	// does under that layout: of each publisher's layers (named by its
	// SSRC, layerSSRC), only the one each subscriber's tile asks for
	// (layoutLayer).
	Layout string
	// GCC sends each subscriber's video through pion/interceptor's
	// transport-wide congestion control (relaycc.go); not with Plain.
	GCC bool
	// BufferBytes sizes the socket's kernel buffers; 0 means 4 MiB.
	BufferBytes int
	Logger      *slog.Logger
}

// Relay is a bare SRTP fan-out relay.
//
// Lifecycle: ListenRelay → Serve (until ctx ends; closes the socket).
type Relay struct {
	opts RelayOptions
	conn *net.UDPConn
	log  *slog.Logger

	regMu   sync.Mutex
	members atomic.Pointer[map[netip.AddrPort]*relayMember] // copy on write
	rooms   map[uint16]*relayRoom

	received, forwarded atomic.Uint64
}

type relayRoom struct {
	members atomic.Pointer[[]*relayMember] // copy on write, under regMu
}

type relayMember struct {
	addr   netip.AddrPort
	room   *relayRoom
	member int // index in the room

	inMu  sync.Mutex // decrypts what the member sends
	in    *srtp.Context
	outMu sync.Mutex // encrypts what the member receives
	out   *srtp.Context
	cc    *relayCC // with RelayOptions.GCC, under outMu
}

// ListenRelay opens the relay's socket.
func ListenRelay(opts RelayOptions) (*Relay, error) {
	if opts.GCC && opts.Plain {
		return nil, errors.New("load: a plain relay has no congestion control to measure")
	}
	if opts.Layout != "" {
		if err := checkLayout(opts.Layout); err != nil {
			return nil, err
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	addr, err := net.ResolveUDPAddr("udp4", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("load: relay address: %w", err)
	}
	conn, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("load: relay listen: %w", err)
	}
	buf := opts.BufferBytes
	if buf == 0 {
		buf = 4 << 20
	}
	_ = conn.SetReadBuffer(buf)
	_ = conn.SetWriteBuffer(buf)
	r := &Relay{opts: opts, conn: conn, log: opts.Logger, rooms: map[uint16]*relayRoom{}}
	empty := map[netip.AddrPort]*relayMember{}
	r.members.Store(&empty)
	return r, nil
}

// Addr is the relay's address.
func (r *Relay) Addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Serve relays until ctx ends, then closes the socket.
func (r *Relay) Serve(ctx context.Context) error {
	workers := r.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work()
		}()
	}
	<-ctx.Done()
	err := r.conn.Close()
	wg.Wait()
	for _, m := range *r.members.Load() {
		if m.cc != nil {
			m.cc.close()
		}
	}
	return err
}

func (r *Relay) work() {
	buf := make([]byte, 1500)
	plain := make([]byte, 1500)
	out := make([]byte, 1500)
	var hdr rtp.Header
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 2 {
			continue
		}
		if buf[0] == 0 {
			r.control(buf[:n], from)
			continue
		}
		m := (*r.members.Load())[from]
		if m == nil {
			continue
		}
		r.received.Add(1)
		pkt := buf[:n]
		if !r.opts.Plain {
			m.inMu.Lock()
			pkt, err = m.in.DecryptRTP(plain[:0], buf[:n], &hdr)
			m.inMu.Unlock()
			if err != nil {
				continue
			}
		}
		layer, video := -1, false
		if n >= 12 {
			ssrc := binary.BigEndian.Uint32(buf[8:12])
			video = ssrc&(1<<31) != 0
			if r.opts.Layout != "" && video {
				layer = ssrcLayer(ssrc)
			}
		}
		var payload []byte
		if r.opts.GCC && video {
			payload = pkt[min(hdr.MarshalSize(), len(pkt)):]
		}
		var fwd uint64
		for _, s := range *m.room.members.Load() {
			if s == m || layer >= 0 && layoutLayer(r.opts.Layout, s.member, m.member) != layer {
				continue
			}
			wire := pkt
			if !r.opts.Plain {
				s.outMu.Lock()
				if s.cc != nil && video {
					var stamped []byte
					if stamped, err = s.cc.stamp(&hdr, payload); err == nil {
						wire, err = s.out.EncryptRTP(out[:0], stamped, nil)
					}
				} else {
					wire, err = s.out.EncryptRTP(out[:0], pkt, &hdr)
				}
				s.outMu.Unlock()
				if err != nil {
					continue
				}
			}
			if _, err := r.conn.WriteToUDPAddrPort(wire, s.addr); err == nil {
				fwd++
			}
		}
		r.forwarded.Add(fwd)
	}
}

func (r *Relay) control(b []byte, from netip.AddrPort) {
	switch b[1] {
	case 'H':
		if len(b) < 6 {
			return
		}
		roomID, member := binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint16(b[4:])
		if err := r.register(from, roomID, member); err != nil {
			r.log.Warn("relay: register", "from", from, "err", err)
			return
		}
		_, _ = r.conn.WriteToUDPAddrPort([]byte{0, 'A'}, from)
	case 'S':
		msg := make([]byte, 18)
		msg[1] = 's'
		binary.BigEndian.PutUint64(msg[2:], r.received.Load())
		binary.BigEndian.PutUint64(msg[10:], r.forwarded.Load())
		_, _ = r.conn.WriteToUDPAddrPort(msg, from)
	}
}

func (r *Relay) register(from netip.AddrPort, roomID, member uint16) error {
	r.regMu.Lock()
	defer r.regMu.Unlock()
	if (*r.members.Load())[from] != nil {
		return nil // a repeated hello
	}
	m := &relayMember{addr: from, member: int(member)}
	if !r.opts.Plain {
		var err error
		if m.in, err = relayContext(roomID, member, "up"); err != nil {
			return err
		}
		if m.out, err = relayContext(roomID, member, "down"); err != nil {
			return err
		}
		if r.opts.GCC {
			if m.cc, err = newRelayCC(); err != nil {
				return err
			}
		}
	}
	room := r.rooms[roomID]
	if room == nil {
		room = &relayRoom{}
		empty := []*relayMember{}
		room.members.Store(&empty)
		r.rooms[roomID] = room
	}
	m.room = room
	list := append(append([]*relayMember{}, *room.members.Load()...), m)
	room.members.Store(&list)
	next := make(map[netip.AddrPort]*relayMember, len(*r.members.Load())+1)
	for k, v := range *r.members.Load() {
		next[k] = v
	}
	next[from] = m
	r.members.Store(&next)
	return nil
}

// relayContext derives one direction's SRTP context for a member. Both ends
// compute the same keys, standing in for what DTLS would negotiate.
func relayContext(roomID, member uint16, dir string) (*srtp.Context, error) {
	keyLen, err := RelayProfile.KeyLen()
	if err != nil {
		return nil, err
	}
	saltLen, err := RelayProfile.SaltLen()
	if err != nil {
		return nil, err
	}
	seed := sha256.Sum256(fmt.Appendf(nil, "hearth-relay %d %d %s", roomID, member, dir))
	more := sha256.Sum256(seed[:])
	material := append(seed[:], more[:]...)
	c, err := srtp.CreateContext(material[:keyLen], material[keyLen:keyLen+saltLen], RelayProfile)
	if err != nil {
		return nil, fmt.Errorf("load: srtp context: %w", err)
	}
	return c, nil
}

// relayClient is one synthetic participant of the relay: a UDP socket and
// the same generator as a Hearth participant.
type relayClient struct {
	conn   *net.UDPConn
	relay  netip.AddrPort
	plain  bool
	origin time.Time
	src    *mediaSource

	upMu sync.Mutex
	up   *srtp.Context
	down *srtp.Context // only the reader goroutine uses it
	wbuf []byte
	ebuf []byte

	joinSent   time.Time
	answered   atomic.Int64
	firstMedia atomic.Int64

	mu sync.Mutex
	rx map[string]*rxStream

	done chan struct{}
}

func dialRelay(relay netip.AddrPort, plain bool, roomID, member uint16, media MediaOptions,
	phase time.Duration, origin time.Time) (*relayClient, error) {
	laddr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(relay.Addr(), 0))
	conn, err := net.ListenUDP("udp4", laddr)
	if err != nil {
		return nil, fmt.Errorf("load: relay client socket: %w", err)
	}
	c := &relayClient{conn: conn, relay: relay, plain: plain, origin: origin, rx: map[string]*rxStream{},
		wbuf: make([]byte, 1500), ebuf: make([]byte, 1500), done: make(chan struct{})}
	if !plain {
		if c.up, err = relayContext(roomID, member, "up"); err == nil {
			c.down, err = relayContext(roomID, member, "down")
		}
		if err != nil {
			conn.Close()
			return nil, err
		}
	}
	ssrc := uint32(roomID)<<16 | uint32(member) + 1
	c.src = newMediaSource(c, media, phase, ssrc, ssrc|1<<31)
	go func() {
		defer close(c.done)
		c.read()
	}()
	hello := []byte{0, 'H', 0, 0, 0, 0}
	binary.BigEndian.PutUint16(hello[2:], roomID)
	binary.BigEndian.PutUint16(hello[4:], member)
	c.joinSent = time.Now()
	// UDP may lose the hello: repeat until acknowledged.
	for range 50 {
		if _, err := conn.WriteToUDPAddrPort(hello, relay); err != nil {
			c.close()
			return nil, fmt.Errorf("load: relay hello: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
		if c.answered.Load() != 0 {
			return c, nil
		}
	}
	c.close()
	return nil, fmt.Errorf("load: relay at %s did not answer", relay)
}

func (c *relayClient) read() {
	buf := make([]byte, 1500)
	plain := make([]byte, 1500)
	var hdr rtp.Header
	// local finds a stream without a lock or a key string per packet.
	local := map[uint32]*rxStream{}
	for {
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 2 {
			continue
		}
		if buf[0] == 0 {
			if buf[1] == 'A' {
				c.answered.CompareAndSwap(0, int64(time.Since(c.origin)))
			}
			continue
		}
		pkt := buf[:n]
		if !c.plain {
			if pkt, err = c.down.DecryptRTP(plain[:0], buf[:n], &hdr); err != nil {
				continue
			}
		} else if _, err := hdr.Unmarshal(pkt); err != nil {
			continue
		}
		now := time.Since(c.origin)
		c.firstMedia.CompareAndSwap(0, int64(now))
		s := local[hdr.SSRC]
		if s == nil {
			kind, clock := "audio", uint32(audioClock)
			if hdr.SSRC&(1<<31) != 0 {
				kind, clock = "video", videoClock
			}
			s = newRxStream(clock)
			local[hdr.SSRC] = s
			c.mu.Lock()
			c.rx[relayKey(hdr.SSRC&^(7<<29))+"/"+kind] = s
			c.mu.Unlock()
		}
		s.packet(hdr.SequenceNumber, hdr.Timestamp, n, now)
	}
}

func (c *relayClient) write(h *rtp.Header, payload []byte) {
	c.upMu.Lock()
	defer c.upMu.Unlock()
	b, err := rtp.MarshalPacketTo(c.wbuf, h, payload)
	if err != nil {
		return
	}
	wire := c.wbuf[:b]
	if !c.plain {
		if wire, err = c.up.EncryptRTP(c.ebuf[:0], wire, nil); err != nil {
			return
		}
	}
	_, _ = c.conn.WriteToUDPAddrPort(wire, c.relay)
}

func (c *relayClient) writeAudio(h *rtp.Header, p []byte)             { c.write(h, p) }
func (c *relayClient) writeVideo(h *rtp.Header, p []byte)             { c.write(h, p) }
func (c *relayClient) writeVideoLayer(_ int, h *rtp.Header, p []byte) { c.write(h, p) }

// sendLayout: the relay's choice is its own table (RelayOptions.Layout).
func (c *relayClient) sendLayout(string, int, map[int]string) error { return nil }

func (c *relayClient) times() joinTimes {
	at := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return c.origin.Add(time.Duration(v))
	}
	// No ICE or DTLS: the hello's answer is all there is.
	a := at(c.answered.Load())
	return joinTimes{join: c.joinSent, answered: a, iceUp: a, connected: a, firstMedia: at(c.firstMedia.Load())}
}

func (c *relayClient) streams() map[string]*rxStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*rxStream, len(c.rx))
	for k, v := range c.rx {
		out[k] = v
	}
	return out
}

func (c *relayClient) source() *mediaSource { return c.src }

func (c *relayClient) key() string { return relayKey(c.src.ssrcA) }

func relayKey(ssrc uint32) string { return fmt.Sprintf("s%d", ssrc) }

func (c *relayClient) close() {
	c.conn.Close()
	<-c.done
}

// relayStats asks a relay for its counters.
func relayStats(relay netip.AddrPort) (received, forwarded uint64, err error) {
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(relay))
	if err != nil {
		return 0, 0, fmt.Errorf("load: relay stats: %w", err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	for range 10 {
		if _, err := conn.Write([]byte{0, 'S'}); err != nil {
			return 0, 0, fmt.Errorf("load: relay stats: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		if err == nil && n >= 18 && buf[1] == 's' {
			return binary.BigEndian.Uint64(buf[2:]), binary.BigEndian.Uint64(buf[10:]), nil
		}
	}
	return 0, 0, fmt.Errorf("load: relay at %s did not report its counters", relay)
}

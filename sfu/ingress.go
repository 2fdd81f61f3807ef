package sfu

import (
	"encoding/binary"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
)

// What a client may make the server keep.
//
// pion keeps state for every SSRC it hears of from a client: its SRTP
// session opens a read stream with a buffer (up to 1 MB) for each new SSRC
// of RTP, and for each SSRC an RTCP packet names, and keeps those nobody
// asked for until the connection closes; its contexts keep replay state
// per sending SSRC. A client writing each packet on a new SSRC grew the
// server by kilobytes a packet. So the socket's reader (udpmux.go) checks
// each SRTP and SRTCP packet against what the two session descriptions
// announce before pion sees it:
//   - RTP passes only on an SSRC the client's description announces in a
//     section it sends on (a=ssrc, a=ssrc-group), as pion would make a
//     track of it, or on one a simulcast layer's first packets name by
//     section and rid, as pion would too (ingresslayers.go). The SSRC is
//     in the clear.
//   - RTCP passes from a sender SSRC (in the clear) either description
//     announces, or from a few others: clients send reports from SSRCs of
//     their own choosing that no description names.
//   - Which SSRCs an RTCP packet is about, pion opening a stream for each,
//     is encrypted. The guard decrypts a copy with the peer's keys (the
//     server is the DTLS server, as browsers and pion make it, and learns
//     them as the fast path does) and reads what each packet names as
//     pion will; SSRCs neither description announces pass only while they
//     are few. RTCP from a client whose keys the server does not hold (one
//     that made itself the DTLS server) cannot be read, and is dropped.
//
// Dropped packets are counted (Stats.IngressDropped) and logged at most
// once a minute per participant, with counts.

const (
	// maxSectionSSRCs bounds the SSRCs taken from one media section: a
	// stream, its retransmissions and its FEC, three simulcast layers with
	// their retransmissions at most.
	maxSectionSSRCs = 8
	// maxRTCPSenders bounds the unannounced SSRCs a client may send RTCP
	// from (receive-only browsers use 1; pion picks random ones for its
	// NACKs and congestion feedback), besides one for each section the
	// server sends on (pion's receiver reports come from an SSRC of their
	// own for each stream received, spares included).
	maxRTCPSenders = 16
	// maxRTCPStrays bounds the SSRCs no description announces that pion
	// may open RTCP streams for (a report about a stream just ended, a
	// receive-only browser's own SSRC).
	maxRTCPStrays = 32
	// dropLogInterval is how often a participant's dropped packets may be
	// logged.
	dropLogInterval = time.Minute
)

// ssrcs is a sorted set of SSRCs, replaced whole, never changed.
type ssrcs []uint32

func (s ssrcs) has(ssrc uint32) bool {
	_, ok := slices.BinarySearch(s, ssrc)
	return ok
}

func union(a, b ssrcs) ssrcs {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// ingress is one peer's guard.
//
// Lifecycle: made with the peer; the peer updates it around every session
// description it sets and registers it with the mux under its local ufrag;
// close logs what was dropped since the last line. The socket's readers
// call admit concurrently.
type ingress struct {
	log   *slog.Logger
	stats *Stats
	keys  *keyCapture // the peer's DTLS keys, as captured
	// dtlsClient, set before the peer connects, says the server is the
	// DTLS client here (a link in, link.go): the RTCP it cannot read is
	// the far link out's sender reports, dropped without a word.
	dtlsClient bool

	// rtp: SSRCs the client may send RTP on; known: every SSRC either
	// description announces, for RTCP.
	rtp   atomic.Pointer[ssrcs]
	known atomic.Pointer[ssrcs]
	// sim is what the client's description in force says of the
	// simulcast layers it sends; layers, the SSRCs learned as theirs
	// (ingresslayers.go), for RTP and RTCP.
	sim    atomic.Pointer[simulcastSpec]
	layers atomic.Pointer[ssrcs]

	// open reads the client's SRTCP, once its keys are known.
	open       atomic.Pointer[rtcpOpener]
	keysMu     sync.Mutex // serializes making open
	unreadable atomic.Bool

	// sending counts the sections the server sends the client on.
	sending atomic.Int32

	mu      sync.Mutex
	senders []uint32 // unannounced RTCP senders let through
	strays  []uint32 // unannounced SSRCs RTCP about was let through
	learned []learnedSSRC

	// Drops not yet logged, the last SSRC dropped, and when the last line
	// was logged (unix ns).
	pending  [numIngressReasons]atomic.Uint64
	lastSSRC atomic.Uint32
	lastLog  atomic.Int64

	// Under the peer's negMu: the descriptions the sets come from, and the
	// local ufrag the guard is registered under with the mux.
	localSDP, remoteSDP string
	local               ssrcs
	ufrag               string
	read                announcedCache
}

func newIngress(log *slog.Logger, stats *Stats, keys *keyCapture) *ingress {
	g := &ingress{log: log, stats: stats, keys: keys}
	g.rtp.Store(&ssrcs{})
	g.known.Store(&ssrcs{})
	g.layers.Store(&ssrcs{})
	return g
}

// ingressScratch is a socket reader's scratch for reading SRTCP.
type ingressScratch struct {
	plain   [muxPacketSize]byte
	packets []rtcp.RawPacket
	ssrcs   []uint32
	iv, aad [12]byte
}

// admit reports whether a datagram from the client may go on to pion. It
// lets through all but RTP and RTCP (RFC 7983: ICE, DTLS).
func (g *ingress) admit(b []byte, s *ingressScratch) bool {
	if len(b) < 8 || b[0]>>6 != 2 {
		return true
	}
	if b[1] >= 192 && b[1] <= 223 {
		return g.admitRTCP(b, s)
	}
	if len(b) < 12 {
		return true // pion refuses it whole
	}
	ssrc := binary.BigEndian.Uint32(b[8:12])
	if g.rtp.Load().has(ssrc) || g.layers.Load().has(ssrc) || g.learn(b, ssrc) {
		return true
	}
	g.drop(IngressUnknownSSRC, ssrc)
	return false
}

func (g *ingress) admitRTCP(b []byte, s *ingressScratch) bool {
	sender := binary.BigEndian.Uint32(b[4:8])
	known, layers := *g.known.Load(), *g.layers.Load()
	if !known.has(sender) && !layers.has(sender) && !g.admitOne(&g.senders, maxRTCPSenders+int(g.sending.Load()), sender) {
		g.drop(IngressUnknownRTCPSSRC, sender)
		return false
	}
	open := g.opener()
	if open == nil && g.dtlsClient {
		return false // a link out's sender reports: not needed here
	}
	if open == nil {
		g.drop(IngressUnreadableRTCP, sender)
		if g.unreadable.CompareAndSwap(false, true) {
			g.log.Warn("the client's RTCP cannot be read, the server not being the DTLS server; it is ignored")
		}
		return false
	}
	plain, ok := open.openRTCP(s.plain[:], b, s)
	if !ok {
		return true // not authentic: pion refuses it too
	}
	// What pion's SRTCP session opens streams for: what each packet it can
	// parse names (one naming none goes to those the others name).
	var err error
	if s.packets, err = rtcp.AppendRawPackets(s.packets[:0], plain); err != nil {
		return true // pion refuses it whole
	}
	for _, p := range s.packets {
		if s.ssrcs, err = p.ParseDestinationSSRC(s.ssrcs[:0]); err != nil {
			continue
		}
		for _, ssrc := range s.ssrcs {
			if !known.has(ssrc) && !layers.has(ssrc) && !g.admitOne(&g.strays, maxRTCPStrays, ssrc) {
				g.drop(IngressUnknownRTCPSSRC, ssrc)
				return false
			}
		}
	}
	return true
}

// admitOne reports whether ssrc is in set or, the set not being full, was
// added to it.
func (g *ingress) admitOne(set *[]uint32, limit int, ssrc uint32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if slices.Contains(*set, ssrc) {
		return true
	}
	if len(*set) >= limit {
		return false
	}
	*set = append(*set, ssrc)
	return true
}

// rtcpOpener decrypts SRTCP (into dst, which must not overlap the packet,
// using the scratch's iv and aad) and returns the RTCP compound.
type rtcpOpener interface {
	openRTCP(dst, b []byte, s *ingressScratch) ([]byte, bool)
}

// opener returns what reads the client's SRTCP, nil while its keys are
// not known: SRTCP flows only once the DTLS handshake is over, so from the
// first packet if the server was the DTLS server.
func (g *ingress) opener() rtcpOpener {
	if o := g.open.Load(); o != nil {
		return *o
	}
	if !g.keys.sawServerHello() {
		return nil
	}
	g.keysMu.Lock()
	defer g.keysMu.Unlock()
	if o := g.open.Load(); o != nil {
		return *o
	}
	keys, profile, err := g.keys.serverKeys()
	if err != nil {
		return nil
	}
	var o rtcpOpener
	if gcm, err := newRTCPSealer(keys.RemoteMasterKey, keys.RemoteMasterSalt, profile); err == nil {
		o = gcmRTCP{gcm}
	} else {
		ctx, err := srtp.CreateContext(keys.RemoteMasterKey, keys.RemoteMasterSalt, profile)
		if err != nil {
			return nil
		}
		o = &ctxRTCP{ctx: ctx}
	}
	g.open.Store(&o)
	return o
}

// gcmRTCP opens the AES-GCM profiles' SRTCP.
type gcmRTCP struct{ g *gcmSealer }

func (o gcmRTCP) openRTCP(dst, b []byte, s *ingressScratch) ([]byte, bool) {
	return o.g.openRTCP(dst, b, &s.iv, &s.aad)
}

// ctxRTCP opens other profiles' SRTCP with pion's context, which keeps
// state per sending SSRC: only for senders admitted.
type ctxRTCP struct {
	mu  sync.Mutex
	ctx *srtp.Context
}

func (o *ctxRTCP) openRTCP(dst, b []byte, _ *ingressScratch) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out, err := o.ctx.DecryptRTCP(dst[:0], b, nil)
	return out, err == nil
}

// drop counts a dropped packet and logs, at most once per interval, how
// many were dropped since the last line.
func (g *ingress) drop(r IngressReason, ssrc uint32) {
	g.stats.IngressDropped[r].Add(1)
	g.pending[r].Add(1)
	g.lastSSRC.Store(ssrc)
	now := time.Now().UnixNano()
	last := g.lastLog.Load()
	if last != 0 && now-last < int64(dropLogInterval) {
		return
	}
	if g.lastLog.CompareAndSwap(last, now) {
		g.report()
	}
}

// report logs the drops not yet logged, if any.
func (g *ingress) report() {
	var n [numIngressReasons]uint64
	var total uint64
	for r := range n {
		n[r] = g.pending[r].Swap(0)
		total += n[r]
	}
	if total == 0 {
		return
	}
	g.log.Warn("dropped packets on SSRCs not negotiated for the participant",
		"rtp", n[IngressUnknownSSRC], "rtcp", n[IngressUnknownRTCPSSRC], "rtcp_unreadable", n[IngressUnreadableRTCP],
		"last_ssrc", g.lastSSRC.Load(), "since", dropLogInterval.String())
}

// close logs the drops not yet logged.
func (g *ingress) close() { g.report() }

// expect lets through, from now on, what a description about to be set
// announces as well as what the current ones do: pion may see the new
// SSRCs while the description is being applied. Under the peer's negMu.
func (g *ingress) expect(desc string, local bool) {
	all, sending := g.read.get(desc, local)
	if !local {
		g.rtp.Store(ptr(union(*g.rtp.Load(), sending)))
		if spec := readSimulcast(desc); spec != nil {
			g.sim.Store(spec)
		}
	}
	g.known.Store(ptr(union(*g.known.Load(), all)))
}

// set records the descriptions now in force (either may be "") and lets
// through what they announce, and only that. Under the peer's negMu.
func (g *ingress) set(local, remote string) {
	if local != g.localSDP || g.local == nil {
		g.local, _ = g.read.get(local, true)
		g.localSDP = local
	}
	all, sending := g.read.get(remote, false)
	if remote != g.remoteSDP {
		g.sim.Store(readSimulcast(remote))
	}
	g.remoteSDP = remote
	g.rtp.Store(&sending)
	g.known.Store(ptr(union(g.local, all)))
}

func ptr(s ssrcs) *ssrcs { return &s }

// announced reads the SSRCs a session description announces in its audio
// and video sections: all of them, and those of the sections its author
// sends on (as pion reads them for tracks: not recvonly or inactive, the
// section's direction or else the session's).
func announced(desc string) (all, sending ssrcs) {
	all, sending = ssrcs{}, ssrcs{}
	if desc == "" {
		return all, sending
	}
	var secs [24]sdpSection
	d := sdpDoc{sections: secs[:0]}
	d.read(desc)
	session := direction(d.session, "")
	for i := range d.sections {
		m := &d.sections[i]
		if kind := strings.ToLower(m.kind); m.mid == "" || (kind != "audio" && kind != "video") {
			continue
		}
		var ids [maxSectionSSRCs]uint32
		n := 0
		add := func(f string) {
			v, err := strconv.ParseUint(f, 10, 32)
			if err != nil || n == len(ids) || slices.Contains(ids[:n], uint32(v)) {
				return
			}
			ids[n] = uint32(v)
			n++
		}
		m.attrs.each(func(key, value, _ string) bool {
			switch key {
			case sdp.AttrKeySSRC:
				f, _ := nextField(value)
				add(f)
			case sdp.AttrKeySSRCGroup:
				_, rest := nextField(value)
				for f, r := nextField(rest); f != ""; f, r = nextField(r) {
					add(f)
				}
			}
			return true
		})
		all = append(all, ids[:n]...)
		if dir := direction(m.attrs, session); dir != sdp.AttrKeyRecvOnly && dir != sdp.AttrKeyInactive {
			sending = append(sending, ids[:n]...)
		}
	}
	return union(all, nil), union(sending, nil)
}

// direction is the direction attribute among attrs, or def.
func direction(attrs sdpAttrs, def string) string {
	dir := def
	attrs.each(func(key, _, _ string) bool {
		switch key {
		case sdp.AttrKeySendRecv, sdp.AttrKeySendOnly, sdp.AttrKeyRecvOnly, sdp.AttrKeyInactive:
			dir = key
			return false
		}
		return true
	})
	return dir
}

// Package sfu forwards RTP between participants without transcoding.
//
// It knows peer connections, published tracks and who may receive each track
// (the Gate, plain data it evaluates itself); it knows nothing of roles or
// rooms' rules. The room's live owner hands each Router a new Gate, through
// Router.SetGate, whenever who may receive what changes; the SFU never calls
// back.
package sfu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// Config configures an Engine.
type Config struct {
	// UDPAddr is the one UDP address that carries all media for every peer
	// (a single ICE UDP mux), e.g. "127.0.0.1:7882". Port 0 picks a free port.
	UDPAddr string
	// PublicIPs, when set, replace the host candidates' addresses (NAT 1:1),
	// for a server behind a static NAT.
	PublicIPs []string
	// LoopbackOnly keeps ICE to loopback addresses. Tests use it so that no
	// traffic leaves the machine.
	LoopbackOnly bool
	// UDPBufferBytes sizes the socket's kernel buffers; 0 means 4 MiB.
	UDPBufferBytes int
	Logger         *slog.Logger
	// Stats, if set, receives the engine's counters (for metrics); an
	// engine without one keeps its own.
	Stats *Stats
	// MediaSockets is how many sockets share the media port, each with a
	// reader; 0 means one per core. Where the system cannot share a port
	// between sockets, one.
	MediaSockets int
	// DisableAudioFastPath sends media through pion's paths only (see
	// fastpath.go; the name is from when only audio took the fast path),
	// for comparison.
	DisableAudioFastPath bool
	// DisableVideoFastPath leaves what publishers send of video on pion's
	// path (with its NACK generator and transport-cc feedback), the audio
	// fast path on, for comparison (fastrecv.go).
	DisableVideoFastPath bool
	// NegotiationBatch is how long a peer's changes are gathered into one
	// offer once an offer is due (the first offer goes at once);
	// DefaultNegotiationBatch if zero, none if negative.
	NegotiationBatch time.Duration
}

// DefaultNegotiationBatch gathers the renegotiations of people joining
// together: long enough to fold a joiner's camera and microphone, and
// joins a moment apart, into one offer to each of the others; short
// enough that nobody notices when a newcomer is heard.
const DefaultNegotiationBatch = 100 * time.Millisecond

// Engine owns the media socket and what every peer's WebRTC API is built
// from.
//
// Lifecycle: NewEngine → any number of Routers → Close (after the Routers).
type Engine struct {
	mux   ice.UDPMux
	conn  *net.UDPConn
	log   *slog.Logger
	stats *Stats
	// batch is the socket as the ICE mux sees it; forwarders cork it
	// around each fan-out so the fan-out leaves in one sendmmsg.
	batch *udpBatcher
	// parts build a peer's own API when the audio fast path needs hooks
	// in its DTLS handshake.
	parts     *apiParts
	fastAudio bool
	// fastVideo: video from publishers takes the receive fast path, and
	// the server makes their NACKs and transport-cc feedback (feedback.go).
	fastVideo bool
	negBatch  time.Duration
	certs     certificates
	peersMu   sync.Mutex
	peers     map[*Peer]struct{}
	stopRep   context.CancelFunc
	repDone   chan struct{}
	// cfg is what the engine was made with, for the links' socket.
	cfg Config
	// linkParts, once a link in is made, build links in on a socket of
	// their own, linkConn (linkAPI).
	linkMu    sync.Mutex
	linkParts *apiParts
	linkConn  *net.UDPConn
}

// NewEngine opens the media socket and prepares codecs and interceptors.
func NewEngine(cfg Config) (*Engine, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	addr, err := net.ResolveUDPAddr("udp4", cfg.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("sfu: media address %q: %w", cfg.UDPAddr, err)
	}
	// One socket per core on the same port where the kernel can share it
	// out (SO_REUSEPORT: each client's datagrams always reach the same
	// socket), each with its own reader (udpmux.go).
	n := cfg.MediaSockets
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	conns, err := listenMedia(addr, n)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen on %s: %w", addr, err)
	}
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	bufBytes := cfg.UDPBufferBytes
	if bufBytes == 0 {
		bufBytes = 4 << 20
	}
	stats := cfg.Stats
	if stats == nil {
		stats = &Stats{}
	}
	shards := make([]*udpBatcher, len(conns))
	for i, c := range conns {
		// Bursts of video from many publishers overflow the default
		// buffers; the kernel silently drops what does not fit.
		_ = c.SetReadBuffer(bufBytes)
		_ = c.SetWriteBuffer(bufBytes)
		if shards[i], err = newUDPBatcher(c, stats); err != nil {
			closeAll()
			return nil, fmt.Errorf("sfu: media socket: %w", err)
		}
	}
	conn, batch := conns[0], shards[0]
	cfg.Logger = log
	parts, err := newAPI(cfg, shards, stats)
	if err != nil {
		closeAll()
		return nil, err
	}
	log.Info("media socket open", "addr", conn.LocalAddr().String(), "sockets", len(conns))
	negBatch := cfg.NegotiationBatch
	if negBatch == 0 {
		negBatch = DefaultNegotiationBatch
	}
	e := &Engine{mux: parts.mux, conn: conn, log: log, stats: stats, batch: batch, negBatch: max(negBatch, 0),
		parts: parts, fastAudio: !cfg.DisableAudioFastPath,
		fastVideo: !cfg.DisableAudioFastPath && !cfg.DisableVideoFastPath, peers: map[*Peer]struct{}{},
		repDone: make(chan struct{}), cfg: cfg}
	ctx, stop := context.WithCancel(context.Background())
	e.stopRep = stop
	go func() {
		defer close(e.repDone)
		e.sendReports(ctx)
	}()
	return e, nil
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return e.stats }

// LocalAddr is the address of the media socket.
func (e *Engine) LocalAddr() *net.UDPAddr { return e.conn.LocalAddr().(*net.UDPAddr) }

// Close closes the media socket. Close every Router first.
func (e *Engine) Close() error {
	e.stopRep()
	<-e.repDone
	err := e.mux.Close()
	if cerr := e.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	if e.linkParts != nil {
		_ = e.linkParts.mux.Close()
		_ = e.linkConn.Close()
	}
	return err
}

// linkAPI returns what links in are built from, opening their socket on
// first use: a port of its own beside the media port. Each direction of
// a link between two nodes is a connection of its own, and two between
// one pair of addresses could not be told apart.
func (e *Engine) linkAPI() (*apiParts, error) {
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	if e.linkParts != nil {
		return e.linkParts, nil
	}
	conns, err := listenMedia(&net.UDPAddr{IP: e.LocalAddr().IP}, 1)
	if err != nil {
		return nil, fmt.Errorf("sfu: link socket: %w", err)
	}
	c := conns[0]
	bufBytes := cmp.Or(e.cfg.UDPBufferBytes, 4<<20)
	_ = c.SetReadBuffer(bufBytes)
	_ = c.SetWriteBuffer(bufBytes)
	b, err := newUDPBatcher(c, e.stats)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("sfu: link socket: %w", err)
	}
	cfg := e.cfg
	cfg.PublicIPs = nil // links are on the nodes' own network
	parts, err := newAPI(cfg, []*udpBatcher{b}, e.stats)
	if err != nil {
		c.Close()
		return nil, err
	}
	e.log.Info("link socket open", "addr", c.LocalAddr().String())
	e.linkParts, e.linkConn = parts, c
	return parts, nil
}

// dtlsRetransmission is when the server first resends a DTLS handshake
// flight not answered (doubling after each), instead of pion's 1 s: a
// flight lost to a busy client or network then costs a join 200 ms, not
// a second or three. Browsers start at twice the ICE round trip, at least
// 50 ms; a client farther than 100 ms away may get a flight twice.
const dtlsRetransmission = 200 * time.Millisecond

// apiParts are what a peer's own API is built from (Engine.peerAPI).
type apiParts struct {
	mux   *udpMux
	media *webrtc.MediaEngine
	// interceptors are every peer's; a peer's feedback is added to them.
	interceptors []interceptor.Factory
	settings     webrtc.SettingEngine
	// linkSettings are settings without the public addresses, for links.
	linkSettings webrtc.SettingEngine
}

func newAPI(cfg Config, shards []*udpBatcher, stats *Stats) (*apiParts, error) {
	conn := shards[0]
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, err
	}
	logs := newPionLogs(cfg.Logger)
	ir := []interceptor.Factory{nackCounterFactory{stats: stats}}
	// NACKs to publishers keep video healthy across loss (those from
	// subscribers are answered from history.go); sender and receiver
	// reports come from the server itself (fastpath.go, rxreport.go), for
	// every stream, since the fast path never reaches pion's report
	// interceptors. TWCC feedback lets browsers estimate their send
	// bandwidth. With the video fast path, the server makes both itself
	// (feedback.go); without it, pion's interceptors do, made when a video
	// stream first needs them (lazyinterceptor.go).
	pionFeedback := cfg.DisableAudioFastPath || cfg.DisableVideoFastPath
	if err := configureNACK(m, &ir, pionFeedback, logs); err != nil {
		return nil, fmt.Errorf("sfu: nack: %w", err)
	}
	if err := configureTWCC(m, &ir, !cfg.DisableAudioFastPath, pionFeedback, logs); err != nil {
		return nil, fmt.Errorf("sfu: twcc: %w", err)
	}

	se := webrtc.SettingEngine{}
	se.LoggerFactory = logs
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	// One view of the host's interfaces for every ICE agent, read once:
	// otherwise each join dumps the interface table over netlink and keeps
	// its own copy (about 10 KiB a participant). Media uses the one socket
	// bound at start, so interfaces added later are not needed.
	hostNet, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("sfu: interfaces: %w", err)
	}
	se.SetNet(hostNet)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetDTLSRetransmissionInterval(dtlsRetransmission)
	// pion otherwise matches every media section's codecs against the
	// server's on each remote description, parsing every format line of
	// every section: a fifth of what a join allocated. The server offers
	// one list of codecs for every section of a kind, so the first
	// section of each kind settles them (TestMixedVideoCodecs).
	se.DisableMediaEngineMultipleCodecs(true)
	local := conn.LocalAddr().(*net.UDPAddr)
	if cfg.LoopbackOnly || local.IP.IsLoopback() {
		se.SetIncludeLoopbackCandidate(true)
	}
	if cfg.LoopbackOnly {
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	// Links between nodes (link.go) are on the nodes' own network: their
	// candidates are the addresses the host has, not the public ones.
	plain := se
	if len(cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("sfu: public ip: %w", err)
		}
	}
	// Created last: it starts the socket's reader.
	mux := newUDPMux(shards, cfg.Logger, stats)
	se.SetICEUDPMux(mux)
	plain.SetICEUDPMux(mux)
	return &apiParts{mux: mux, media: m, interceptors: ir, settings: se, linkSettings: plain}, nil
}

// configureNACK negotiates generic NACK (and PLI) for video, with pion's
// generator, made on first use, when gen is set.
func configureNACK(m *webrtc.MediaEngine, ir *[]interceptor.Factory, withGen bool, logs logging.LoggerFactory) error {
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	if !withGen {
		return nil
	}
	gen, err := nack.NewGeneratorInterceptor(nack.WithGeneratorLoggerFactory(logs))
	if err != nil {
		return err
	}
	// The generator asks publishers again for what did not arrive; what
	// subscribers ask for is answered from each track's history
	// (history.go), not by pion's responder.
	lgen, err := newLazyFactory(gen, func(info *interceptor.StreamInfo, local bool) bool { return !local && usesNACK(info) })
	if err != nil {
		return err
	}
	*ir = append(*ir, lgen)
	return nil
}

// configureTWCC negotiates transport-wide congestion control feedback for
// video and, unless the audio fast path takes audio off pion's path (where
// the feedback is produced), for audio too. Browsers then leave audio out
// of their bandwidth estimate, as they long did by default. pion's
// feedback sender, made on first use, is added when withSender is set.
func configureTWCC(m *webrtc.MediaEngine, ir *[]interceptor.Factory, videoOnly, withSender bool, logs logging.LoggerFactory) error {
	kinds := []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}
	if !videoOnly {
		kinds = append(kinds, webrtc.RTPCodecTypeAudio)
	}
	for _, k := range kinds {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, k)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, k); err != nil {
			return err
		}
	}
	if !withSender {
		return nil
	}
	gen, err := twcc.NewSenderInterceptor(twcc.WithLoggerFactory(logs))
	if err != nil {
		return err
	}
	lgen, err := newLazyFactory(gen, func(info *interceptor.StreamInfo, local bool) bool { return !local && usesTWCC(info) })
	if err != nil {
		return err
	}
	*ir = append(*ir, lgen)
	return nil
}

// registerCodecs limits negotiation to what browsers all decode and the SFU
// forwards untouched: Opus, VP8 and constrained-baseline H.264.
func registerCodecs(m *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
	}
	codecs := []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB,
		}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=96",
		}, PayloadType: 97}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=102",
		}, PayloadType: 103}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			return fmt.Errorf("sfu: register %s: %w", c.p.MimeType, err)
		}
	}
	// Simulcast layers name their section and rid in header extensions
	// (layers.go, ingresslayers.go).
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("sfu: simulcast extensions: %w", err)
		}
	}
	// Video sent to subscribers carries its send time, from which their
	// browsers estimate their bandwidth (abssend.go).
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.ABSSendTimeURI}, webrtc.RTPCodecTypeVideo); err != nil {
		return fmt.Errorf("sfu: abs-send-time extension: %w", err)
	}
	// The audio level extension lets the server tell who is speaking.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("sfu: audio level extension: %w", err)
	}
	return nil
}

// Kind is a track's media kind.
type Kind string

const (
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

func kindOf(k webrtc.RTPCodecType) Kind {
	if k == webrtc.RTPCodecTypeVideo {
		return KindVideo
	}
	return KindAudio
}

func (k Kind) codecType() webrtc.RTPCodecType {
	if k == KindVideo {
		return webrtc.RTPCodecTypeVideo
	}
	return webrtc.RTPCodecTypeAudio
}

func sameCodec(a, b webrtc.RTPCodecCapability) bool {
	if !strings.EqualFold(a.MimeType, b.MimeType) {
		return false
	}
	if strings.EqualFold(a.MimeType, webrtc.MimeTypeH264) {
		return fmtpValue(a.SDPFmtpLine, "packetization-mode") == fmtpValue(b.SDPFmtpLine, "packetization-mode")
	}
	return true
}

func fmtpValue(line, key string) string {
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

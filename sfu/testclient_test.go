package sfu

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// A participant's client for the SFU's own tests: a pion peer connection
// on loopback whose signaling with its Peer in a Router is carried in
// memory, in order. It publishes synthetic audio and VP8 video, the video
// as simulcast layers if asked, and keeps what it receives.

// testRoom is an engine and a router on loopback.
type testRoom struct {
	t      *testing.T
	engine *Engine
	router *Router
	layers chan TrackLayers // what OnLayers is told
	// held is what OnVideoHeld was told, in order.
	heldMu sync.Mutex
	held   []VideoHeld
	// video is the codec its clients send and receive: VP8 unless set.
	video webrtc.RTPCodecCapability
}

// heldNow says, of each subscriber and publisher whose video OnVideoHeld
// was told of, whether it is held back now.
func (room *testRoom) heldNow() map[[2]string]bool {
	room.heldMu.Lock()
	defer room.heldMu.Unlock()
	out := map[[2]string]bool{}
	for _, h := range room.held {
		out[[2]string{h.Subscriber, h.Track.Publisher}] = h.Held
	}
	return out
}

func newTestRoom(t *testing.T) *testRoom {
	t.Helper()
	return newTestRoomConfig(t, Config{})
}

// newTestRoomConfig is newTestRoom with more of the engine's settings.
func newTestRoomConfig(t *testing.T, cfg Config) *testRoom {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("DEBUGLOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg.UDPAddr, cfg.LoopbackOnly, cfg.Logger = "127.0.0.1:0", true, log
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	room := &testRoom{t: t, engine: e, layers: make(chan TrackLayers, 256),
		video: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}
	room.router = e.NewRouter(RouterParams{ID: "test", Logger: log, OnLayers: func(tl TrackLayers) {
		select {
		case room.layers <- tl:
		default:
		}
	}, OnVideoHeld: func(h VideoHeld) {
		room.heldMu.Lock()
		defer room.heldMu.Unlock()
		room.held = append(room.held, h)
	}})
	t.Cleanup(func() {
		room.router.Close()
		_ = e.Close()
	})
	return room
}

// clientOpts say what a test client publishes.
type clientOpts struct {
	audio bool
	// rids are the video's simulcast layers, lowest first; one layer
	// without a rid if it has a single "".
	rids []string
	// hold, if set, keeps the client from sending media until it closes.
	hold <-chan struct{}
	// noSendTime leaves abs-send-time out of what the client negotiates.
	noSendTime bool
	// api, if set, replaces clientAPI's.
	api *webrtc.API
	// levels has the client's audio carry a loud audio level.
	levels bool
}

// testClient is one participant.
type testClient struct {
	t    *testing.T
	id   string
	pc   *webrtc.PeerConnection
	peer *Peer

	qmu   sync.Mutex
	queue []func()
	wake  chan struct{}
	ready chan struct{} // peer is set
	hold  <-chan struct{}
	// offers counts the offers the server sent.
	offers atomic.Int32

	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   []error
	recv   map[string]*recvStream // by publisher and kind
	owners map[string]string      // stream id by mid, from the sections messages

	// What it publishes: audio, and video once published (publishVideo).
	audio       *webrtc.TrackLocalStaticRTP
	audioSender *webrtc.RTPSender
	video       atomic.Pointer[videoOut]
	// keyOnPLI makes a layer asked for a keyframe send one; plis counts
	// the requests per layer.
	keyOnPLI atomic.Bool
	forceKey [maxLayers]atomic.Bool
	plis     [maxLayers]atomic.Int64
	// remb, when set, is the estimate of its bandwidth (bits per second)
	// the client reports, as browsers do, every 100 ms.
	remb atomic.Int64
	// lost, when set, is the fraction lost (of 256) it reports of each
	// video with the estimate, as a receiver on a full link does.
	lost atomic.Int32
	// editAnswer, when set, edits the answers the client sends.
	editAnswer atomic.Pointer[func(string) string]
}

// videoOut is a client's video: its layers, on one sender.
type videoOut struct {
	layers []*webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
}

// recvStream is what arrived of one remote track.
type recvStream struct {
	mu   sync.Mutex
	pkts []recvPacket
}

type recvPacket struct {
	ssrc     uint32
	seq      uint16
	ts       uint32
	layer    byte
	keyframe bool
	// sendTime is the abs-send-time value, if hasSendTime, at the id the
	// client negotiated.
	sendTime    uint32
	hasSendTime bool
	extensions  int // how many header extensions it carried
}

func (s *recvStream) packets() []recvPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recvPacket(nil), s.pkts...)
}

// clientAPI is a client's pion API: Opus, the video codec given, the
// simulcast header extensions, abs-send-time for video if sendTime, no
// interceptors but what extra adds.
func clientAPI(t *testing.T, video webrtc.RTPCodecCapability, sendTime bool, extra ...func(*webrtc.MediaEngine, *interceptor.Registry) error) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	video.RTCPFeedback = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	for _, c := range []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: video, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
	} {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			t.Fatal(err)
		}
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	if sendTime {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.ABSSendTimeURI}, webrtc.RTPCodecTypeVideo); err != nil {
			t.Fatal(err)
		}
	}
	ir := &interceptor.Registry{}
	for _, f := range extra {
		if err := f(m, ir); err != nil {
			t.Fatal(err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(loopbackSettings()),
		webrtc.WithInterceptorRegistry(ir))
}

// join adds a client to the room as id, publishing what o says.
func (room *testRoom) join(id string, o clientOpts) *testClient {
	t := room.t
	t.Helper()
	// As browsers do, the client sends header extensions in the clear.
	api := o.api
	if api == nil {
		var extra []func(*webrtc.MediaEngine, *interceptor.Registry) error
		if o.levels {
			extra = append(extra, func(m *webrtc.MediaEngine, _ *interceptor.Registry) error {
				return m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio)
			})
		}
		api = clientAPI(t, room.video, !o.noSendTime, extra...)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{RTPHeaderEncryptionPolicy: webrtc.RTPHeaderEncryptionPolicyDisable})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &testClient{t: t, id: id, pc: pc, wake: make(chan struct{}, 1), ready: make(chan struct{}), ctx: ctx, cancel: cancel, recv: map[string]*recvStream{}, owners: map[string]string{}, hold: o.hold}
	c.keyOnPLI.Store(true)
	if o.audio {
		c.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", id)
		if err == nil {
			var tr *webrtc.RTPTransceiver
			if tr, err = pc.AddTransceiverFromTrack(c.audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err == nil {
				c.audioSender = tr.Sender()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(o.rids) > 0 {
		c.publishVideo(room.video, o.rids)
	}
	pc.OnTrack(c.onTrack)
	pc.OnICECandidate(func(ci *webrtc.ICECandidate) {
		if ci != nil {
			c.do(func() { _ = c.peer.AddICECandidate(ci.ToJSON()) })
		}
	})
	// Signaling is applied once the peer is known.
	c.wg.Add(1)
	go c.run()
	p, err := room.router.AddPeer(PeerParams{ID: id, Signaler: c})
	if err != nil {
		c.cancel()
		t.Fatal(err)
	}
	c.peer = p
	close(c.ready)
	t.Cleanup(c.close)
	c.wg.Add(1)
	go c.generate()
	c.wg.Add(1)
	go c.reportBandwidth()
	return c
}

// reportBandwidth sends the estimate in remb, once set, about every
// video stream received.
func (c *testClient) reportBandwidth() {
	defer c.wg.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		bps := c.remb.Load()
		if bps == 0 {
			continue
		}
		var ssrcs []uint32
		c.mu.Lock()
		for key, s := range c.recv {
			if strings.HasSuffix(key, "/video") {
				if p := s.packets(); len(p) > 0 {
					ssrcs = append(ssrcs, p[len(p)-1].ssrc)
				}
			}
		}
		c.mu.Unlock()
		if len(ssrcs) > 0 {
			pkts := []rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(bps), SSRCs: ssrcs}}
			if lost := c.lost.Load(); lost > 0 {
				rr := &rtcp.ReceiverReport{}
				for _, ssrc := range ssrcs {
					rr.Reports = append(rr.Reports, rtcp.ReceptionReport{SSRC: ssrc, FractionLost: uint8(lost)})
				}
				pkts = append(pkts, rr)
			}
			_ = c.pc.WriteRTCP(pkts)
		}
	}
}

func (c *testClient) publishVideo(codec webrtc.RTPCodecCapability, rids []string) {
	t := c.t
	v := &videoOut{}
	for _, rid := range rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(codec, "video", c.id, opts...)
		if err != nil {
			t.Fatal(err)
		}
		v.layers = append(v.layers, tr)
	}
	x, err := c.pc.AddTransceiverFromTrack(v.layers[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	v.sender = x.Sender()
	for _, tr := range v.layers[1:] {
		if err := v.sender.AddEncoding(tr); err != nil {
			t.Fatal(err)
		}
	}
	for i, tr := range v.layers {
		c.forceKey[i].Store(true)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.readRTCP(v.sender, i, tr.RID())
		}()
	}
	c.video.Store(v)
}

// offer sends the server an offer of the client's own, as browsers do to
// publish simulcast.
func (c *testClient) offer() {
	c.do(func() {
		o, err := c.pc.CreateOffer(nil)
		if err == nil {
			err = c.pc.SetLocalDescription(o)
		}
		if err == nil {
			var ignored bool
			if ignored, err = c.peer.HandleOffer(browserLike(o.SDP)); ignored {
				err = errors.New("offer ignored")
			}
		}
		if err != nil {
			c.fail(err)
		}
	})
}

// readRTCP turns keyframe requests about layer i into a keyframe.
func (c *testClient) readRTCP(sender *webrtc.RTPSender, i int, rid string) {
	for {
		var pkts []rtcp.Packet
		var err error
		if rid == "" {
			pkts, _, err = sender.ReadRTCP()
		} else {
			pkts, _, err = sender.ReadSimulcastRTCP(rid)
		}
		if err != nil {
			return
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.PictureLossIndication); ok {
				c.plis[i].Add(1)
				if c.keyOnPLI.Load() {
					c.forceKey[i].Store(true)
				}
			}
		}
	}
}

// generate sends 50 audio packets a second and, on each layer, a
// one-packet video frame every 20 ms: a keyframe first and when asked. Its
// payload's third byte is the layer's index.
func (c *testClient) generate() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq [maxLayers + 1]uint16
	var ts [maxLayers + 1]uint32
	midID, ridID := uint8(0), uint8(0)
	if c.hold != nil {
		select {
		case <-c.ctx.Done():
			return
		case <-c.hold:
		}
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		if c.audio != nil {
			seq[maxLayers]++
			ts[maxLayers] += 960
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq[maxLayers], Timestamp: ts[maxLayers]}, Payload: make([]byte, 40)}
			for _, e := range c.audioSender.GetParameters().HeaderExtensions {
				if e.URI == sdp.AudioLevelURI {
					_ = pkt.SetExtension(uint8(e.ID), []byte{0x80 | 20}) // voiced, -20 dBov
				}
			}
			_ = c.audio.WriteRTP(pkt)
		}
		v := c.video.Load()
		if v == nil {
			continue
		}
		if midID == 0 {
			for _, e := range v.sender.GetParameters().HeaderExtensions {
				switch e.URI {
				case sdp.SDESMidURI:
					midID = uint8(e.ID)
				case sdp.SDESRTPStreamIDURI:
					ridID = uint8(e.ID)
				}
			}
		}
		mid := c.videoMid(v.sender)
		for i, tr := range v.layers {
			key := c.forceKey[i].Swap(false)
			payload := make([]byte, 100*(i+1))
			payload[2] = byte(i)
			switch h264 := tr.Codec().MimeType == webrtc.MimeTypeH264; {
			case h264 && key:
				payload[0] = 0x65 // an IDR slice
			case h264:
				payload[0] = 0x41
			case key: // VP8: a payload descriptor, then the frame tag's P bit
				payload[0], payload[1] = 0x10, 0x00
			default:
				payload[0], payload[1] = 0x10, 0x01
			}
			seq[i]++
			ts[i] += 1800
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq[i] + uint16(1000*i), Timestamp: ts[i] + uint32(7777*i), Marker: true}, Payload: payload}
			if midID != 0 && mid != "" && tr.RID() != "" {
				_ = pkt.SetExtension(midID, []byte(mid))
				_ = pkt.SetExtension(ridID, []byte(tr.RID()))
			}
			_ = tr.WriteRTP(pkt)
		}
	}
}

func (c *testClient) videoMid(sender *webrtc.RTPSender) string {
	for _, x := range c.pc.GetTransceivers() {
		if x.Sender() == sender {
			return x.Mid()
		}
	}
	return ""
}

func (c *testClient) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	var sendTimeID uint8
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.ABSSendTimeURI {
			sendTimeID = uint8(e.ID)
		}
	}
	mid := ""
	for _, x := range c.pc.GetTransceivers() {
		if x.Receiver() == recv {
			mid = x.Mid()
		}
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			rp := recvPacket{ssrc: pkt.SSRC, seq: pkt.SequenceNumber, ts: pkt.Timestamp}
			rp.extensions = len(pkt.GetExtensionIDs())
			if e := pkt.GetExtension(sendTimeID); sendTimeID != 0 && len(e) == 3 {
				rp.sendTime, rp.hasSendTime = uint32(e[0])<<16|uint32(e[1])<<8|uint32(e[2]), true
			}
			if len(pkt.Payload) > 2 && tr.Kind() == webrtc.RTPCodecTypeVideo {
				rp.layer, rp.keyframe = pkt.Payload[2], isKeyframe(tr.Codec().MimeType, pkt.Payload)
			}
			// Whose it is, as the sections messages say now; nobody's
			// media is dropped.
			s := c.streamOf(mid, tr.Kind().String())
			if s == nil {
				continue
			}
			s.mu.Lock()
			s.pkts = append(s.pkts, rp)
			s.mu.Unlock()
		}
	}()
}

// streamOf returns the stream a packet on mid belongs to now, nil if the
// section carries nobody.
func (c *testClient) streamOf(mid, kind string) *recvStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	owner := c.owners[mid]
	if owner == "" {
		return nil
	}
	key := owner + "/" + kind
	s := c.recv[key]
	if s == nil {
		s = &recvStream{}
		c.recv[key] = s
	}
	return s
}

// SendSections implements Signaler: applied in order with the offers.
func (c *testClient) SendSections(ss []Section) {
	c.do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, x := range ss {
			switch {
			case x.Publisher == "":
				delete(c.owners, x.Mid)
			case x.Screen:
				c.owners[x.Mid] = ScreenStreamID(x.Publisher)
			default:
				c.owners[x.Mid] = x.Publisher
			}
		}
	})
}

// stream returns what arrived from publisher's kind, nil if nothing.
func (c *testClient) stream(publisher string, kind Kind) *recvStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recv[publisher+"/"+string(kind)]
}

// SendOffer, SendAnswer and SendCandidate implement Signaler: queued, to
// be applied in order on the client's goroutine.
func (c *testClient) SendOffer(s string) {
	c.offers.Add(1)
	c.do(func() {
		if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s}); err != nil {
			c.fail(err)
			return
		}
		a, err := c.pc.CreateAnswer(nil)
		if err == nil {
			err = c.pc.SetLocalDescription(a)
		}
		if err == nil {
			sdp := browserLike(a.SDP)
			if edit := c.editAnswer.Load(); edit != nil {
				sdp = (*edit)(sdp)
			}
			err = c.peer.HandleAnswer(sdp)
		}
		if err != nil {
			c.fail(err)
		}
	})
}

func (c *testClient) SendAnswer(s string) {
	c.do(func() {
		if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s}); err != nil {
			c.fail(err)
		}
	})
}

func (c *testClient) SendCandidate(ci webrtc.ICECandidateInit) {
	c.do(func() {
		if err := c.pc.AddICECandidate(ci); err != nil {
			c.fail(err)
		}
	})
}

func (c *testClient) do(f func()) {
	c.qmu.Lock()
	c.queue = append(c.queue, f)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *testClient) fail(err error) {
	if c.ctx.Err() != nil || errors.Is(err, ErrClosed) {
		return // the test is over
	}
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *testClient) run() {
	defer c.wg.Done()
	select {
	case <-c.ctx.Done():
		return
	case <-c.ready:
	}
	for {
		c.qmu.Lock()
		q := c.queue
		c.queue = nil
		c.qmu.Unlock()
		for _, f := range q {
			if c.ctx.Err() != nil {
				return
			}
			f()
		}
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		}
	}
}

func (c *testClient) close() {
	c.cancel()
	c.peer.Close()
	_ = c.pc.Close()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		c.t.Errorf("client %s: %v", c.id, c.errs)
	}
}

// waitFor waits until cond holds, within a step's budget.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := budget.Deadline(t, budget.Step)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loopbackSettings keep a client's ICE to UDP on loopback, without mDNS.
func loopbackSettings() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// browserLike drops from a description the SSRCs of simulcast layers, as
// browsers send it: their layers are known by rid alone.
func browserLike(desc string) string {
	if !strings.Contains(desc, "a=simulcast:") {
		return desc
	}
	var out []string
	video := false
	for _, line := range strings.SplitAfter(desc, "\n") {
		if strings.HasPrefix(line, "m=") {
			video = strings.HasPrefix(line, "m=video")
		}
		if video && (strings.HasPrefix(line, "a=ssrc:") || strings.HasPrefix(line, "a=ssrc-group:")) {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

// forwarded is how many packets of pub's kind the server has sent sub:
// the server's own count, exact whatever the client has read so far.
func (room *testRoom) forwarded(sub, pub string, kind Kind) uint64 {
	r := room.router
	r.mu.Lock()
	var d *downTrack
	for _, x := range r.peers[sub].downs {
		if x.pub.info.Publisher == pub && x.kind == kind {
			d = x
		}
	}
	r.mu.Unlock()
	if d == nil {
		return 0
	}
	d.pub.fwdMu.Lock()
	defer d.pub.fwdMu.Unlock()
	return d.forwarded
}

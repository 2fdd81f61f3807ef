// Package peer is a Go (pion) Hearth client for tests (the load tool has
// its own, internal/load/hearthclient.go): it joins over the real websocket protocol, publishes synthetic Opus-like
// audio and VP8-like video RTP, and counts what it receives per publisher.
package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Options describe a client.
type Options struct {
	URL      string // ws://127.0.0.1:port/ws
	Room     string
	Name     string
	Token    string
	Passcode string
	// Audio and Video make the client publish that kind.
	Audio, Video bool
	// VideoCodec is the video's MIME type: VP8 if empty, or H.264
	// (constrained baseline, packetization mode 1).
	VideoCodec string
	// Header is sent with the websocket upgrade (e.g. Origin).
	Header http.Header
	// Resume and NewPeer make Join resume a held seat (see PROTOCOL.md).
	Resume  string
	NewPeer bool
}

// Message is one server message, kept raw with its type.
type Message struct {
	Type string
	Raw  json.RawMessage
}

// Decode unmarshals the message into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Raw, v) }

// Stream counts what arrived from one publisher's track.
type Stream struct {
	Packets   atomic.Uint64
	Bytes     atomic.Uint64
	Keyframes atomic.Uint64
	Ended     atomic.Bool
	lastSeq   atomic.Uint32
	Gaps      atomic.Uint64 // sequence numbers skipped
	// SenderReports counts the RTCP sender reports about this track.
	SenderReports atomic.Uint64
	// Repeats counts packets whose sequence number arrived before
	// (retransmissions answering a NACK).
	Repeats atomic.Uint64
	// SSRC is the track's SSRC as this client receives it.
	SSRC atomic.Uint32
	// LastSeq is the newest sequence number received.
	LastSeq atomic.Uint32
	mime    atomic.Pointer[string]

	seen [1 << 16]bool // touched by the track's reader only
}

// Client is one synthetic participant.
//
// Lifecycle: Dial → (Join) → … → Close, which ends every goroutine.
type Client struct {
	opts Options
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection

	audio, video *webrtc.TrackLocalStaticRTP
	// KeyframeRequests counts PLI/FIR the server sent about our video.
	KeyframeRequests atomic.Uint64
	// ReceiverReports counts RTCP receiver reports about what we publish;
	// RoundTripReports those that echo one of our sender reports (LSR set),
	// from which a sender learns its round-trip time.
	ReceiverReports  atomic.Uint64
	RoundTripReports atomic.Uint64
	// SenderReports counts RTCP sender reports about what we receive.
	SenderReports atomic.Uint64
	// AudioReport is the last reception report about our audio.
	AudioReport atomic.Pointer[rtcp.ReceptionReport]
	// AudioLoss, when n > 0, leaves out every n-th audio packet (its
	// sequence number is used, the packet never sent), as loss on the way.
	AudioLoss     atomic.Uint32
	forceKeyframe atomic.Bool
	// Paused stops sending while true.
	Paused atomic.Bool
	// Speaking makes the audio level (RFC 6464) of what we send loud, as
	// speech; otherwise it says silence. The client never stops sending by
	// itself: a server mute does not pause it, so tests use it as a client
	// that ignores mutes.
	Speaking atomic.Bool

	wmu sync.Mutex // websocket writes

	mu       sync.Mutex
	msgs     []Message
	streams  map[string]*Stream   // key: participant + "/" + kind
	replaced map[string][]*Stream // ended streams a newer one replaced, by key
	selfID   string
	negErrs  []error
	changed  chan struct{}
	sending  bool
	resume   string
	hold     bool
	held     string
	pendingC []webrtc.ICECandidateInit

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	readDone chan struct{}
}

// NewAPI builds a pion API restricted to loopback ICE, like every test peer.
func NewAPI() (*webrtc.API, error) { return NewAPIWith() }

// NewAPIWith is NewAPI with extra interceptors, for tests that tamper with
// what the client sends.
func NewAPIWith(extra ...interceptor.Factory) (*webrtc.API, error) {
	return NewAPIFrom(LoopbackSettings(), extra...)
}

// NewAPIFrom is NewAPIWith on settings of the test's own (start from
// LoopbackSettings).
func NewAPIFrom(se webrtc.SettingEngine, extra ...interceptor.Factory) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	// Audio levels tell the server who is speaking.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	for _, f := range extra {
		ir.Add(f)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// LoopbackSettings keeps ICE on UDP over loopback, without mDNS, as every
// test peer does.
func LoopbackSettings() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// Dial connects the websocket and prepares the peer connection; it does
// not join.
func Dial(ctx context.Context, api *webrtc.API, opts Options) (*Client, error) {
	d := websocket.Dialer{} // bounded by ctx
	ws, resp, err := d.DialContext(ctx, opts.URL, opts.Header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("peer: dial: %w", err)
	}
	if api == nil {
		if api, err = NewAPI(); err != nil {
			ws.Close()
			return nil, err
		}
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		ws.Close()
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{opts: opts, ws: ws, pc: pc, streams: map[string]*Stream{}, replaced: map[string][]*Stream{}, changed: make(chan struct{}),
		ctx: cctx, cancel: cancel, readDone: make(chan struct{})}
	if opts.Audio {
		c.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "self")
		if err == nil {
			err = c.addSender(c.audio)
		}
	}
	if err == nil && opts.Video {
		vc := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		if strings.EqualFold(opts.VideoCodec, webrtc.MimeTypeH264) {
			vc = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
		}
		c.video, err = webrtc.NewTrackLocalStaticRTP(vc, "video", "self")
		if err == nil {
			err = c.addSender(c.video)
		}
	}
	if err != nil {
		close(c.readDone) // no read loop yet
		c.Close()
		return nil, err
	}
	pc.OnICECandidate(func(ci *webrtc.ICECandidate) {
		if ci != nil {
			init := ci.ToJSON()
			_ = c.Send(map[string]any{"type": "candidate", "candidate": init})
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		s := c.openStream(tr)
		c.wg.Add(2)
		go func() {
			defer c.wg.Done()
			c.readTrack(tr, s)
		}()
		go func() {
			defer c.wg.Done()
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok {
						c.SenderReports.Add(1)
						if sr.SSRC == uint32(tr.SSRC()) {
							s.SenderReports.Add(1)
						}
					}
				}
			}
		}()
	})
	go func() {
		defer close(c.readDone)
		c.readLoop()
	}()
	return c, nil
}

func (c *Client) addSender(t *webrtc.TrackLocalStaticRTP) error {
	tr, err := c.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	sender := tr.Sender()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p := p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					c.KeyframeRequests.Add(1)
					c.forceKeyframe.Store(true)
				case *rtcp.ReceiverReport:
					c.ReceiverReports.Add(1)
					for _, r := range p.Reports {
						if r.LastSenderReport != 0 {
							c.RoundTripReports.Add(1)
							break
						}
					}
					if t == c.audio {
						for _, r := range p.Reports {
							if encs := sender.GetParameters().Encodings; len(encs) > 0 && r.SSRC == uint32(encs[0].SSRC) {
								c.AudioReport.Store(&r)
							}
						}
					}
				}
			}
		}
	}()
	return nil
}

// SendRTCP sends RTCP about received media to the server (NACKs, PLIs).
func (c *Client) SendRTCP(pkts ...rtcp.Packet) error { return c.pc.WriteRTCP(pkts) }

// Join sends the join message (a resume, when Options.Resume is set).
func (c *Client) Join() error {
	return c.Send(map[string]any{"type": "join", "version": 1, "room": c.opts.Room, "name": c.opts.Name,
		"token": c.opts.Token, "passcode": c.opts.Passcode, "resume": c.opts.Resume, "newPeer": c.opts.NewPeer})
}

// ResumeSecret is the secret from the latest joined message.
func (c *Client) ResumeSecret() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resume
}

// Drop cuts the websocket without a goodbye, as a network failure would;
// the peer connection stays up.
func (c *Client) Drop() {
	c.wmu.Lock()
	ws := c.ws
	c.wmu.Unlock()
	_ = ws.NetConn().Close()
	<-c.readDone
}

// Reconnect opens a new websocket and resumes the seat with the latest
// resume secret, keeping the peer connection.
func (c *Client) Reconnect(ctx context.Context) error {
	d := websocket.Dialer{} // bounded by ctx
	ws, resp, err := d.DialContext(ctx, c.opts.URL, c.opts.Header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("peer: redial: %w", err)
	}
	c.wmu.Lock()
	c.ws = ws
	c.wmu.Unlock()
	c.readDone = make(chan struct{})
	go func() {
		defer close(c.readDone)
		c.readLoop()
	}()
	return c.Send(map[string]any{"type": "join", "version": 1, "room": c.opts.Room, "resume": c.ResumeSecret()})
}

// Send writes one JSON message.
func (c *Client) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendRaw(websocket.TextMessage, b)
}

// SendRaw writes one frame as is (for malformed-input tests).
func (c *Client) SendRaw(typ int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(budget.Step))
	return c.ws.WriteMessage(typ, b)
}

func (c *Client) readLoop() {
	defer c.notify()
	c.wmu.Lock()
	ws := c.ws
	c.wmu.Unlock()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.msgs = append(c.msgs, Message{Type: "_closed", Raw: json.RawMessage(fmt.Sprintf("%q", err.Error()))})
			c.mu.Unlock()
			return
		}
		var env struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(b, &env)
		c.mu.Lock()
		c.msgs = append(c.msgs, Message{Type: env.Type, Raw: b})
		c.mu.Unlock()
		switch env.Type {
		case "joined":
			var j struct {
				Self struct {
					ID string `json:"id"`
				} `json:"self"`
				Resume string `json:"resume"`
			}
			_ = json.Unmarshal(b, &j)
			c.mu.Lock()
			c.selfID = j.Self.ID
			c.resume = j.Resume
			c.mu.Unlock()
			c.startSending()
		case "offer":
			var m struct{ SDP string }
			_ = json.Unmarshal(b, &m)
			c.mu.Lock()
			hold := c.hold
			if hold {
				c.held = m.SDP
			}
			c.mu.Unlock()
			if !hold {
				c.answer(m.SDP)
			}
		case "answer":
			var m struct{ SDP string }
			_ = json.Unmarshal(b, &m)
			if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
				c.negError(err)
			}
			c.flushCandidates()
		case "candidate":
			var m struct {
				Candidate *webrtc.ICECandidateInit `json:"candidate"`
			}
			_ = json.Unmarshal(b, &m)
			if m.Candidate != nil {
				c.addCandidate(*m.Candidate)
			}
		}
		c.notify()
	}
}

// addCandidate adds a remote candidate, queueing it until a remote
// description exists.
func (c *Client) addCandidate(ci webrtc.ICECandidateInit) {
	c.mu.Lock()
	if c.pc.RemoteDescription() == nil {
		c.pendingC = append(c.pendingC, ci)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := c.pc.AddICECandidate(ci); err != nil {
		c.negError(err)
	}
}

func (c *Client) flushCandidates() {
	c.mu.Lock()
	pending := c.pendingC
	c.pendingC = nil
	c.mu.Unlock()
	for _, ci := range pending {
		if err := c.pc.AddICECandidate(ci); err != nil {
			c.negError(err)
		}
	}
}

// Hold makes the client keep server offers unanswered (true) or answer the
// one it holds and go back to answering at once (false).
func (c *Client) Hold(hold bool) {
	c.mu.Lock()
	c.hold = hold
	held := c.held
	c.held = ""
	c.mu.Unlock()
	if !hold && held != "" {
		c.answer(held)
	}
}

// Held returns the offer being held, if any.
func (c *Client) Held() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// answer applies a server offer and answers it.
func (c *Client) answer(sdp string) {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		c.negError(err)
		return
	}
	c.flushCandidates()
	ans, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(ans)
	}
	if err != nil {
		c.negError(err)
		return
	}
	_ = c.Send(map[string]any{"type": "answer", "sdp": ans.SDP})
}

// PC exposes the peer connection (for negotiation tests).
func (c *Client) PC() *webrtc.PeerConnection { return c.pc }

func (c *Client) negError(err error) {
	c.mu.Lock()
	c.negErrs = append(c.negErrs, err)
	c.mu.Unlock()
}

// NegotiationErrors returns errors met while applying the server's SDP.
func (c *Client) NegotiationErrors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.negErrs...)
}

// MimeType is the codec the track arrived in.
func (s *Stream) MimeType() string {
	if m := s.mime.Load(); m != nil {
		return *m
	}
	return ""
}

// openStream returns the counters for a track that has just arrived.
func (c *Client) openStream(tr *webrtc.TrackRemote) *Stream {
	key := tr.StreamID() + "/" + tr.Kind().String()
	c.mu.Lock()
	s := c.streams[key]
	if s == nil || s.Ended.Load() {
		if s != nil {
			c.replaced[key] = append(c.replaced[key], s)
		}
		s = &Stream{}
		c.streams[key] = s
	}
	if mime := tr.Codec().MimeType; s.MimeType() != mime {
		s.mime.Store(&mime)
	}
	c.mu.Unlock()
	c.notify()
	return s
}

func (c *Client) readTrack(tr *webrtc.TrackRemote, s *Stream) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	first := true
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			s.Ended.Store(true)
			c.notify()
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		if !first {
			if d := pkt.SequenceNumber - uint16(s.lastSeq.Load()); d > 1 && d < 1<<15 {
				s.Gaps.Add(uint64(d - 1))
			}
		}
		first = false
		if s.seen[pkt.SequenceNumber] {
			s.Repeats.Add(1)
		}
		s.seen[pkt.SequenceNumber] = true
		s.seen[pkt.SequenceNumber+1<<15] = false // forget the far half as seq wraps
		s.lastSeq.Store(uint32(pkt.SequenceNumber))
		s.LastSeq.Store(uint32(pkt.SequenceNumber))
		s.SSRC.Store(pkt.SSRC)
		s.Packets.Add(1)
		s.Bytes.Add(uint64(n))
		if tr.Kind() == webrtc.RTPCodecTypeVideo && isKeyframe(s.MimeType(), pkt.Payload) {
			s.Keyframes.Add(1)
		}
	}
}

// startSending starts the synthetic media generator once.
func (c *Client) startSending() {
	if c.audio == nil && c.video == nil {
		return
	}
	c.mu.Lock()
	started := c.sending
	c.sending = true
	c.mu.Unlock()
	if started {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.generate()
	}()
}

// generate sends 50 audio packets/s and 30 video frames/s (a keyframe first,
// every 3 s, and whenever asked).
func (c *Client) generate() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var aSeq, vSeq uint16
	var aTS, vTS uint32
	audioPayload := make([]byte, 80)
	videoPayload := make([]byte, 900)
	var n int
	lastKey := time.Time{}
	var levelID uint8
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		n++
		if c.Paused.Load() {
			continue
		}
		if c.audio != nil && n%2 == 0 {
			aSeq++
			aTS += 960
			audioPayload[0] = byte(aSeq)
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: aSeq, Timestamp: aTS, SSRC: 1}, Payload: audioPayload}
			levelID = c.setAudioLevel(&pkt.Header, levelID)
			if n := c.AudioLoss.Load(); n == 0 || aSeq%uint16(n) != 0 {
				_ = c.audio.WriteRTP(pkt)
			}
		}
		if c.video != nil && n%3 == 0 {
			key := c.forceKeyframe.Swap(false) || time.Since(lastKey) > 3*time.Second
			if key {
				lastKey = time.Now()
			}
			vTS += 3000
			setVideoPayload(c.video.Codec().MimeType, videoPayload, key)
			vSeq++
			_ = c.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: vSeq, Timestamp: vTS, Marker: true, SSRC: 2}, Payload: videoPayload})
		}
	}
}

// setVideoPayload makes p a one-packet frame of the codec: for VP8 a
// payload descriptor (S=1) then the frame tag's P bit (0 = keyframe); for
// H.264 a single NAL unit, IDR (5) or not (1).
func setVideoPayload(mime string, p []byte, key bool) {
	if strings.EqualFold(mime, webrtc.MimeTypeH264) {
		p[0] = 0x41
		if key {
			p[0] = 0x65
		}
		return
	}
	p[0], p[1] = 0x10, 0x01
	if key {
		p[1] = 0x00
	}
}

// isKeyframe tells a keyframe's packet from what setVideoPayload made.
func isKeyframe(mime string, p []byte) bool {
	if len(p) < 2 {
		return false
	}
	if strings.EqualFold(mime, webrtc.MimeTypeH264) {
		return p[0]&0x1f == 5
	}
	return p[0]&0x10 != 0 && p[1]&0x01 == 0
}

func (c *Client) notify() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// ID is the participant id the server gave us (after joined).
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.selfID
}

// Messages returns the server messages received so far.
func (c *Client) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Stream returns the counters for a publisher's kind ("audio"/"video"), or
// nil if no such track has arrived.
func (c *Client) Stream(participant, kind string) *Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[participant+"/"+kind]
}

// Received counts every packet of kind received from participant, over
// all the tracks it has published to us (a participant whose connection
// changed publishes anew).
func (c *Client) Received(participant, kind string) uint64 {
	key := participant + "/" + kind
	c.mu.Lock()
	defer c.mu.Unlock()
	var n uint64
	for _, s := range c.replaced[key] {
		n += s.Packets.Load()
	}
	if s := c.streams[key]; s != nil {
		n += s.Packets.Load()
	}
	return n
}

// ErrTimeout is returned by Wait when the deadline passes.
var ErrTimeout = errors.New("peer: condition not met before the deadline")

// Wait blocks until cond is true (re-checked on every event and every
// 20 ms) or ctx ends.
func (c *Client) Wait(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		case <-ch:
		case <-t.C:
		}
	}
}

// WaitMessage waits for a message of type typ (matching pred, if given)
// and returns it.
func (c *Client) WaitMessage(ctx context.Context, typ string, pred func(Message) bool) (Message, error) {
	var found Message
	err := c.Wait(ctx, func() bool {
		for _, m := range c.Messages() {
			if m.Type == typ && (pred == nil || pred(m)) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

// Close leaves (closing the websocket and peer connection) and waits for
// every goroutine.
func (c *Client) Close() {
	c.cancel()
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.ws.Close()
	// The read loop is the only one applying descriptions; closing the
	// peer connection while it does races pion's ICE agent creation and
	// leaks the agent, so wait for it first.
	<-c.readDone
	_ = c.pc.Close()
	c.wg.Wait()
}

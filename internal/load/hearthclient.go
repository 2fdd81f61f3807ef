package load

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// clientAPI is the pion API every synthetic participant of a run shares.
// It is deliberately bare: two codecs, no header extensions and no
// interceptors (no NACK, reports or TWCC), one certificate for all, so that
// the generator spends its CPU on moving packets, not on bookkeeping the
// server does not need from it. Video negotiates NACK, as browsers do, so
// that the server keeps for each subscription what it keeps for theirs;
// the generator never asks (nothing is lost on loopback).
type clientAPI struct {
	media    *webrtc.MediaEngine
	settings webrtc.SettingEngine
	api      *webrtc.API // shared, for the full (decrypting) receive path
	cert     webrtc.Certificate
}

func newClientAPI(video, allowRemote bool) (*clientAPI, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("load: register opus: %w", err)
	}
	// VP8 is registered even for audio-only runs: the server offers video
	// slots, and a participant without the codec would reject them noisily.
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}},
	}, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("load: register vp8: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	if !allowRemote {
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	// Replay protection costs a window update per packet and guards
	// against nothing on loopback.
	se.DisableSRTPReplayProtection(true)
	se.DisableSRTCPReplayProtection(true)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("load: key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("load: certificate: %w", err)
	}
	a := &clientAPI{media: m, settings: se, cert: *cert}
	a.api = a.newAPI(se)
	return a, nil
}

func (a *clientAPI) newAPI(se webrtc.SettingEngine) *webrtc.API {
	// An empty registry, not none: without one pion installs its default
	// interceptors (NACK, reports, TWCC, stats).
	return webrtc.NewAPI(webrtc.WithMediaEngine(a.media), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
}

// tapAPI is an API whose sockets hand received RTP to onRTP (see tap.go).
func (a *clientAPI) tapAPI(onRTP func([]byte)) (*webrtc.API, error) {
	n, err := newTapNet(onRTP)
	if err != nil {
		return nil, fmt.Errorf("load: network: %w", err)
	}
	se := a.settings
	se.SetNet(n)
	return a.newAPI(se), nil
}

// participant is what the orchestrator needs from a synthetic participant,
// whether it talks to Hearth or to the relay.
type participant interface {
	// times reports when the join steps happened.
	times() joinTimes
	// streams returns the receive streams so far, keyed by publisher and
	// kind.
	streams() map[string]*rxStream
	source() *mediaSource
	// key names this participant in others' streams() keys.
	key() string
	close()
}

// hearthClient is one synthetic participant on a Hearth server.
//
// Lifecycle: dialHearth → (media flows) → close, which ends its goroutines.
type hearthClient struct {
	room   string
	origin time.Time
	ws     *websocket.Conn
	pc     *webrtc.PeerConnection
	src    *mediaSource
	pace   *pacer
	audio  *webrtc.TrackLocalStaticRTP
	video  *webrtc.TrackLocalStaticRTP

	wmu sync.Mutex // websocket writes

	joinSent   time.Time
	answered   atomic.Int64 // ns since origin, 0 = not yet
	iceUp      atomic.Int64
	connected  atomic.Int64
	firstMedia atomic.Int64

	// bySSRC finds a stream from the light receive path; replaced, never
	// changed, after each offer.
	bySSRC  atomic.Pointer[map[uint32]*rxStream]
	unknown atomic.Uint64 // RTP with an SSRC no offer announced

	mu      sync.Mutex
	selfID  string
	rx      map[string]*rxStream
	pending []webrtc.ICECandidateInit
	errs    []error

	scratch rtp.Packet // the pacer's, reused per packet

	wg sync.WaitGroup
}

func dialHearth(ctx context.Context, capi *clientAPI, url, room, name string, media MediaOptions, decrypt bool,
	pace *pacer, phase time.Duration, origin time.Time) (*hearthClient, error) {
	c := &hearthClient{room: room, origin: origin, pace: pace, rx: map[string]*rxStream{}}
	empty := map[uint32]*rxStream{}
	c.bySSRC.Store(&empty)
	api := capi.api
	if !decrypt {
		var err error
		if api, err = capi.tapAPI(c.onRTP); err != nil {
			return nil, err
		}
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("load: dial %s: %w", url, err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{capi.cert}})
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("load: peer connection: %w", err)
	}
	c.ws, c.pc = ws, pc
	c.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2}, "audio", name)
	if err == nil {
		err = c.addSender(c.audio)
	}
	if err == nil && media.Video {
		c.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock}, "video", name)
		if err == nil {
			err = c.addSender(c.video)
		}
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("load: add tracks: %w", err)
	}
	c.src = newMediaSource(c, media, phase, 0, 0)
	pc.OnICECandidate(func(ci *webrtc.ICECandidate) {
		if ci != nil {
			_ = c.send(map[string]any{"type": "candidate", "candidate": ci.ToJSON()})
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s == webrtc.ICEConnectionStateConnected {
			c.iceUp.CompareAndSwap(0, int64(time.Since(origin)))
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			c.connected.CompareAndSwap(0, int64(time.Since(origin)))
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.readTrack(tr)
		}()
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.readLoop()
	}()
	c.joinSent = time.Now()
	if err := c.send(map[string]any{"type": "join", "version": 1, "room": room, "name": name}); err != nil {
		c.close()
		return nil, fmt.Errorf("load: join: %w", err)
	}
	return c, nil
}

// addSender attaches a track and drains its RTCP, turning keyframe requests
// into keyframes.
func (c *hearthClient) addSender(t *webrtc.TrackLocalStaticRTP) error {
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
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					if c.src != nil {
						c.src.wantKeyframe.Store(true)
					}
				}
			}
		}
	}()
	return nil
}

func (c *hearthClient) writeAudio(h *rtp.Header, p []byte) {
	c.scratch.Header, c.scratch.Payload = *h, p
	_ = c.audio.WriteRTP(&c.scratch)
}

func (c *hearthClient) writeVideo(h *rtp.Header, p []byte) {
	if c.video != nil {
		c.scratch.Header, c.scratch.Payload = *h, p
		_ = c.video.WriteRTP(&c.scratch)
	}
}

func (c *hearthClient) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (c *hearthClient) fail(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *hearthClient) readLoop() {
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Self struct {
				ID string `json:"id"`
			} `json:"self"`
			Type      string                   `json:"type"`
			SDP       string                   `json:"sdp"`
			Code      string                   `json:"code"`
			Message   string                   `json:"message"`
			Candidate *webrtc.ICECandidateInit `json:"candidate"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case "joined":
			c.answered.CompareAndSwap(0, int64(time.Since(c.origin)))
			c.mu.Lock()
			c.selfID = m.Self.ID
			c.mu.Unlock()
			c.pace.add(c.src)
		case "waiting":
			c.fail(fmt.Errorf("load: put in the waiting room (%s); use an open room", m.Message))
		case "error":
			c.fail(fmt.Errorf("load: server error %s: %s", m.Code, m.Message))
		case "offer":
			c.answer(m.SDP)
		case "candidate":
			if m.Candidate != nil && m.Candidate.Candidate != "" {
				c.addCandidate(*m.Candidate)
			}
		}
	}
}

func (c *hearthClient) answer(sdp string) {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		c.fail(fmt.Errorf("load: apply offer: %w", err))
		return
	}
	c.mapSSRCs(sdp)
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ci := range pending {
		_ = c.pc.AddICECandidate(ci)
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(ans)
	}
	if err != nil {
		c.fail(fmt.Errorf("load: answer: %w", err))
		return
	}
	_ = c.send(map[string]any{"type": "answer", "sdp": ans.SDP})
}

// addCandidate queues candidates that arrive before the first offer.
func (c *hearthClient) addCandidate(ci webrtc.ICECandidateInit) {
	c.mu.Lock()
	if c.pc.RemoteDescription() == nil {
		c.pending = append(c.pending, ci)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	_ = c.pc.AddICECandidate(ci)
}

// mapSSRCs points the light receive path at the streams an offer announces.
// A stream keeps its counters across renegotiations.
func (c *hearthClient) mapSSRCs(offer string) {
	m, err := ssrcStreams(offer)
	if err != nil {
		c.fail(fmt.Errorf("load: parse offer: %w", err))
		return
	}
	next := make(map[uint32]*rxStream, len(m))
	c.mu.Lock()
	for ssrc, key := range m {
		s := c.rx[key]
		if s == nil {
			clock := uint32(audioClock)
			if strings.HasSuffix(key, "/video") {
				clock = videoClock
			}
			s = newRxStream(clock)
			c.rx[key] = s
		}
		next[ssrc] = s
	}
	c.mu.Unlock()
	c.bySSRC.Store(&next)
}

// onRTP counts one packet on the light receive path. It runs on the
// socket's reader goroutine.
func (c *hearthClient) onRTP(b []byte) {
	ssrc := uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	s := (*c.bySSRC.Load())[ssrc]
	if s == nil {
		c.unknown.Add(1)
		return
	}
	now := time.Since(c.origin)
	c.firstMedia.CompareAndSwap(0, int64(now))
	s.packet(uint16(b[2])<<8|uint16(b[3]), uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7]), len(b), now)
}

// readTrack counts one remote track. It reads only the RTP header fields it
// needs: a full unmarshal per packet would be the generator's own overhead.
func (c *hearthClient) readTrack(tr *webrtc.TrackRemote) {
	clock := uint32(audioClock)
	if tr.Kind() == webrtc.RTPCodecTypeVideo {
		clock = videoClock
	}
	s := newRxStream(clock)
	c.mu.Lock()
	c.rx[tr.StreamID()+"/"+tr.Kind().String()] = s
	c.mu.Unlock()
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		now := time.Since(c.origin)
		c.firstMedia.CompareAndSwap(0, int64(now))
		s.packet(uint16(buf[2])<<8|uint16(buf[3]), uint32(buf[4])<<24|uint32(buf[5])<<16|uint32(buf[6])<<8|uint32(buf[7]), n, now)
	}
}

func (c *hearthClient) times() joinTimes {
	at := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return c.origin.Add(time.Duration(v))
	}
	return joinTimes{join: c.joinSent, answered: at(c.answered.Load()), iceUp: at(c.iceUp.Load()),
		connected: at(c.connected.Load()), firstMedia: at(c.firstMedia.Load())}
}

// joinTimes are the steps of one join; zero if a step did not happen.
type joinTimes struct {
	join       time.Time // join sent
	answered   time.Time // joined received
	iceUp      time.Time // ICE connected
	connected  time.Time // DTLS up: the peer connection is connected
	firstMedia time.Time // first packet from anyone
}

func (c *hearthClient) streams() map[string]*rxStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*rxStream, len(c.rx))
	for k, v := range c.rx {
		out[k] = v
	}
	return out
}

func (c *hearthClient) source() *mediaSource { return c.src }

func (c *hearthClient) key() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.selfID
}

func (c *hearthClient) errors() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errs...)
}

func (c *hearthClient) close() {
	if c.src != nil {
		c.pace.remove(c.src)
	}
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.ws.Close()
	_ = c.pc.Close()
	c.wg.Wait()
}

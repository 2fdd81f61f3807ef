// Package client is Hearth's Go client: it speaks the websocket protocol of
// signaling/PROTOCOL.md (join, resume, negotiation, trickled candidates,
// control messages; the server's messages are kept for the caller to
// read), holds one pion peer connection, publishes synthetic Opus-like
// audio and VP8- or H.264-like video RTP, and counts what it receives per
// publisher and kind.
//
// Two users: the tests of the server's packages, with the full pion stack
// (NewAPI), the built-in media generator and the client's own Streams; and
// the load tool (`hearth load`, internal/load), whose hundreds of synthetic
// participants share a Bare setup, send media from the tool's pacer
// (WriteAudio, WriteVideo) and count it in the tool's own Counters.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
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
	// Simulcast makes the built-in generator send the video as three
	// simulcast layers (SimulcastRIDs, lowest first: frames of a quarter,
	// half and the whole size), announced by rid alone as browsers do;
	// with ExternalMedia the caller sends them with WriteVideoLayer.
	Simulcast bool
	// Header is sent with the websocket upgrade (e.g. Origin).
	Header http.Header
	// Resume and NewPeer make Join resume a held seat (see PROTOCOL.md).
	Resume  string
	NewPeer bool
	// WriteTimeout bounds one websocket write; one minute if zero.
	WriteTimeout time.Duration

	// Bare, when set, is the setup the client shares with others (its
	// peer connection comes from it; Dial's api must be nil).
	Bare *Bare
	// ExternalMedia keeps the built-in generator off: the caller sends
	// with WriteAudio and WriteVideo.
	ExternalMedia bool
	// OnKeyframeRequest, when set, is called on each PLI or FIR the server
	// sends about the client's video, from an RTCP reader goroutine.
	OnKeyframeRequest func()
	// OnLayerKeyframeRequest, when set, is called instead of
	// OnKeyframeRequest on each PLI or FIR about one simulcast layer
	// (its index in SimulcastRIDs).
	OnLayerKeyframeRequest func(layer int)
	// OnVideoLayers, when set, is called with each video_layers message
	// (which layers of our camera anybody receives), from the websocket
	// reader.
	OnVideoLayers func(protocol.VideoLayers)
	// NewCounter, when set, makes the counter of each stream the client
	// starts to receive (Stream and Received then report nothing): on
	// pion's path once per track, on the light path once per publisher and
	// kind. It may be called from several goroutines.
	NewCounter func(publisher, kind string) Counter
	// DropMessages keeps no server messages (Messages returns none), for
	// clients that never read them.
	DropMessages bool
	// Origin is the instant arrival times are measured from; when Dial
	// is called if zero.
	Origin time.Time
}

// Timeline is when the steps of a join happened; zero if a step did not.
type Timeline struct {
	Join       time.Time // join sent
	Joined     time.Time // joined received
	Offered    time.Time // the server's first offer received
	Answered   time.Time // the answer to it sent
	ICEUp      time.Time // ICE connected
	Connected  time.Time // DTLS up: the peer connection is connected
	FirstMedia time.Time // first packet from anyone
}

// Client is one participant.
//
// Lifecycle: Dial → (Join) → … → Close, which ends every goroutine.
type Client struct {
	opts   Options
	origin time.Time
	api    *webrtc.API // the peer connections' (nil with a Bare setup)
	// pc is the peer connection; a seat back on a new one (joined's
	// newPeer) replaces it (newpeer.go).
	pc  atomic.Pointer[webrtc.PeerConnection]
	in  *receiver
	out *sender

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
	// AudioLoss, when n > 0, makes the generator leave out every n-th audio
	// packet (its sequence number is used, the packet never sent), as loss
	// on the way.
	AudioLoss atomic.Uint32
	// Paused stops the generator while true.
	Paused atomic.Bool
	// Speaking makes the audio level (RFC 6464) the generator sends loud,
	// as speech; otherwise it says silence. The client never stops sending
	// by itself: a server mute does not pause it, so tests use it as a
	// client that ignores mutes.
	Speaking atomic.Bool

	// Timeline, in time since origin; 0 = not yet.
	joinSent, joined, offered, answered, iceUp, connected atomic.Int64

	wsMu sync.Mutex
	ws   *wsConn // the current websocket

	mu      sync.Mutex
	msgs    []Message
	selfID  string
	resume  string
	negErrs []error
	changed chan struct{}
	hold    bool
	held    string
	// neg is the negotiation's own state, under negMu (negotiate.go).
	negMu    sync.Mutex
	neg      negotiation
	pendingC []webrtc.ICECandidateInit
	screen   *screen // nil until PublishScreen
	// screenAudio is nil until PublishScreenAudio.
	screenAudio *screenAudio

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Dial connects the websocket and prepares the peer connection, from api
// (NewAPI's if nil) or opts.Bare; it does not join.
func Dial(ctx context.Context, api *webrtc.API, opts Options) (*Client, error) {
	if opts.Bare != nil && api != nil {
		return nil, errors.New("client: both an API and a Bare setup")
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = time.Minute
	}
	origin := opts.Origin
	if origin.IsZero() {
		origin = time.Now()
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{opts: opts, origin: origin, changed: make(chan struct{}), ctx: cctx, cancel: cancel}
	c.in = newReceiver(c, origin)
	if b := opts.Bare; b != nil && b.light && b.transportCC {
		c.in.arrivals = newArrivals(mrand.Uint32())
	}
	c.out = &sender{c: c}
	ws, err := dialWS(ctx, opts.URL, opts.Header, opts.WriteTimeout)
	if err != nil {
		cancel()
		return nil, err
	}
	if opts.Bare == nil && api == nil {
		api, err = NewAPI()
	}
	c.api = api
	var pc *webrtc.PeerConnection
	if err == nil {
		pc, err = c.newPeerConnection()
	}
	if err != nil {
		cancel()
		ws.close()
		return nil, fmt.Errorf("client: peer connection: %w", err)
	}
	c.pc.Store(pc)
	if err := c.out.addTracks(opts); err != nil {
		cancel()
		ws.close()
		_ = pc.Close()
		c.wg.Wait()
		return nil, fmt.Errorf("client: add tracks: %w", err)
	}
	c.read(ws)
	if c.in.arrivals != nil {
		c.wg.Add(1)
		go c.sendFeedback(c.in.arrivals)
	}
	return c, nil
}

// read makes ws the current websocket and starts reading it.
func (c *Client) read(ws *wsConn) {
	c.wsMu.Lock()
	c.ws = ws
	c.wsMu.Unlock()
	ws.read(c.handle, func(err error) {
		c.keep(Message{Type: "_closed", Raw: json.RawMessage(fmt.Sprintf("%q", err.Error()))})
		c.notify()
	})
}

func (c *Client) current() *wsConn {
	c.wsMu.Lock()
	defer c.wsMu.Unlock()
	return c.ws
}

// Join sends the join message (a resume, when Options.Resume is set).
func (c *Client) Join() error {
	c.joinSent.CompareAndSwap(0, int64(time.Since(c.origin)))
	o := c.opts
	return c.Send(protocol.Join{Type: "join", Version: protocol.Version, Room: o.Room, Name: o.Name,
		Token: o.Token, Passcode: o.Passcode, Resume: o.Resume, NewPeer: o.NewPeer})
}

// Drop cuts the websocket without a goodbye, as a network failure would;
// the peer connection stays up.
func (c *Client) Drop() {
	ws := c.current()
	ws.drop()
	<-ws.done
}

// Reconnect opens a new websocket and resumes the seat with the latest
// resume secret, keeping the peer connection, unless the server seats it
// on a new one (joined's newPeer, as after the room moved to another
// node): then a new one publishes the same media (newpeer.go).
func (c *Client) Reconnect(ctx context.Context) error { return c.ReconnectVia(ctx, c.opts.URL) }

// ReconnectVia is Reconnect through another server: a node of the same
// cluster, which relays the resume to the node running the room.
func (c *Client) ReconnectVia(ctx context.Context, url string) error {
	ws, err := dialWS(ctx, url, c.opts.Header, c.opts.WriteTimeout)
	if err != nil {
		return err
	}
	c.read(ws)
	return c.Send(protocol.Join{Type: "join", Version: protocol.Version, Room: c.opts.Room, Resume: c.ResumeSecret()})
}

// Send writes one message as JSON.
func (c *Client) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("client: encode: %w", err)
	}
	return c.SendRaw(websocket.TextMessage, b)
}

// SendRaw writes one frame as is (for malformed-input tests).
func (c *Client) SendRaw(typ int, b []byte) error { return c.current().write(typ, b) }

// handle takes one server message.
func (c *Client) handle(b []byte) {
	var env protocol.Envelope
	_ = json.Unmarshal(b, &env)
	var j protocol.Joined
	if env.Type == "joined" {
		// Who the client is, before anyone waiting for joined is woken.
		_ = json.Unmarshal(b, &j)
		c.mu.Lock()
		c.selfID = j.Self.ID
		c.resume = j.Resume
		c.mu.Unlock()
	}
	c.keep(Message{Type: env.Type, Raw: b})
	switch env.Type {
	case "joined":
		if !c.joined.CompareAndSwap(0, int64(time.Since(c.origin))) && j.NewPeer {
			if err := c.renewPeer(); err != nil {
				c.negError(err)
			}
		}
		c.out.start()
	case "offer":
		c.offered.CompareAndSwap(0, int64(time.Since(c.origin)))
		var m protocol.SDP
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
		var m protocol.SDP
		_ = json.Unmarshal(b, &m)
		c.applyAnswer(m.SDP)
	case "sections":
		var m protocol.Sections
		if json.Unmarshal(b, &m) == nil {
			c.in.setSections(m.Sections)
		}
	case "video_layers":
		if f := c.opts.OnVideoLayers; f != nil {
			var m protocol.VideoLayers
			if json.Unmarshal(b, &m) == nil {
				f(m)
			}
		}
	case "candidate":
		var m protocol.Candidate
		_ = json.Unmarshal(b, &m)
		if m.Candidate != nil {
			c.addCandidate(*m.Candidate)
		}
	}
	c.notify()
}

// keep adds a message to those Messages returns.
func (c *Client) keep(m Message) {
	if c.opts.DropMessages {
		return
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

// addCandidate adds a remote candidate, queueing it until a remote
// description exists.
func (c *Client) addCandidate(ci webrtc.ICECandidateInit) {
	c.mu.Lock()
	if c.peer().RemoteDescription() == nil {
		c.pendingC = append(c.pendingC, ci)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := c.peer().AddICECandidate(ci); err != nil {
		c.negError(err)
	}
}

func (c *Client) flushCandidates() {
	c.mu.Lock()
	pending := c.pendingC
	c.pendingC = nil
	c.mu.Unlock()
	for _, ci := range pending {
		if err := c.peer().AddICECandidate(ci); err != nil {
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

// PC exposes the peer connection (for negotiation tests).
func (c *Client) PC() *webrtc.PeerConnection { return c.peer() }

// SendRTCP sends RTCP about received media to the server (NACKs, PLIs).
func (c *Client) SendRTCP(pkts ...rtcp.Packet) error { return c.peer().WriteRTCP(pkts) }

// WriteAudio sends one audio packet, for a client with ExternalMedia.
// Calls to it and WriteVideo take turns: they share one packet struct.
func (c *Client) WriteAudio(h *rtp.Header, payload []byte) error {
	return c.out.write(c.out.audio, h, payload)
}

// WriteVideo sends one video packet (nothing if the client has no video);
// see WriteAudio.
func (c *Client) WriteVideo(h *rtp.Header, payload []byte) error {
	return c.out.write(c.out.video, h, payload)
}

// WriteVideoLayer sends one packet of simulcast layer i (an index in
// SimulcastRIDs), for a client with Simulcast and ExternalMedia, carrying
// the mid and rid header extensions once they are negotiated; see
// WriteAudio.
func (c *Client) WriteVideoLayer(i int, h *rtp.Header, payload []byte) error {
	return c.out.writeLayer(i, h, payload)
}

// ID is the participant id the server gave us (after joined).
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.selfID
}

// ResumeSecret is the secret from the latest joined message.
func (c *Client) ResumeSecret() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resume
}

// Times reports when the steps of the join happened.
func (c *Client) Times() Timeline {
	at := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return c.origin.Add(time.Duration(v))
	}
	return Timeline{Join: at(c.joinSent.Load()), Joined: at(c.joined.Load()),
		Offered: at(c.offered.Load()), Answered: at(c.answered.Load()), ICEUp: at(c.iceUp.Load()),
		Connected: at(c.connected.Load()), FirstMedia: at(c.in.firstMedia.Load())}
}

// Messages returns the server messages received so far.
func (c *Client) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Stream returns the counters for a publisher's kind ("audio"/"video"), or
// nil if no such track has arrived.
func (c *Client) Stream(participant, kind string) *Stream { return c.in.stream(participant, kind) }

// Received counts every packet of kind received from participant, over
// all the tracks it has published to us (a participant whose connection
// changed publishes anew).
func (c *Client) Received(participant, kind string) uint64 { return c.in.received(participant, kind) }

func (c *Client) notify() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// ErrTimeout is returned by Wait when ctx ends first.
var ErrTimeout = errors.New("client: condition not met before the deadline")

// Wait blocks until cond is true (checked again on every message, track
// event and every 20 ms) or ctx ends.
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
	ws := c.current()
	ws.close()
	// The reader is the only one applying descriptions; closing the peer
	// connection while it does races pion's ICE agent creation and leaks
	// the agent, so wait for it first.
	<-ws.done
	_ = c.peer().Close()
	c.wg.Wait()
}

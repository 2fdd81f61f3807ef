package sfu

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Signaler carries one peer's negotiation messages to its client. The SFU
// calls it from several goroutines; implementations must be safe for that
// and must not block (queue the message).
type Signaler interface {
	SendOffer(sdp string)
	SendAnswer(sdp string)
	SendCandidate(c webrtc.ICECandidateInit)
	// SendSections tells the client what the given sections of its
	// connection carry now (sections.go).
	SendSections([]Section)
}

// PeerParams describes a participant's media connection.
type PeerParams struct {
	ID       string
	Signaler Signaler
	// CanPublish says whether the peer may publish a kind. The server only
	// offers publishing slots for allowed kinds and ignores other tracks.
	CanPublish func(Kind) bool
	// OnConnectionState, if set, is told of peer connection state changes.
	OnConnectionState func(webrtc.PeerConnectionState)
	// MaxTracks bounds how many tracks the peer may publish at once;
	// DefaultMaxTracks if zero. Tracks beyond it are not forwarded.
	MaxTracks int
	// OnRefusedTrack, if set, is told when a track is refused (not allowed,
	// or over MaxTracks), to tell the client.
	OnRefusedTrack func(kind Kind, reason error)
}

// DefaultMaxTracks allows a camera, a microphone and a screen share with
// its sound.
const DefaultMaxTracks = 4

// maxClientSections bounds the media sections a client's offers may add,
// as a multiple of its track limit: tracks beyond the limit are refused
// anyway, and each section costs the server a transceiver.
const maxClientSections = 2

// maxCandidates bounds the candidates a client may trickle for one ICE
// session (a real client has a few dozen at most, over all its networks):
// each costs the server's ICE agent a candidate, pairs and connectivity
// checks for the connection's life. An ICE restart starts a new count.
const maxCandidates = 64

// Peer is one participant's single peer connection, carrying what it
// publishes and what it receives.
//
// Negotiation: the server offers whenever its set of sending tracks changes,
// one offer at a time; changes made while an offer is outstanding are folded
// into the next one, and so are those made within the engine's
// NegotiationBatch of the first change (when several people join at once,
// each of the others gets one offer for all of them, not one each). The
// first offer goes at once. On collision the server is impolite: a client
// offer that arrives while the server's offer is outstanding is ignored.
//
// Lifecycle: Router.AddPeer → HandleAnswer/HandleOffer/AddICECandidate …
// → Close. Never reused.
type Peer struct {
	// fast is the fast path (fastpath.go), nil when off.
	fast *peerFast
	// feedback is what the server tells the peer of what it publishes
	// (feedback.go), nil when pion does.
	feedback *feedback
	// in drops what arrives on SSRCs not negotiated (ingress.go); mux is
	// where it is registered, nil in tests without an engine.
	in     *ingress
	mux    *udpMux
	bufs   *streamBuffers
	id     string
	router *Router
	pc     *webrtc.PeerConnection
	sig    Signaler
	can    func(Kind) bool
	// slots are the publishing slots (router.go): what arrives elsewhere is
	// a screen share. Their receivers are looked up as tracks arrive: pion
	// gives a slot a new one after the client made it inactive.
	slots []*webrtc.RTPTransceiver
	// maxTracks and onRefused: see PeerParams.
	maxTracks int
	onRefused func(Kind, error)
	log       *slog.Logger

	negMu       sync.Mutex // serializes negotiation and transceiver changes
	negotiating bool       // an offer of ours awaits its answer
	pending     bool       // something changed while negotiating
	// batch is how long changes are gathered before an offer; batchTimer,
	// when not nil, sends the one gathering (offerBatched).
	batch      time.Duration
	batchTimer *time.Timer
	closed     bool
	candidates []webrtc.ICECandidateInit
	// trickled counts the candidates the client sent for remoteUfrag.
	trickled    int
	remoteUfrag string
	// ownSections counts the media sections the server created (the two
	// publishing slots and those that carry subscriptions), so that what a
	// client's offer adds of its own can be bounded.
	ownSections int
	// sections are those that carry subscriptions, spares included, and
	// idle those that carry nobody now, for the next subscriptions
	// (slots.go, sections.go); spareSeq numbers their placeholders.
	// localGen counts the local descriptions set; offerGen is that of the
	// outstanding offer, and answeredGen that of our last offer answered.
	sections                        []*slot
	idle                            []*slot
	waiting                         []*slot // named for a subscription, awaiting an answer
	spareSeq                        int
	localGen, offerGen, answeredGen int

	// Guarded by Router.mu. sources are the published tracks by pion's
	// receiver, whose remote tracks are their simulcast layers; prefs, the
	// most this peer wants of each publisher's video, by publisher id, for
	// publishers in the router (layers.go).
	downs     map[string]*downTrack
	published map[string]*publishedTrack
	sources   map[*webrtc.RTPReceiver]*publishedTrack
	prefs     map[string]int8
	// importance orders publishers for this subscriber (bandwidth.go);
	// joined is the peer's place in the order of arrival.
	importance []string
	joined     int

	// bw is the subscriber's bandwidth estimate and retransmissions;
	// sendLog numbers the video sent to it, for the feedback bw's own
	// estimate is made from (delaybwe.go).
	bw      bandwidth
	sendLog *sendLog

	wg sync.WaitGroup // RTCP readers

	// rtcpSSRC names the server in the receiver reports it sends this peer.
	rtcpSSRC uint32
	// trackSeq numbers the tracks it publishes; under Router.mu.
	trackSeq int

	// link says whether the peer is a participant or an end of a link
	// with node far (link.go).
	link linkRole
	far  string
	// onWanted: see LinkParams; under Router.mu.
	onWanted func(TrackLayers)
}

// ID returns the peer's id.
func (p *Peer) ID() string { return p.id }

func (p *Peer) canPublish(k Kind) bool { return p.can == nil || p.can(k) }

func (p *Peer) refused(k Kind, err error) {
	if p.onRefused != nil {
		p.onRefused(k, err)
	}
}

// negotiate sends a fresh offer, or notes that one is needed once the
// outstanding one is answered.
func (p *Peer) negotiate() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	p.negotiateLocked()
}

func (p *Peer) negotiateLocked() {
	if p.closed || p.link == linkIn {
		return
	}
	if p.negotiating || p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.pending = true
		return
	}
	if p.localGen > 0 && p.batch > 0 {
		if p.batchTimer == nil {
			p.batchTimer = time.AfterFunc(p.batch, p.offerBatched)
		}
		return
	}
	p.offerLocked()
}

// offerBatched sends the offer for the changes gathered over a batch.
func (p *Peer) offerBatched() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	p.batchTimer = nil
	if p.closed {
		return
	}
	if p.negotiating || p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.pending = true
		return
	}
	p.offerLocked()
}

// offerLocked creates, sets and sends an offer. Under negMu, with no offer
// outstanding.
func (p *Peer) offerLocked() {
	p.pending = false
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.log.Warn("create offer", "err", err)
		return
	}
	if err := p.setLocalLocked(offer); err != nil {
		p.log.Warn("set local offer", "err", err)
		return
	}
	p.localGen++
	p.offerGen = p.localGen
	p.negotiating = true
	// New sections have their mids now: the client learns what they carry
	// before the offer that brings them.
	p.announceLocked(p.sections)
	p.sig.SendOffer(offer.SDP)
}

// HandleAnswer applies the client's answer to the outstanding offer.
func (p *Peer) HandleAnswer(sdp string) error {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if !p.negotiating {
		return ErrUnexpectedAnswer
	}
	if err := checkRemoteSDP(sdp); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err) // our offer stays outstanding
	}
	sdp, _ = keepSending(sdp, p.in.remoteSDP)
	err := p.setRemoteLocked(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
	if err != nil {
		// An answer pion refuses before taking it leaves our offer
		// outstanding, so the client can still answer it properly (pion
		// cannot roll back a local offer). One it took and then refused
		// has ended the offer: offer again, or the connection could never
		// renegotiate.
		if p.pc.SignalingState() == webrtc.SignalingStateStable {
			p.negotiating = false
			p.negotiateLocked()
		}
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	p.negotiating = false
	p.answeredGen = p.offerGen
	p.startWaitingLocked()
	p.flushCandidatesLocked()
	if p.pending {
		p.negotiateLocked()
	}
	return nil
}

// HandleOffer answers a client's offer. During a collision the offer is
// ignored (the client, being polite, rolls back and answers ours); ignored
// reports whether that happened.
func (p *Peer) HandleOffer(sdp string) (ignored bool, err error) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.closed {
		return false, ErrClosed
	}
	if p.negotiating {
		return true, nil
	}
	// pion cannot roll back a remote offer it took and then refused, which
	// would leave the connection unable to negotiate: refuse first.
	if err := checkRemoteSDP(sdp); err != nil {
		return false, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	// Each section becomes a transceiver kept for the connection's life;
	// a client may add a few (a screen share), not any number.
	if added, limit := strings.Count(sdp, "\nm=")-p.ownSections, maxClientSections*p.maxTracks; added > limit {
		return false, fmt.Errorf("%w: the offer adds %d media sections of its own, at most %d are taken", ErrBadSDP, added, limit)
	}
	prev := p.in.remoteSDP
	var kept []string
	if p.link == linkNone {
		// A link's sections end with their tracks, as they should.
		sdp, kept = keepSending(sdp, prev)
	}
	if err := p.setRemoteLocked(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return false, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		_ = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback, SDP: sdp})
		p.in.set(p.in.localSDP, prev)
		return false, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	if err := p.setLocalLocked(answer); err != nil {
		return false, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	p.localGen++
	p.sig.SendAnswer(inactiveIn(answer.SDP, kept))
	p.flushCandidatesLocked()
	if p.pending {
		p.negotiateLocked()
	}
	return false, nil
}

// Resync tells the client again what every section carries and sends the
// outstanding offer again, for a client that reconnected its signaling and
// may have missed them.
func (p *Peer) Resync() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.closed {
		return
	}
	p.resendSectionsLocked()
	if !p.negotiating {
		return
	}
	if d := p.pc.PendingLocalDescription(); d != nil {
		p.sig.SendOffer(d.SDP)
	}
}

// AddICECandidate adds a trickled remote candidate, queueing it until a
// remote description exists.
func (p *Peer) AddICECandidate(c webrtc.ICECandidateInit) error {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if !p.hasSectionLocked(c) {
		return fmt.Errorf("%w: %w", ErrBadCandidate, ErrUnknownSection)
	}
	if c.Candidate != "" { // not the end of candidates
		if p.trickled >= maxCandidates {
			return fmt.Errorf("%w: more than %d candidates", ErrBadCandidate, maxCandidates)
		}
		p.trickled++
	}
	if p.pc.RemoteDescription() == nil {
		if c.Candidate != "" { // counted above, so the queue is bounded too
			p.candidates = append(p.candidates, c)
		}
		return nil
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	return nil
}

// hasSectionLocked reports whether c names a media section of the
// connection: by sdpMid when it has one, else by sdpMLineIndex. A candidate
// with neither belongs to the bundled transport. Under negMu.
func (p *Peer) hasSectionLocked(c webrtc.ICECandidateInit) bool {
	if c.SDPMid == nil && c.SDPMLineIndex == nil {
		return true
	}
	sections := 0
	for _, t := range p.pc.GetTransceivers() {
		mid := t.Mid()
		if mid == "" {
			continue // not in any description yet
		}
		if c.SDPMid != nil && mid == *c.SDPMid {
			return true
		}
		sections++
	}
	return c.SDPMid == nil && int(*c.SDPMLineIndex) < sections
}

// setLocalLocked sets a local description, telling the ingress guard what
// it announces before and after, and registering the guard under its
// ufrag (the ICE agent's conn on the mux).
func (p *Peer) setLocalLocked(d webrtc.SessionDescription) error {
	p.in.expect(d.SDP, true)
	err := p.pc.SetLocalDescription(d)
	local := p.in.localSDP
	if err == nil {
		local = d.SDP
		if u := localUfrag(d.SDP); u != p.in.ufrag && p.mux != nil {
			p.mux.unguard(p.in.ufrag, p.in)
			p.mux.guard(u, p.in)
			p.in.ufrag = u
		}
	}
	p.in.set(local, p.in.remoteSDP)
	return err
}

// setRemoteLocked sets a remote description, telling the ingress guard
// what it announces before and after.
func (p *Peer) setRemoteLocked(d webrtc.SessionDescription) error {
	p.in.expect(d.SDP, false)
	err := p.pc.SetRemoteDescription(d)
	remote := p.in.remoteSDP
	if err == nil {
		remote = d.SDP
		// localUfrag reads any description's a=ice-ufrag.
		if u := localUfrag(d.SDP); u != p.remoteUfrag {
			if p.remoteUfrag != "" {
				p.trickled = 0 // an ICE restart
			}
			p.remoteUfrag = u
		}
	}
	p.in.set(p.in.localSDP, remote)
	return err
}

func (p *Peer) flushCandidatesLocked() {
	for _, c := range p.candidates {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Debug("queued candidate rejected", "err", err)
		}
	}
	p.candidates = nil
}

// Close leaves the router: this peer's tracks end everywhere, its
// connection closes, and every goroutine it started has ended on return.
func (p *Peer) Close() {
	p.router.removePeer(p)
}

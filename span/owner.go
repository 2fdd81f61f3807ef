package span

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/pion/webrtc/v4"
)

// Owner is the owner's side: it places participants' media on other
// nodes' Hosts, one websocket per node, opened when first needed.
type Owner struct {
	self    string
	secret  string
	resolve func(ctx context.Context, node string) (string, error)
	log     *slog.Logger

	mu     sync.Mutex
	conns  map[string]*ownerConn // by node
	closed bool
	wg     sync.WaitGroup
}

// NewOwner returns the owner's side for node self; resolve gives another
// node's base URL (http://host:port) from its id.
func NewOwner(self, secret string, resolve func(ctx context.Context, node string) (string, error), log *slog.Logger) *Owner {
	return &Owner{self: self, secret: secret, resolve: resolve, log: log.With("span", "owner"), conns: map[string]*ownerConn{}}
}

// Self is this node's id.
func (o *Owner) Self() string { return o.self }

// ownerConn is the websocket to one node, and the rooms it serves there.
type ownerConn struct {
	w     *wire
	node  string
	mu    sync.Mutex
	rooms map[string]*Remote
}

// Callbacks are what a room's router on another node tells its owner, as
// its own router's RouterParams do.
type Callbacks struct {
	OnLayers    func(sfu.TrackLayers)
	OnVideoHeld func(sfu.VideoHeld)
	// OnSendingQuality is told when much of the sound a participant
	// placed there sends starts or stops being lost on its way in, as
	// sfu.RouterParams.OnSendingQuality is, of peer.
	OnSendingQuality func(peer *RemotePeer, poor bool, lost float64)
	// OnPeerError is told that a participant's negotiation message was
	// refused there: an answer or offer (a bad description), or a
	// candidate (Refused says which).
	OnPeerError func(id string, what Refused, err string)
}

// Refused says what of a participant's negotiation another node refused.
type Refused int

// What another node may refuse.
const (
	RefusedDescription Refused = iota // an offer or an answer
	RefusedCandidate
)

// Remote is one room's media on another node: the participants placed
// there, and the links between its router and local, the owner's.
type Remote struct {
	oc   *ownerConn
	room string
	cb   Callbacks
	// links are set before ready closes: the node may answer the first
	// link offer before Open has them.
	links links
	ready chan struct{}
	gone  atomic.Bool // the node is gone (Lost)
	mu    sync.Mutex
	peers map[string]*RemotePeer
	// closed: Close or CloseIfIdle ran; nobody more is placed here.
	closed bool
}

// ErrClosed: a participant cannot be placed on a Remote that closed.
var ErrClosed = errors.New("span: the room's media on that node has closed")

// Lost reports whether r's node is gone: the connection to it ended, and
// with it the media of everyone placed there.
func (r *Remote) Lost() bool { return r.gone.Load() }

// RemotePeer is a participant's peer connection on another node. Its
// methods queue what they are given and report no error: what the other
// node refuses comes back through Callbacks.OnPeerError.
type RemotePeer struct {
	r      *Remote
	id     string
	params sfu.PeerParams
}

// Open links room's router local with a router of the room on node, and
// returns it.
func (o *Owner) Open(ctx context.Context, room, node string, local *sfu.Router, cb Callbacks) (*Remote, error) {
	oc, err := o.conn(ctx, node)
	if err != nil {
		return nil, err
	}
	rem := &Remote{oc: oc, room: room, cb: cb, peers: map[string]*RemotePeer{}, ready: make(chan struct{})}
	defer close(rem.ready)
	oc.mu.Lock()
	if oc.rooms[room] != nil {
		oc.mu.Unlock()
		return nil, fmt.Errorf("span: room %q is on %s already", room, node)
	}
	oc.rooms[room] = rem
	oc.mu.Unlock()
	if rem.links, err = addLinks(local, node, room, oc.w.send); err != nil {
		oc.mu.Lock()
		delete(oc.rooms, room)
		oc.mu.Unlock()
		return nil, err
	}
	return rem, nil
}

// conn returns the websocket to node, opening it if need be.
func (o *Owner) conn(ctx context.Context, node string) (*ownerConn, error) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil, errors.New("span: closed")
	}
	if oc := o.conns[node]; oc != nil {
		o.mu.Unlock()
		return oc, nil
	}
	o.mu.Unlock()
	base, err := o.resolve(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("span: where is node %s: %w", node, err)
	}
	h := http.Header{}
	h.Set(cluster.SecretHeader, o.secret)
	h.Set(cluster.NodeHeader, o.self)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}
	ws, resp, err := d.DialContext(ctx, cluster.WebsocketURL(base)+Path, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("span: connect to node %s: %w", node, err)
	}
	oc := &ownerConn{w: newWire(ws, o.log.With("node", node)), node: node, rooms: map[string]*Remote{}}
	o.mu.Lock()
	if o.closed || o.conns[node] != nil {
		// Closed, or another room connected first: use that one.
		other := o.conns[node]
		o.mu.Unlock()
		oc.w.wait()
		if other == nil {
			return nil, errors.New("span: closed")
		}
		return other, nil
	}
	o.conns[node] = oc
	o.wg.Add(1)
	o.mu.Unlock()
	go func() {
		defer o.wg.Done()
		o.read(oc)
	}()
	return oc, nil
}

// read takes node's messages until the connection ends.
func (o *Owner) read(oc *ownerConn) {
	defer func() {
		oc.w.wait()
		o.mu.Lock()
		if o.conns[oc.node] == oc {
			delete(o.conns, oc.node)
		}
		o.mu.Unlock()
		oc.mu.Lock()
		rooms := oc.rooms
		oc.rooms = map[string]*Remote{}
		oc.mu.Unlock()
		for _, r := range rooms {
			r.lost()
		}
	}()
	for {
		m, err := oc.w.read()
		if err != nil {
			o.log.Info("span: node gone", "node", oc.node, "err", err)
			return
		}
		oc.mu.Lock()
		r := oc.rooms[m.Room]
		oc.mu.Unlock()
		if r != nil {
			r.handle(m)
		}
	}
}

// Close ends every connection and waits for their readers.
func (o *Owner) Close() {
	o.mu.Lock()
	o.closed = true
	for _, oc := range o.conns {
		oc.w.close()
	}
	o.mu.Unlock()
	o.wg.Wait()
}

// handle takes one message about r from its node.
func (r *Remote) handle(m msg) {
	<-r.ready
	if r.links.out == nil {
		return // Open failed
	}
	if ok, err := r.links.handle(m); ok {
		if err != nil {
			r.oc.w.log.Info("span: link", "room", r.room, "op", m.Op, "err", err)
		}
		return
	}
	switch m.Op {
	case opLayers:
		if m.Layers != nil && r.cb.OnLayers != nil {
			r.cb.OnLayers(*m.Layers)
		}
		return
	case opHeld:
		if m.Held != nil && r.cb.OnVideoHeld != nil {
			r.cb.OnVideoHeld(*m.Held)
		}
		return
	}
	r.mu.Lock()
	p := r.peers[m.ID]
	r.mu.Unlock()
	if p == nil {
		return
	}
	sig := p.params.Signaler
	switch m.Op {
	case opPeerOffer:
		sig.SendOffer(m.SDP)
	case opPeerAnswer:
		sig.SendAnswer(m.SDP)
	case opPeerCand:
		if m.Candidate != nil {
			sig.SendCandidate(*m.Candidate)
		}
	case opSections:
		sig.SendSections(m.Sections)
	case opRefused:
		if p.params.OnRefusedTrack != nil {
			err := sfu.ErrNotAllowed
			if m.TooMany {
				err = sfu.ErrTooManyTracks
			}
			p.params.OnRefusedTrack(m.Kind, err)
		}
	case opState:
		if p.params.OnConnectionState != nil {
			p.params.OnConnectionState(connectionState(m.State))
		}
	case opSending:
		if r.cb.OnSendingQuality != nil {
			r.cb.OnSendingQuality(p, m.Poor, m.Lost)
		}
	case opError:
		if r.cb.OnPeerError != nil {
			what := RefusedDescription
			if m.Of == opCandidate {
				what = RefusedCandidate
			}
			r.cb.OnPeerError(m.ID, what, m.Err)
		}
	}
}

// lost tells each participant placed on r's node that its connection
// failed: the node is gone. The links end, and the tracks that came in on
// them here.
func (r *Remote) lost() {
	<-r.ready
	r.gone.Store(true)
	if r.links.out != nil {
		r.links.out.Close()
		r.links.in.Close()
	}
	r.mu.Lock()
	peers := make([]*RemotePeer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	for _, p := range peers {
		if p.params.OnConnectionState != nil {
			p.params.OnConnectionState(webrtc.PeerConnectionStateFailed)
		}
	}
}

func (r *Remote) send(m msg) {
	m.Room = r.room
	r.oc.w.send(m)
}

// AddPeer places a participant's peer connection on r's node; its first
// offer comes through params.Signaler.
func (r *Remote) AddPeer(params sfu.PeerParams) (*RemotePeer, error) {
	p := &RemotePeer{r: r, id: params.ID, params: params}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.peers[params.ID] = p
	r.mu.Unlock()
	can := func(k sfu.Kind) bool { return params.CanPublish == nil || params.CanPublish(k) }
	r.send(msg{Op: opAddPeer, ID: params.ID, Audio: can(sfu.KindAudio), Video: can(sfu.KindVideo)})
	return p, nil
}

// SetGate gives r's router the room's gate.
func (r *Remote) SetGate(g *sfu.Gate) {
	r.send(msg{Op: opGate, Gate: g.Forwards(), Open: g == nil})
}

// SetLayerPreference is sfu.Router's, for a subscriber placed on r.
func (r *Remote) SetLayerPreference(subscriber, publisher string, most int) {
	r.send(msg{Op: opLayer, ID: subscriber, Pub: publisher, Layer: most})
}

// SetImportance is sfu.Router's, for a subscriber placed on r.
func (r *Remote) SetImportance(subscriber string, publishers []string) {
	r.send(msg{Op: opImportance, ID: subscriber, Pubs: publishers})
}

// Close ends the room on r's node and its links here.
func (r *Remote) Close() {
	r.mu.Lock()
	was := r.closed
	r.closed = true
	r.mu.Unlock()
	if !was {
		r.close()
	}
}

// CloseIfIdle closes r if nobody is placed on it, and reports whether it
// did: a room's media on a node its last participant there left.
func (r *Remote) CloseIfIdle() bool {
	r.mu.Lock()
	if r.closed || len(r.peers) > 0 {
		r.mu.Unlock()
		return false
	}
	r.closed = true
	r.mu.Unlock()
	r.close()
	return true
}

// Closed reports whether r closed.
func (r *Remote) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *Remote) close() {
	r.oc.mu.Lock()
	if r.oc.rooms[r.room] == r {
		delete(r.oc.rooms, r.room)
	}
	r.oc.mu.Unlock()
	r.send(msg{Op: opCloseRoom})
	if r.links.out != nil {
		r.links.out.Close()
		r.links.in.Close()
	}
}

// HandleAnswer, HandleOffer, AddICECandidate, Resync and Close are
// sfu.Peer's, carried to the node.
func (p *RemotePeer) HandleAnswer(sdp string) error {
	p.r.send(msg{Op: opAnswer, ID: p.id, SDP: sdp})
	return nil
}

func (p *RemotePeer) HandleOffer(sdp string) (bool, error) {
	p.r.send(msg{Op: opOffer, ID: p.id, SDP: sdp})
	return false, nil
}

func (p *RemotePeer) AddICECandidate(c webrtc.ICECandidateInit) error {
	p.r.send(msg{Op: opCandidate, ID: p.id, Candidate: &c})
	return nil
}

func (p *RemotePeer) Resync() { p.r.send(msg{Op: opResync, ID: p.id}) }

func (p *RemotePeer) Close() {
	p.r.mu.Lock()
	if p.r.peers[p.id] == p {
		delete(p.r.peers, p.id)
	}
	p.r.mu.Unlock()
	p.r.send(msg{Op: opClosePeer, ID: p.id})
}

// ID is the participant's id.
func (p *RemotePeer) ID() string { return p.id }

// Remote is where p is.
func (p *RemotePeer) Remote() *Remote { return p.r }

// Node is the node r's media is on.
func (r *Remote) Node() string { return r.oc.node }

// connectionState reads a state as PeerConnectionState.String writes it.
func connectionState(s string) webrtc.PeerConnectionState {
	for _, st := range []webrtc.PeerConnectionState{webrtc.PeerConnectionStateNew, webrtc.PeerConnectionStateConnecting,
		webrtc.PeerConnectionStateConnected, webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed,
		webrtc.PeerConnectionStateClosed} {
		if st.String() == s {
			return st
		}
	}
	return webrtc.PeerConnectionStateUnknown
}

package span

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/pion/webrtc/v4"
)

// Host serves, on a node, the media of rooms other nodes own: each owner
// connects once (at Path, with the cluster secret and its node id in
// cluster.NodeHeader) and drives, for each of its rooms, a router here
// linked to its own.
type Host struct {
	engine *sfu.Engine
	secret cluster.Secret
	log    *slog.Logger
	up     websocket.Upgrader

	mu     sync.Mutex
	wires  map[*wire]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewHost returns a host for engine's media, taking owners with secret.
func NewHost(engine *sfu.Engine, secret string, log *slog.Logger) *Host {
	return &Host{engine: engine, secret: cluster.NewSecret(secret), log: log.With("span", "host"),
		up: websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}, wires: map[*wire]struct{}{}}
}

func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if peer, _ := h.secret.FromPeer(r); !peer {
		http.Error(w, "forbidden: only another Hearth server of this cluster may connect here", http.StatusForbidden)
		return
	}
	owner := r.Header.Get(cluster.NodeHeader)
	if owner == "" {
		http.Error(w, "the connecting node must name itself", http.StatusBadRequest)
		return
	}
	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	wr := newWire(ws, h.log.With("owner", owner))
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		wr.wait()
		return
	}
	h.wires[wr] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	h.serve(wr, owner)
	h.mu.Lock()
	delete(h.wires, wr)
	h.mu.Unlock()
}

// Close ends every owner's connection, and with it the rooms it drove
// here, and waits for them.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	for w := range h.wires {
		w.close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// hostRoom is one room's router here, its links with the owner and the
// participants whose media it serves.
type hostRoom struct {
	router *sfu.Router
	links  links
	peers  map[string]*sfu.Peer
}

// serve runs one owner's connection until it ends; the rooms it drove
// here end with it.
func (h *Host) serve(w *wire, owner string) {
	rooms := map[string]*hostRoom{}
	defer func() {
		for _, hr := range rooms {
			hr.router.Close()
		}
		w.wait()
	}()
	for {
		m, err := w.read()
		if err != nil {
			return
		}
		hr := rooms[m.Room]
		if m.Op == opCloseRoom {
			if hr != nil {
				hr.router.Close()
				delete(rooms, m.Room)
			}
			continue
		}
		if hr == nil && m.Op != opGate && m.Op != opAddPeer && m.Op != opLinkOffer {
			continue // about a room closed here: late
		}
		if hr == nil {
			if hr, err = h.open(w, owner, m.Room); err != nil {
				h.log.Warn("span: a room's router", "room", m.Room, "err", err)
				w.send(msg{Op: opError, Room: m.Room, Err: err.Error()})
				continue
			}
			rooms[m.Room] = hr
		}
		if err := h.handle(w, hr, m); err != nil {
			h.log.Info("span", "room", m.Room, "op", m.Op, "participant", m.ID, "err", err)
			if m.ID != "" {
				w.send(msg{Op: opError, Room: m.Room, ID: m.ID, Of: m.Op, Err: err.Error()})
			}
		}
	}
}

// open makes room's router here, linked to the owner's.
func (h *Host) open(w *wire, owner, room string) (*hostRoom, error) {
	r := h.engine.NewRouter(sfu.RouterParams{ID: room, Logger: h.log,
		OnLayers:    func(tl sfu.TrackLayers) { w.send(msg{Op: opLayers, Room: room, Layers: &tl}) },
		OnVideoHeld: func(v sfu.VideoHeld) { w.send(msg{Op: opHeld, Room: room, Held: &v}) },
		OnSendingQuality: func(q sfu.SendingQuality) {
			w.send(msg{Op: opSending, Room: room, ID: q.Publisher, Poor: q.Poor, Lost: q.Lost})
		},
	})
	l, err := addLinks(r, owner, room, w.send)
	if err != nil {
		r.Close()
		return nil, err
	}
	return &hostRoom{router: r, links: l, peers: map[string]*sfu.Peer{}}, nil
}

// handle applies one of the owner's messages to hr.
func (h *Host) handle(w *wire, hr *hostRoom, m msg) error {
	if ok, err := hr.links.handle(m); ok {
		return err
	}
	if m.Op == opGate {
		g := sfu.NewGate(m.Gate)
		if m.Open {
			g = nil
		}
		hr.router.SetGate(g)
		return nil
	}
	if m.Op == opAddPeer {
		return h.addPeer(w, hr, m)
	}
	p := hr.peers[m.ID]
	switch {
	case m.Op == opLayer:
		hr.router.SetLayerPreference(m.ID, m.Pub, m.Layer)
		return nil
	case m.Op == opImportance:
		hr.router.SetImportance(m.ID, m.Pubs)
		return nil
	case p == nil:
		return errors.New("no such participant here")
	}
	switch m.Op {
	case opAnswer:
		return p.HandleAnswer(m.SDP)
	case opOffer:
		_, err := p.HandleOffer(m.SDP)
		return err
	case opCandidate:
		if m.Candidate == nil {
			return nil
		}
		return p.AddICECandidate(*m.Candidate)
	case opResync:
		p.Resync()
	case opClosePeer:
		delete(hr.peers, m.ID)
		p.Close()
	}
	return nil
}

// addPeer makes a participant's peer connection here.
func (h *Host) addPeer(w *wire, hr *hostRoom, m msg) error {
	if old := hr.peers[m.ID]; old != nil {
		delete(hr.peers, m.ID)
		old.Close()
	}
	room, id, audio, video := m.Room, m.ID, m.Audio, m.Video
	p, err := hr.router.AddPeer(sfu.PeerParams{
		ID:       id,
		Signaler: peerSignaler{send: w.send, room: room, id: id},
		CanPublish: func(k sfu.Kind) bool {
			if k == sfu.KindVideo {
				return video
			}
			return audio
		},
		OnRefusedTrack: func(k sfu.Kind, err error) {
			w.send(msg{Op: opRefused, Room: room, ID: id, Kind: k, TooMany: errors.Is(err, sfu.ErrTooManyTracks)})
		},
		OnConnectionState: func(s webrtc.PeerConnectionState) {
			w.send(msg{Op: opState, Room: room, ID: id, State: s.String()})
		},
	})
	if err != nil {
		return err
	}
	hr.peers[id] = p
	return nil
}

// peerSignaler carries a participant's negotiation back to the owner.
type peerSignaler struct {
	send     func(msg)
	room, id string
}

func (s peerSignaler) SendOffer(sdp string) {
	s.send(msg{Op: opPeerOffer, Room: s.room, ID: s.id, SDP: sdp})
}
func (s peerSignaler) SendAnswer(sdp string) {
	s.send(msg{Op: opPeerAnswer, Room: s.room, ID: s.id, SDP: sdp})
}
func (s peerSignaler) SendCandidate(c webrtc.ICECandidateInit) {
	s.send(msg{Op: opPeerCand, Room: s.room, ID: s.id, Candidate: &c})
}
func (s peerSignaler) SendSections(ss []sfu.Section) {
	s.send(msg{Op: opSections, Room: s.room, ID: s.id, Sections: ss})
}

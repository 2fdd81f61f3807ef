package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// Room is one room while people are in it on this node: its people keyed
// by participant id (seated or waiting), the controls state machine, the
// media gate built from it, the ticker that samples audio for the active
// speaker and talk time, and the room's SFU router. It is the one place
// where a command is authorized and applied; it tells the router who may
// receive whom and each connection what changed.
//
// This file holds the type and what every other file of it uses: finding
// the sender, telling people (broadcasts under the lock), publishing the
// gate and the state, the router's track events and closing. seating.go
// seats and waits, moves.go moves a seat between connections, leaving.go
// releases people, commands_room.go applies commands, media.go carries
// the sender's own mute and negotiation, ticker.go runs the ticker.
//
// Every change happens under mu and, still under mu, sets the router's
// gate and then tells the clients: media stops before clients are told,
// clients receive versions in order, and a participant being seated sees
// each event either in its joined snapshot or after it. Sends never block
// (Conn.Send queues). Nothing slow runs under mu: the door (the store),
// creating or closing a peer connection and closing the router run
// outside it, since the router's track events take mu. Lock order:
// Rooms.mu, then mu, then the router's and the connections' own locks.
//
// Lifecycle: Rooms creates a room for the first arrival and closes it when
// the last person leaves (or when Rooms closes); a closed room is never
// handed out again. The ticker runs from the first seat until the close.
type Room struct {
	name   string
	cfg    *Config
	door   Door
	log    *slog.Logger
	router *sfu.Router
	// onEmpty is told when the last person left, to close the room.
	onEmpty func(*Room)

	mu     sync.Mutex
	people map[string]*person
	closed bool
	// media is its router and its media on other nodes (routers.go).
	media routers
	// linking serializes linking the room to another node (spread.go),
	// outside mu.
	linking sync.Mutex
	// ctl is nil until the first seat; after end_session the next seat
	// gets fresh controls whose versions continue from version.
	ctl     *Controls
	info    room.Info           // the room as last described by the door
	facHere bool                // whether a facilitator is here, as those waiting were last told
	version uint64              // the version last published
	active  string              // active speaker last sent
	talk    []protocol.TalkTime // talk_time last sent
	stop    chan struct{}       // ends the ticker (ticker.go)
	done    chan struct{}       // closed when the ticker has ended

	sampler audioSampler // the ticker's only

	// dirty asks the mirror goroutine, which runs with the ticker, for a
	// write; mdone is closed when it has ended (mirror_room.go).
	dirty chan struct{}
	mdone chan struct{}
	// keep is Rooms': set while the node hands its rooms over, when the
	// mirror is written no more and those released keep their presences.
	keep *atomic.Bool
	// term is the mirror's term this room took as it opened (0 until it
	// could); mirrored is the newest version the store took; failing is
	// set while it cannot be reached (mirror_room.go).
	term     atomic.Uint64
	mirrored atomic.Uint64
	failing  atomic.Bool
	// yielded is set once another node holds the room and the room gave
	// its people up to it (yield_room.go): nothing more is mirrored.
	yielded atomic.Bool
	// ready is closed once the room was restored (or found nothing to
	// restore); nobody arrives before.
	ready chan struct{}

	chats chatLog // ids and addresses of recent chat messages, never text (chat_room.go)
}

// doorTimeout bounds a store call made for no message (a departure, an
// expired seat).
const doorTimeout = 5 * time.Second

func newRoom(name string, cfg *Config, keep *atomic.Bool, onEmpty func(*Room)) *Room {
	r := &Room{name: name, cfg: cfg, door: cfg.Door, onEmpty: onEmpty, people: map[string]*person{},
		log: cfg.Logger.With("room", name), dirty: make(chan struct{}, 1), keep: keep, ready: make(chan struct{})}
	r.router = cfg.Engine.NewRouter(sfu.RouterParams{ID: name, Observer: r, Logger: r.log, OnLayers: r.tellLayers,
		OnVideoHeld: r.tellHeld, OnSendingQuality: r.tellSending})
	r.media.local = r.router
	return r
}

// Name is the room's name.
func (r *Room) Name() string { return r.name }

// senderLocked returns the seated person who sent a message through from:
// ErrWaiting for one in the waiting room, ErrNotSeated for a connection
// that holds no seat here (any more). Under mu.
func (r *Room) senderLocked(id string, from Conn) (*person, error) {
	x := r.people[id]
	switch {
	case x == nil || !x.speaksThrough(from):
		return nil, ErrNotSeated
	case x.state == room.StateWaiting:
		return nil, ErrWaiting
	case x.state != room.StateActive:
		return nil, ErrNotSeated
	}
	return x, nil
}

// selfMutedLocked is a person's own mute, which the controls hold.
func (r *Room) selfMutedLocked(id string) protocol.Media {
	if r.ctl == nil {
		return protocol.Media{}
	}
	return r.ctl.SelfMuted(id)
}

// broadcastLocked sends msg, encoded once, to every active person but
// skip (a participant id). Under mu.
func (r *Room) broadcastLocked(msg any, skip string) {
	raw, ok := r.encode(msg)
	for id, x := range r.people {
		if ok && id != skip && x.state == room.StateActive {
			x.conn.Send(raw)
		}
	}
}

// sendToLocked sends msg, encoded once, to the active people whose role
// has perm. Under mu.
func (r *Room) sendToLocked(perm room.Permission, msg any) {
	raw, ok := r.encode(msg)
	for _, x := range r.people {
		if ok && x.state == room.StateActive && x.p.Role.Can(perm) {
			x.conn.Send(raw)
		}
	}
}

// encode encodes msg once for many Sends, boxed once too.
func (r *Room) encode(msg any) (any, bool) {
	b, err := json.Marshal(msg)
	if err != nil {
		r.log.Error("encode a message", "err", err)
		return nil, false
	}
	return json.RawMessage(b), true
}

// publishLocked gives the router the gate the controls build for the
// current state, then tells every seated client. The gate is plain data:
// the SFU evaluates it itself and never calls back.
func (r *Room) publishLocked() {
	r.media.setGate(r.ctl.Gate())
	rankAll(&r.media, r.ctl, r.people, r.active)
	st := r.ctl.Snapshot()
	r.version = st.Version
	r.broadcastLocked(protocol.RoomStateMsg{Type: "room_state", RoomState: st}, "")
	select { // the mirror's writer takes the newest state (mirror_room.go)
	case r.dirty <- struct{}{}:
	default:
	}
}

// changedLocked publishes if the controls' version moved past before.
func (r *Room) changedLocked(before uint64) {
	if r.ctl.Version() != before {
		r.publishLocked()
	}
}

// sendWaitingList tells the room's admitters here who is waiting (in the
// whole room, every node's arrivals included).
func (r *Room) sendWaitingList(ctx context.Context) {
	msg, ok := r.waitingList(ctx)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sendToLocked(room.PermAdmit, msg)
}

// sendWaitingListTo tells one newly seated admitter who is waiting.
func (r *Room) sendWaitingListTo(ctx context.Context, x *person) {
	msg, ok := r.waitingList(ctx)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.people[x.p.ID] == x && x.state == room.StateActive {
		x.conn.Send(msg)
	}
}

func (r *Room) waitingList(ctx context.Context) (protocol.WaitingList, bool) {
	list, err := r.door.WaitingList(ctx, r.name)
	if err != nil {
		r.log.Warn("waiting list", "err", err)
		return protocol.WaitingList{}, false
	}
	entries := make([]protocol.WaitingEntry, 0, len(list))
	for _, p := range list {
		entries = append(entries, protocol.WaitingEntry{ID: p.ID, Identity: p.Identity, Name: p.Name,
			Since: p.JoinedAt.UTC().Format(time.RFC3339)})
	}
	return protocol.WaitingList{Type: "waiting_list", Entries: entries}, true
}

// TrackPublished implements sfu.Observer.
func (r *Room) TrackPublished(t sfu.TrackInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broadcastLocked(protocol.TrackPublished{Type: "track_published", Participant: t.Publisher, Track: trackOf(t)}, "")
}

// TrackUnpublished implements sfu.Observer. A screen track that ends ends
// its publisher's share, for everyone; its sound ending does not.
func (r *Room) TrackUnpublished(t sfu.TrackInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.Screen && t.Kind == sfu.KindVideo && r.ctl != nil && r.ctl.ScreenTrackEnded(t.Publisher) {
		r.publishLocked()
	}
	r.broadcastLocked(protocol.TrackUnpublished{Type: "track_unpublished", Participant: t.Publisher, Track: t.ID}, "")
}

// tellLayers tells a publisher which layers of its camera anybody
// receives now (the router's OnLayers, from its goroutines).
func (r *Room) tellLayers(tl sfu.TrackLayers) {
	msg, ok := videoLayers(tl)
	if !ok {
		return
	}
	r.tellActive(tl.Track.Publisher, msg)
}

// tellActive sends msg to id if they are seated and connected.
func (r *Room) tellActive(id string, msg any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.people[id]; x != nil && x.state == room.StateActive {
		x.conn.Send(msg)
	}
}

// tellHeld tells a subscriber that a video it shows is paused for its
// bandwidth, or comes again (the router's OnVideoHeld, from its
// goroutines).
func (r *Room) tellHeld(h sfu.VideoHeld) {
	msg := protocol.VideoPaused{Type: "video_paused", Participant: h.Track.Publisher, Track: h.Track.ID,
		Screen: h.Track.Screen, Paused: h.Held}
	r.tellActive(h.Subscriber, msg)
}

// tellSending tells a publisher that much of its sound is lost on the way
// in, or no longer, and the others that their connection is weak, or no
// longer (the router's OnSendingQuality, from its goroutines). A report
// of a peer connection no longer theirs is not about them.
func (r *Room) tellSending(q sfu.SendingQuality) {
	r.tellSendingOf(q.Publisher, q.Peer, q.Poor, q.Lost)
}

// tellSendingOf is tellSending of peer, id's peer connection here or on
// another node.
func (r *Room) tellSendingOf(id string, peer peerConn, poor bool, lost float64) {
	msg := protocol.SendingQuality{Type: "sending_quality", Poor: poor, Lost: math.Round(lost*1000) / 1000}
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.people[id]
	if x == nil || x.state != room.StateActive || x.peer == nil || x.peer != peer || x.sendPoor == poor {
		return
	}
	x.conn.Send(msg)
	was := x.weak()
	x.sendPoor = poor
	r.weakChangedLocked(x, was)
}

// SetHearing takes id's client's word on whether much of the sound it
// receives is lost; the others are told when that makes their connection
// weak, or no longer.
func (r *Room) SetHearing(id string, from Conn, poor bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, err := r.senderLocked(id, from)
	if err != nil {
		return err
	}
	was := x.weak()
	x.hearPoor = poor
	r.weakChangedLocked(x, was)
	return nil
}

// weakChangedLocked tells the others when x's connection became weak, or
// no longer (was is whether it was). Under mu.
func (r *Room) weakChangedLocked(x *person, was bool) {
	if x.weak() != was {
		r.broadcastLocked(protocol.ParticipantEvent{Type: "participant_updated",
			Participant: x.info(r.selfMutedLocked(x.p.ID), r.router.Tracks())}, x.p.ID)
	}
}

// closeIfEmpty hands the room to onEmpty once nobody is left; Rooms checks
// again under its own lock before closing it.
func (r *Room) closeIfEmpty() {
	r.mu.Lock()
	empty := len(r.people) == 0 && !r.closed
	r.mu.Unlock()
	if empty {
		r.onEmpty(r)
	}
}

// shutdown ends the ticker and closes the router, once the room is marked
// closed and nobody is in it.
func (r *Room) shutdown() {
	r.mu.Lock()
	stop, done, mdone := r.stop, r.done, r.mdone
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
		<-mdone
	}
	r.mu.Lock()
	rems := r.media.takeRemotes()
	r.mu.Unlock()
	for _, rem := range rems {
		rem.Close()
	}
	r.router.Close()
}

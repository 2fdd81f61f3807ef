package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hearth-rtc/hearth/room"
)

// Rooms holds the live rooms of this node, by name: the way in for an
// arrival, a takeover and membership's reports of people gone. Whoever
// wires the server owns it.
//
// Lifecycle: NewRooms → arrivals (Seat, Wait, TakeOver) → Close, which
// releases everyone left and ends every room. Rooms are created and closed
// as people come and go.
type Rooms struct {
	cfg Config
	// keep is set by HandOver: the rooms write their mirror no more, and
	// those released keep their presences for the rooms' next node.
	keep atomic.Bool

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool
}

// NewRooms returns an empty set of rooms.
func NewRooms(cfg Config) *Rooms {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReconnectGrace == 0 {
		cfg.ReconnectGrace = DefaultReconnectGrace
	}
	return &Rooms{cfg: cfg, rooms: map[string]*Room{}}
}

// open returns the room name, creating it (and restoring what its
// previous node mirrored, outside the lock) if it is not live here.
// Whoever finds it being restored waits for that.
func (rs *Rooms) open(ctx context.Context, name string) (*Room, error) {
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		return nil, fmt.Errorf("arrive in %q: %w", name, ErrClosed)
	}
	r := rs.rooms[name]
	fresh := r == nil
	if fresh {
		r = newRoom(name, &rs.cfg, &rs.keep, rs.drop)
		rs.rooms[name] = r
	}
	rs.mu.Unlock()
	if fresh {
		r.restore(ctx)
		close(r.ready)
		return r, nil
	}
	select {
	case <-r.ready:
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("arrive in %q: %w", name, ctx.Err())
	}
}

// arrive puts p in its room (creating the room) as waiting, speaking
// through conn. The arrival happens under the rooms' lock, so a room
// being closed is never handed out: then it tries again.
func (rs *Rooms) arrive(ctx context.Context, p room.Participant, conn Conn) (*Room, *person, error) {
	for {
		r, err := rs.open(ctx, p.Room)
		if err != nil {
			return nil, nil, err
		}
		rs.mu.Lock()
		if rs.closed {
			rs.mu.Unlock()
			return nil, nil, fmt.Errorf("arrive in %q: %w", p.Room, ErrClosed)
		}
		if rs.rooms[p.Room] != r {
			rs.mu.Unlock()
			continue // closed meanwhile
		}
		r.mu.Lock()
		if r.people[p.ID] != nil {
			r.mu.Unlock()
			rs.mu.Unlock()
			return nil, nil, fmt.Errorf("arrive in %q: %s is here already", p.Room, p.ID)
		}
		x := &person{p: p, state: room.StateWaiting, conn: conn}
		r.people[p.ID] = x
		r.mu.Unlock()
		rs.mu.Unlock()
		return r, x, nil
	}
}

// Seat seats p, whom membership admitted, speaking through conn: joined
// (the room as info describes it, the people here), the others told,
// then the peer connection's first offer. The room it returns is where
// conn's later messages go.
func (rs *Rooms) Seat(ctx context.Context, p room.Participant, info room.Info, conn Conn) (*Room, error) {
	r, x, err := rs.arrive(ctx, p, conn)
	if err != nil {
		return nil, err
	}
	return r, r.seat(ctx, x, info)
}

// Wait puts p, whom membership put in the waiting room (p.Reason says
// why), in the room (info describes it): it is told so, and the room's
// admitters who waits.
func (rs *Rooms) Wait(ctx context.Context, p room.Participant, info room.Info, conn Conn) (*Room, error) {
	r, x, err := rs.arrive(ctx, p, conn)
	if err != nil {
		return nil, err
	}
	r.wait(ctx, x, info)
	return r, nil
}

// TakeOver moves p's place here (seat or waiting place) from the person's
// older connection to conn: one seat per person, the older connection is
// told why (bye joined_elsewhere). It reports false when nobody here holds
// that place any more (it was leaving); the caller then joins afresh.
//
// A room not live here is opened first: its previous node may have
// mirrored it, with the person's seat (restore).
func (rs *Rooms) TakeOver(ctx context.Context, p room.Participant, info room.Info, conn Conn) (*Room, bool, error) {
	r, err := rs.open(ctx, p.Room)
	if err != nil {
		return nil, false, err
	}
	ok, err := r.takeOver(ctx, p, info, conn)
	if !ok {
		r.closeIfEmpty()
		return nil, false, err
	}
	return r, true, err
}

// ResumeRestored gives a seat held for the room's previous node (restored
// with the room, its client not back yet) to conn, the client back with
// the resume secret that node last gave it; or a seat another node gave
// up to this one (Yield there), seated here anew as the same participant.
// It returns the room and the participant id. A room not live here is
// opened first, as for TakeOver. ErrNotHeld if no such seat has that
// secret (or the room's name is not one).
func (rs *Rooms) ResumeRestored(ctx context.Context, roomName, secret string, conn Conn, newPeer bool) (*Room, string, error) {
	if room.CheckRoomName(roomName) != nil || secret == "" {
		return nil, "", ErrNotHeld
	}
	r, err := rs.open(ctx, roomName)
	if err != nil {
		return nil, "", err
	}
	id, err := r.resumeRestored(ctx, secret, conn, newPeer)
	if id == "" && errors.Is(err, ErrNotHeld) {
		id, err = r.resumeYielded(ctx, secret, conn)
	}
	if id == "" {
		r.closeIfEmpty()
		return nil, "", err
	}
	return r, id, err
}

// HandOver prepares this node's rooms for another node to take them
// over, as the node stops: each room's controls are written to the store
// for the last time, and from then on the people released here (their
// connections closing) keep their presences there, so that the next node
// gives them their seats back. It returns the store's errors.
func (rs *Rooms) HandOver(ctx context.Context) error {
	rs.keep.Store(true)
	rs.mu.Lock()
	rooms := make([]*Room, 0, len(rs.rooms))
	for _, r := range rs.rooms {
		rooms = append(rooms, r)
	}
	rs.mu.Unlock()
	var errs []error
	for _, r := range rooms {
		if err := r.handOverMirror(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hand %q over: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}

// Yield gives the room name up to the node that holds its lease now:
// this node lost it (two nodes ran the room at once, as after a Redis that
// restarted empty). Everyone here is let go as if their connection had
// dropped, with no goodbye, so that their clients come back through the
// room's node, where their presences, left in the store, are taken over;
// the room closes here. It reports whether anyone was let go.
func (rs *Rooms) Yield(name string) bool {
	rs.mu.Lock()
	r := rs.rooms[name]
	rs.mu.Unlock()
	return r != nil && r.yield()
}

// Kick releases a participant membership reports gone (removed or denied
// from another node, or expired), closing its connection with bye reason.
func (rs *Rooms) Kick(roomName, id, reason string) {
	rs.mu.Lock()
	r := rs.rooms[roomName]
	rs.mu.Unlock()
	if r != nil {
		r.kick(id, reason)
	}
}

// drop closes r once it is empty (Room.onEmpty).
func (rs *Rooms) drop(r *Room) {
	rs.mu.Lock()
	r.mu.Lock()
	empty := len(r.people) == 0 && !r.closed && rs.rooms[r.name] == r
	if empty {
		r.closed = true
		delete(rs.rooms, r.name)
	}
	r.mu.Unlock()
	rs.mu.Unlock()
	if empty {
		r.shutdown()
	}
}

// Close releases everyone here (their connections get bye
// server_shutdown) and ends every room; later arrivals get ErrClosed.
func (rs *Rooms) Close() {
	rs.mu.Lock()
	rs.closed = true
	rooms := make([]*Room, 0, len(rs.rooms))
	for _, r := range rs.rooms {
		rooms = append(rooms, r)
	}
	clear(rs.rooms)
	rs.mu.Unlock()
	for _, r := range rooms {
		r.close()
	}
}

// End ends the session of the room name on this node on the operator's
// word: everyone there is told bye ended. It reports whether a session
// was running here.
func (rs *Rooms) End(name string) bool {
	rs.mu.Lock()
	r := rs.rooms[name]
	rs.mu.Unlock()
	return r != nil && r.endByOperator()
}

// Names lists the rooms live on this node.
func (rs *Rooms) Names() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	names := make([]string, 0, len(rs.rooms))
	for name := range rs.rooms {
		names = append(names, name)
	}
	return names
}

// StatsKey groups people for Stats.
type StatsKey struct {
	Role  room.Role
	State room.State // waiting or active
}

// Stats is a snapshot of the live rooms.
type Stats struct {
	Rooms  int
	People map[StatsKey]int
}

// Stats counts the rooms, and the people waiting or active by role (a
// held seat counts for nothing). It takes each room's lock briefly, so it
// suits a metrics scrape, not a hot path.
func (rs *Rooms) Stats() Stats {
	rs.mu.Lock()
	rooms := make([]*Room, 0, len(rs.rooms))
	for _, r := range rs.rooms {
		rooms = append(rooms, r)
	}
	rs.mu.Unlock()
	st := Stats{Rooms: len(rooms), People: map[StatsKey]int{}}
	for _, r := range rooms {
		r.mu.Lock()
		for _, x := range r.people {
			if x.state == room.StateWaiting || x.state == room.StateActive {
				st.People[StatsKey{Role: x.p.Role, State: x.state}]++
			}
		}
		r.mu.Unlock()
	}
	return st
}

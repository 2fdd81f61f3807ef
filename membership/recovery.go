package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Epocher is implemented by stores that can lose their data while Hearth
// runs, such as a Redis restarted without persistence.
//
// Epoch names the store's current data set: it returns the same token for
// as long as the data survives, and a new one once the data was lost (the
// first call after the loss starts a new epoch). Errors wrap
// ErrUnavailable.
type Epocher interface {
	Epoch(ctx context.Context) (string, error)
}

// Recovering from a store that lost its data.
//
// The rule: a store that kept its data is authoritative. Someone hosted
// here that it no longer has was denied, removed or ended from another
// node; the node disconnects them (OnGone) and they may rejoin. (Unless
// the node could not refresh them for about a TTL: then they expired by
// themselves and are written back; see rewrite.)
// A store that lost its data (its epoch changed) has no say: every
// presence hosted here is written back as this node last knew it (id,
// identity, name, role, state, arrival time; with no capacity limit, since
// these people already hold their seats), together with what this node
// last knew of their rooms (the stored configuration, the lock and the
// blocked identities), and nobody is disconnected.
//
// The node notices a loss in two places. A heartbeat that finds hosted
// people gone checks the epoch before disconnecting anyone, so a store
// that forgot them never gets them kicked; if the epoch cannot be read the
// decision waits for the next heartbeat. And a join or a facilitator
// command checks the epoch before it reads the session, so decisions
// (capacity, whether a facilitator is present, the lock) count the people
// already here; a join checks it again once seated, and is undone with
// ErrUnavailable if the store lost its data in between. While the store is
// unreachable, no join is decided (joins fail with ErrUnavailable), running
// sessions carry on, and a lock, a removal or a block takes effect here and
// is written once the store answers (pending.go).
//
// What is written back is refreshed every heartbeat, and after each change
// this node makes, so it is at most one heartbeat old. A removal made on
// another node in the last heartbeat before the loss is therefore undone,
// and other nodes' participants count again only once their own nodes
// notice (within a heartbeat). Rooms with nobody on this node are not
// restored: keep the store persistent to keep their configurations.

// hostedRoom is what this node last knew of a room it hosts people in.
type hostedRoom struct {
	cfg     *room.RoomConfig // nil: no stored configuration (drop-in room)
	locked  bool
	blocked []string
}

// sync checks the store's epoch and writes this node's presences back if
// the store lost its data, then writes the changes made here while the
// store was unreachable (pending.go); it returns the epoch (none for
// stores that cannot lose data). It fails while either is left undone, so
// no decision is made on a store that does not know them.
func (s *Service) sync(ctx context.Context) (epoch string, err error) {
	if ep, ok := s.store.(Epocher); ok {
		if _, err := s.checkEpoch(ctx, ep); err != nil {
			return "", err
		}
		s.recMu.Lock()
		epoch = s.epoch
		s.recMu.Unlock()
	}
	if err := s.catchUp(ctx); err != nil {
		return "", err
	}
	if err := s.flush(ctx); err != nil {
		return "", err
	}
	return epoch, nil
}

// unchanged checks that the store still has the epoch a decision started
// from; if it lost its data meanwhile, the decision was made on nothing
// (a closed room read as a drop-in one) and must not stand.
func (s *Service) unchanged(ctx context.Context, epoch string) error {
	ep, ok := s.store.(Epocher)
	if !ok {
		return nil
	}
	e, err := ep.Epoch(ctx)
	if err != nil {
		return fmt.Errorf("store epoch: %w", err)
	}
	if e != epoch {
		return fmt.Errorf("%w: the store lost its data meanwhile", room.ErrUnavailable)
	}
	return nil
}

// storeLost reports whether the store lost its data since this node last
// looked, having written everything back if so.
func (s *Service) storeLost(ctx context.Context) (bool, error) {
	ep, ok := s.store.(Epocher)
	if !ok {
		return false, nil
	}
	return s.checkEpoch(ctx, ep)
}

// checkEpoch compares the store's epoch with the last one seen and, when
// it changed, restores this node's presences; the new epoch is remembered
// only once the restore succeeded, so a failed one is retried.
func (s *Service) checkEpoch(ctx context.Context, ep Epocher) (restored bool, err error) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	e, err := ep.Epoch(ctx)
	if err != nil {
		return false, fmt.Errorf("store epoch: %w", err)
	}
	if e == s.epoch {
		return false, nil
	}
	if s.epoch != "" {
		if err := s.restore(ctx); err != nil {
			return false, err
		}
		restored = true
	}
	s.epoch = e
	return restored, nil
}

// restore writes back every presence hosted here and what is known of
// their rooms.
func (s *Service) restore(ctx context.Context) error {
	rooms, hosted := s.hostedState()
	var errs []error
	n := 0
	for name, ps := range hosted {
		added, _, err := s.restoreRoom(ctx, name, rooms[name], ps)
		n += added
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "membership store lost its data: presences hosted here written back",
		"participants", n, "rooms", len(hosted))
	return nil
}

// restoreRoom writes back one room: its configuration, the presences
// hosted here (ps), its blocks and its lock. It returns how many presences
// it added and the ids the store now refuses for good (blocked, or the
// same person present through another node).
func (s *Service) restoreRoom(ctx context.Context, name string, h hostedRoom, ps []room.Participant) (added int, refused []string, err error) {
	var errs []error
	if h.cfg != nil {
		if _, err := s.store.CreateRoom(ctx, *h.cfg); err != nil && !errors.Is(err, room.ErrExists) {
			errs = append(errs, fmt.Errorf("restore room %q: %w", name, err))
		}
	}
	for _, p := range ps {
		_, err := s.store.AddPresence(ctx, p, 0)
		switch {
		case err == nil:
			added++
			if h.cfg != nil && p.State.Seated() {
				// Attendance lost with the data is written back too, from
				// the arrival time (RecordJoin keeps a record it still has).
				s.recordJoined(ctx, *h.cfg, p, p.JoinedAt)
			}
		case errors.Is(err, room.ErrExists):
			// Still there, or written back already.
		case errors.Is(err, room.ErrBlocked), errors.Is(err, room.ErrIdentityPresent):
			// Blocked, or taken over through another node: the next
			// heartbeat finds them gone and disconnects them.
			refused = append(refused, p.ID)
		default:
			errs = append(errs, fmt.Errorf("restore %q in %q: %w", p.ID, name, err))
		}
	}
	for _, id := range h.blocked {
		if err := s.store.SetBlocked(ctx, name, id, true); err != nil && !errors.Is(err, room.ErrNotFound) {
			errs = append(errs, fmt.Errorf("restore block in %q: %w", name, err))
		}
	}
	if h.locked {
		if err := s.store.SetLocked(ctx, name, true); err != nil && !errors.Is(err, room.ErrNotFound) {
			errs = append(errs, fmt.Errorf("restore lock of %q: %w", name, err))
		}
	}
	return added, refused, errors.Join(errs...)
}

// Riding out an outage longer than the presence TTL.
//
// A store that kept its data but could not be reached for about a TTL has
// let this node's presences expire, and with the last of them the
// session's lock and blocks: nobody removed them (nobody could reach the
// store either). A heartbeat that finds them gone a TTL or more after the
// last one that refreshed the room (before which none could expire)
// writes the room back as this node knows it (presences, lock, blocks),
// like after a loss, rather than disconnect anyone: a store error never
// costs anyone their seat. Joins and commands first catch up on rooms not
// refreshed for half a TTL (sync), so no decision is made on a session
// that expired.

// heartbeatRoom refreshes one room's presences hosted here and
// disconnects (OnGone) those the store no longer has, unless it lost or
// let expire what it had: then they are written back.
func (s *Service) heartbeatRoom(ctx context.Context, roomName string, ids []string) error {
	s.beatMu.Lock()
	defer s.beatMu.Unlock()
	last, started := s.lastBeat(roomName), s.now()
	gone, err := s.store.Heartbeat(ctx, roomName, ids)
	if err != nil {
		return fmt.Errorf("heartbeat %q: %w", roomName, err)
	}
	s.beat(roomName, started)
	if len(gone) > 0 {
		lost, err := s.storeLost(ctx)
		if err != nil {
			// Removed, or forgotten? Decide on the next heartbeat.
			return fmt.Errorf("heartbeat %q: %w", roomName, err)
		}
		if lost {
			return nil // written back: present again
		}
		if s.now().Sub(last) >= s.ttl {
			if gone, err = s.rewrite(ctx, roomName, gone); err != nil {
				return err
			}
		}
	}
	for _, id := range gone {
		if !s.untrack(roomName, id) {
			continue // left meanwhile: not gone, just done
		}
		s.log.InfoContext(ctx, "presence gone", "room", roomName, "participant", id)
		if s.onGone != nil {
			s.onGone(roomName, id)
		}
	}
	return nil
}

// catchUp heartbeats the hosted rooms not refreshed for half a TTL, so
// that a join or a command after an outage is decided on a session
// written back, with its lock and blocks.
func (s *Service) catchUp(ctx context.Context) error {
	var errs []error
	for roomName, ids := range s.snapshot() {
		if s.now().Sub(s.lastBeat(roomName)) > s.ttl/2 {
			if err := s.heartbeatRoom(ctx, roomName, ids); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// lastBeat returns when room's presences were last refreshed.
func (s *Service) lastBeat(roomName string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beats[roomName]
}

// beat records that room's presences were refreshed by a heartbeat sent
// at t: none of them can expire before t plus the TTL.
func (s *Service) beat(roomName string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local[roomName] != nil {
		s.beats[roomName] = t
	}
}

// rewrite writes back a room whose presences hosted here the store let
// expire, and returns those of gone that are gone for good.
func (s *Service) rewrite(ctx context.Context, roomName string, gone []string) ([]string, error) {
	rooms, hosted := s.hostedState()
	added, refused, err := s.restoreRoom(ctx, roomName, rooms[roomName], hosted[roomName])
	if err != nil {
		return nil, fmt.Errorf("write back %q: %w", roomName, err)
	}
	if added > 0 {
		s.log.WarnContext(ctx, "presences expired while the store was unreachable: written back",
			"room", roomName, "participants", added)
	}
	out := []string{}
	for _, id := range gone {
		if slices.Contains(refused, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// hostedState copies the presences hosted here, by room, and what is known
// of those rooms.
func (s *Service) hostedState() (map[string]hostedRoom, map[string][]room.Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make(map[string]hostedRoom, len(s.local))
	hosted := make(map[string][]room.Participant, len(s.local))
	for name, ps := range s.local {
		for _, p := range ps {
			hosted[name] = append(hosted[name], p)
		}
		room.SortParticipants(hosted[name])
		rooms[name] = s.rooms[name]
	}
	return rooms, hosted
}

// refresh re-reads each hosted room's configuration and session (for
// stores that can lose data), so a restore writes back current states.
// The reads count only if the store's epoch is the one this node knows
// before and after them: a store that lost its data meanwhile must not
// overwrite what is to be written back.
func (s *Service) refresh(ctx context.Context) {
	ep, ok := s.store.(Epocher)
	if !ok {
		return
	}
	before, err := ep.Epoch(ctx)
	if err != nil {
		return
	}
	type read struct {
		sess room.Session
		cfg  *room.RoomConfig
	}
	reads := map[string]read{}
	for name := range s.snapshot() {
		sess, err := s.store.Session(ctx, name)
		if err != nil {
			continue // kept as it was; the heartbeat reports the failure
		}
		r := read{sess: sess}
		cfg, err := s.store.GetRoom(ctx, name)
		switch {
		case err == nil:
			cfg = cfg.Clone()
			r.cfg = &cfg
		case !errors.Is(err, room.ErrNotFound):
			continue
		}
		reads[name] = r
	}
	after, err := ep.Epoch(ctx)
	s.recMu.Lock()
	known := s.epoch
	s.recMu.Unlock()
	if err != nil || before != after || after != known {
		return // the next epoch check restores
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, r := range reads {
		if s.local[name] == nil {
			continue
		}
		h := hostedRoom{cfg: r.cfg, locked: r.sess.Locked, blocked: slices.Clone(r.sess.Blocked)}
		s.overlayPending(name, &h)
		s.rooms[name] = h
		for _, p := range r.sess.Participants {
			if _, ok := s.local[name][p.ID]; ok {
				s.local[name][p.ID] = p
			}
		}
	}
	for name := range s.rooms {
		if s.local[name] == nil {
			delete(s.rooms, name)
		}
	}
}

// remember updates a hosted participant after a change made here.
func (s *Service) remember(p room.Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.local[p.Room][p.ID]; ok {
		s.local[p.Room][p.ID] = p
	}
}

// rememberRoom records a hosted room's stored configuration as read by
// Room (a stored one has its CreatedAt set by the store; a drop-in room's
// default has none and changes nothing: only refresh, which can tell a
// deleted configuration from a lost one, forgets a configuration).
func (s *Service) rememberRoom(name string, cfg room.RoomConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local[name] == nil || cfg.CreatedAt.IsZero() {
		return
	}
	h := s.rooms[name]
	c := cfg.Clone()
	h.cfg = &c
	s.rooms[name] = h
}

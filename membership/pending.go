package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hearth-rtc/hearth/room"
)

// Facilitator controls while the store is unreachable.
//
// The rule: a store error never costs anyone their seat, and a lock, a
// removal or a block takes effect on this node at once, store or not. Each
// is recorded here as a pending write and written to the store by flush:
// at once when the store answers (write-through, as before), otherwise at
// the start of the next call that uses the store (sync: joins and
// facilitator commands) and on every heartbeat. sync fails while anything
// is left unwritten, so no join is decided on a store that has not been
// told of a block or a lock: a blocked identity is never admitted once
// the store is back. A store that lost its data meanwhile is first given
// back what this node knows (recovery.go); the pending writes follow.
//
// Within a room the writes keep their order: blocks first, then removals,
// then the lock, so an identity cannot slip back in between; attendance
// comes last (pendingattendance.go). The live
// room authorized the facilitator by their seat on this node, which needs
// no store; while the store is unreachable only people hosted here can be
// removed.

// pendingRoom is what this node changed in one room and has not yet
// written to the store.
type pendingRoom struct {
	blocked []string // identities, in the order blocked
	removed []string // presence ids, in the order removed
	lock    *bool    // the last lock change
	// attendance is the attendance not yet written, oldest first
	// (pendingattendance.go).
	attendance []attendanceWrite
}

func (p pendingRoom) empty() bool {
	return len(p.blocked) == 0 && len(p.removed) == 0 && p.lock == nil && len(p.attendance) == 0
}

func (p pendingRoom) clone() pendingRoom {
	c := pendingRoom{blocked: slices.Clone(p.blocked), removed: slices.Clone(p.removed), attendance: slices.Clone(p.attendance)}
	if p.lock != nil {
		l := *p.lock
		c.lock = &l
	}
	return c
}

// unreachable reports whether err says the store could not be asked, as
// opposed to a refusal.
func unreachable(err error) bool {
	return errors.Is(err, room.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// hostedHere returns a participant hosted on this node.
func (s *Service) hostedHere(roomName, id string) (room.Participant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.local[roomName][id]
	return p, ok
}

// setLock records a lock change made here, to be written to the store.
func (s *Service) setLock(name string, locked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local[name] != nil {
		h := s.rooms[name]
		h.locked = locked
		s.rooms[name] = h
	}
	p := s.pending[name]
	p.lock = &locked
	s.pending[name] = p
}

// removeHere takes a participant out on this node (with block, its identity
// too), to be written to the store. It no longer counts as hosted here.
func (s *Service) removeHere(name string, t room.Participant, block bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[name]
	if block {
		if h := s.rooms[name]; s.local[name] != nil && !slices.Contains(h.blocked, t.Identity) {
			h.blocked = append(slices.Clone(h.blocked), t.Identity)
			s.rooms[name] = h
		}
		if !slices.Contains(p.blocked, t.Identity) {
			p.blocked = append(p.blocked, t.Identity)
		}
	}
	if !slices.Contains(p.removed, t.ID) {
		p.removed = append(p.removed, t.ID)
	}
	s.pending[name] = p
	delete(s.local[name], t.ID)
	if len(s.local[name]) == 0 {
		delete(s.local, name)
	}
}

// leaveLater records that id left here, its presence to be removed from
// the store when it answers (a removal without a block).
func (s *Service) leaveLater(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[name]
	if !slices.Contains(p.removed, id) {
		p.removed = append(p.removed, id)
	}
	s.pending[name] = p
}

// flush writes the pending changes to the store, room by room in order
// (blocks, removals, lock, attendance), stopping a room at its first write the store
// cannot take. It returns an error wrapping ErrUnavailable while anything
// is left. A write the store refuses for good (the session ended, the
// participant already gone) is done with.
func (s *Service) flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	todo := make(map[string]pendingRoom, len(s.pending))
	for name, p := range s.pending {
		todo[name] = p.clone()
	}
	s.mu.Unlock()
	var errs []error
	for name, p := range todo {
		if err := s.flushRoom(ctx, name, p); err != nil {
			errs = append(errs, fmt.Errorf("room %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) flushRoom(ctx context.Context, name string, p pendingRoom) error {
	for _, id := range p.blocked {
		if err := s.settle(ctx, name, "block", s.store.SetBlocked(ctx, name, id, true)); err != nil {
			return err
		}
		s.written(name, func(q *pendingRoom) { q.blocked = without(q.blocked, id) })
	}
	for _, id := range p.removed {
		_, err := s.store.RemovePresence(ctx, name, id)
		if err := s.settle(ctx, name, "remove", err); err != nil {
			return err
		}
		s.written(name, func(q *pendingRoom) { q.removed = without(q.removed, id) })
	}
	if p.lock != nil {
		locked := *p.lock
		if err := s.settle(ctx, name, "lock", s.store.SetLocked(ctx, name, locked)); err != nil {
			return err
		}
		// A later change stays pending.
		s.written(name, func(q *pendingRoom) {
			if q.lock != nil && *q.lock == locked {
				q.lock = nil
			}
		})
	}
	return s.flushAttendance(ctx, name, p.attendance)
}

// settle says whether a write is done with: nil when it is (written, or
// refused for good), the error when the store could not take it.
func (s *Service) settle(ctx context.Context, name, what string, err error) error {
	switch {
	case err == nil, errors.Is(err, room.ErrNotFound):
		// Not found: the participant is gone already, or the session ended
		// (and its lock and blocks with it).
		return nil
	case unreachable(err):
		return fmt.Errorf("%s: %w", what, err)
	}
	s.log.WarnContext(ctx, "pending write refused by the store; dropped", "room", name, "write", what, "err", err)
	return nil
}

// written applies done to a room's pending writes and forgets the room
// once nothing is left.
func (s *Service) written(name string, done func(*pendingRoom)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[name]
	if !ok {
		return
	}
	done(&p)
	if p.empty() {
		delete(s.pending, name)
	} else {
		s.pending[name] = p
	}
}

func without(list []string, v string) []string {
	return slices.DeleteFunc(list, func(x string) bool { return x == v })
}

// overlayPending applies the unwritten changes of a room to what was read
// from the store. The caller holds s.mu.
func (s *Service) overlayPending(name string, h *hostedRoom) {
	p, ok := s.pending[name]
	if !ok {
		return
	}
	if p.lock != nil {
		h.locked = *p.lock
	}
	for _, id := range p.blocked {
		if !slices.Contains(h.blocked, id) {
			h.blocked = append(slices.Clone(h.blocked), id)
		}
	}
}

// room.Info describes a room to the people in it, from the store and, where
// the store cannot answer or has not yet been told of a change made here,
// from what this node knows: a room hosted here without a remembered
// configuration is a drop-in room.
func (s *Service) RoomInfo(ctx context.Context, name string) room.Info {
	cfg, cerr := s.Room(ctx, name)
	sess, serr := s.store.Session(ctx, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	h, hosted := s.rooms[name]
	hosted = hosted || s.local[name] != nil
	switch {
	case cerr == nil:
	case hosted && h.cfg != nil:
		cfg = h.cfg.Clone()
	case hosted:
		cfg = room.DefaultRoomConfig(name)
	default:
		cfg = room.RoomConfig{Name: name}
	}
	if serr == nil {
		h.locked = sess.Locked
	}
	s.overlayPending(name, &h)
	return roomInfo(cfg, h.locked)
}

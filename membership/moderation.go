package membership

import (
	"context"
	"errors"
	"fmt"

	"github.com/hearth-rtc/hearth/room"
)

// What those who run a room decided, written: admit and deny (the
// waiting room), remove and lock; the waiting list and the roster. The
// live room (package live) authorized each against the sender's seat and
// role before it asks: nothing here checks the caller again.

// AllWaiting as the target of Admit or Deny means everyone waiting.
const AllWaiting = "*"

// session returns the room's session once what was changed here during a
// store outage is written (pending.go): no decision is made on a store
// that has not been told of a block or a lock.
func (s *Service) session(ctx context.Context, roomName string) (room.Session, error) {
	if _, err := s.sync(ctx); err != nil {
		return room.Session{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Session{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	return sess, nil
}

// waitingTargets resolves a target (an id or AllWaiting) to waiting
// participants; a single id that is not waiting is ErrNotFound.
func waitingTargets(sess room.Session, target string) ([]room.Participant, error) {
	if target == AllWaiting {
		return sess.Waiting(), nil
	}
	p, ok := sess.Find(target)
	if !ok || p.State != room.StateWaiting {
		return nil, fmt.Errorf("%q is not in the waiting room: %w", target, room.ErrNotFound)
	}
	return []room.Participant{p}, nil
}

// Admit moves one waiting participant, or all (target AllWaiting, oldest
// first), into the session. Capacity is checked atomically per admission:
// when the room fills up, Admit returns those admitted so far and an
// error wrapping ErrRoomFull. Admitted participants keep their
// connection; their node sends them "joined".
func (s *Service) Admit(ctx context.Context, roomName, target string) ([]room.Participant, error) {
	sess, err := s.session(ctx, roomName)
	if err != nil {
		return nil, err
	}
	targets, err := waitingTargets(sess, target)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return nil, err
	}
	admitted := []room.Participant{}
	for _, t := range targets {
		limit := cfg.Seats()
		if t.Role.IsFacilitator() {
			limit = 0
		}
		p, err := s.store.SetState(ctx, roomName, t.ID, room.StateActive, "", limit)
		switch {
		case errors.Is(err, room.ErrNotFound) && target == AllWaiting:
			continue // left meanwhile
		case err != nil:
			return admitted, fmt.Errorf("admit %q: %w", t.ID, err)
		}
		admitted = append(admitted, p)
		s.remember(p)
		s.recordJoined(ctx, cfg, p, s.now())
		s.log.InfoContext(ctx, "admitted", "room", roomName, "participant", p.ID)
	}
	return admitted, nil
}

// Deny removes one waiting participant, or all, from the waiting room and
// returns them; the caller tells those hosted here (error "denied"), and
// they are forgotten here at once; those on other nodes are reported by
// that node's OnGone.
func (s *Service) Deny(ctx context.Context, roomName, target string) ([]room.Participant, error) {
	sess, err := s.session(ctx, roomName)
	if err != nil {
		return nil, err
	}
	targets, err := waitingTargets(sess, target)
	if err != nil {
		return nil, err
	}
	denied := []room.Participant{}
	for _, t := range targets {
		p, err := s.store.RemovePresence(ctx, roomName, t.ID)
		switch {
		case errors.Is(err, room.ErrNotFound) && target == AllWaiting:
			continue
		case err != nil:
			return denied, fmt.Errorf("deny %q: %w", t.ID, err)
		}
		s.untrack(roomName, p.ID)
		denied = append(denied, p)
		s.log.InfoContext(ctx, "denied", "room", roomName, "participant", p.ID)
	}
	return denied, nil
}

// Remove takes a participant out of the session and, with block, refuses
// that identity (code blocked) for the rest of the session. While the
// store cannot answer, it takes effect here and is written later
// (pending.go); only someone hosted here can be removed then (else
// ErrUnavailable).
func (s *Service) Remove(ctx context.Context, roomName, target string, block bool) (room.Participant, error) {
	sess, err := s.session(ctx, roomName)
	var (
		t  room.Participant
		ok bool
	)
	switch {
	case err == nil:
		t, ok = sess.Find(target)
	case unreachable(err):
		if t, ok = s.hostedHere(roomName, target); !ok {
			return room.Participant{}, fmt.Errorf("remove %q: not hosted here: %w", target, room.ErrUnavailable)
		}
	default:
		return room.Participant{}, err
	}
	if !ok {
		return room.Participant{}, fmt.Errorf("participant %q: %w", target, room.ErrNotFound)
	}
	// Written in order: the block first, so the identity cannot slip back
	// in between.
	s.removeHere(roomName, t, block)
	if err := s.flush(ctx); err != nil {
		s.log.WarnContext(ctx, "remove: store unavailable; written when it answers", "room", roomName, "participant", t.ID, "err", err)
		s.queueLeft(ctx, roomName, t, s.now())
	} else {
		s.recordLeft(ctx, roomName, t)
	}
	s.log.InfoContext(ctx, "removed", "room", roomName, "participant", t.ID, "identity", t.Identity, "blocked", block)
	return t, nil
}

// Lock locks or unlocks the session. While the store cannot answer, the
// lock takes effect here and is written later (pending.go).
func (s *Service) Lock(ctx context.Context, roomName string, locked bool) error {
	// A store that lost its data is given back what this node knows first.
	if _, err := s.sync(ctx); err != nil && !unreachable(err) {
		return fmt.Errorf("room %q: %w", roomName, err)
	}
	s.setLock(roomName, locked)
	if err := s.flush(ctx); err != nil {
		s.log.WarnContext(ctx, "lock: store unavailable; written when it answers", "room", roomName, "err", err)
	}
	s.log.InfoContext(ctx, "lock changed", "room", roomName, "locked", locked)
	return nil
}

// WaitingList returns the waiting room, oldest first (name, identity and
// JoinedAt as "since"), for the protocol's waiting_list message.
func (s *Service) WaitingList(ctx context.Context, roomName string) ([]room.Participant, error) {
	sess, err := s.Session(ctx, roomName)
	if err != nil {
		return nil, err
	}
	return sess.Waiting(), nil
}

// RosterLine is one roster entry with its live presence (none or one: a
// room has one seat per identity).
type RosterLine struct {
	room.RosterEntry
	Present []room.Participant `json:"present"`
}

// RosterView is a room's roster joined with its live session.
type RosterView struct {
	Room    room.Info    `json:"room"`
	Entries []RosterLine `json:"entries"`
	// Guests are present participants not on the roster (open rooms).
	Guests []room.Participant `json:"guests"`
}

// Roster returns the roster with who is present now.
func (s *Service) Roster(ctx context.Context, roomName string) (RosterView, error) {
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return RosterView{}, err
	}
	sess, err := s.Session(ctx, roomName)
	if err != nil {
		return RosterView{}, err
	}
	v := RosterView{Room: roomInfo(cfg, sess.Locked), Entries: []RosterLine{}, Guests: []room.Participant{}}
	index := map[string]int{}
	for i, e := range cfg.Roster {
		index[e.Identity] = i
		v.Entries = append(v.Entries, RosterLine{RosterEntry: e, Present: []room.Participant{}})
	}
	for _, p := range sess.Participants {
		if i, ok := index[p.Identity]; ok {
			v.Entries[i].Present = append(v.Entries[i].Present, p)
		} else {
			v.Guests = append(v.Guests, p)
		}
	}
	return v, nil
}

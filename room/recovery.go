package room

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// node, or expired because this node could not refresh them for a whole
// presence TTL; the node disconnects them (OnGone) and they may rejoin.
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
	cfg     *RoomConfig // nil: no stored configuration (drop-in room)
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
		return fmt.Errorf("%w: the store lost its data meanwhile", ErrUnavailable)
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
		h := rooms[name]
		if h.cfg != nil {
			if _, err := s.store.CreateRoom(ctx, *h.cfg); err != nil && !errors.Is(err, ErrExists) {
				errs = append(errs, fmt.Errorf("restore room %q: %w", name, err))
			}
		}
		for _, p := range ps {
			_, err := s.store.AddPresence(ctx, p, 0)
			switch {
			case err == nil:
				n++
			case errors.Is(err, ErrExists), errors.Is(err, ErrIdentityPresent):
				// Still there, or written back already.
			case errors.Is(err, ErrBlocked):
				// The store still blocks this identity: the next heartbeat
				// finds them gone and disconnects them.
			default:
				errs = append(errs, fmt.Errorf("restore %q in %q: %w", p.ID, name, err))
			}
		}
		for _, id := range h.blocked {
			if err := s.store.SetBlocked(ctx, name, id, true); err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, fmt.Errorf("restore block in %q: %w", name, err))
			}
		}
		if h.locked {
			if err := s.store.SetLocked(ctx, name, true); err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, fmt.Errorf("restore lock of %q: %w", name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "membership store lost its data: presences hosted here written back",
		"participants", n, "rooms", len(hosted))
	return nil
}

// hostedState copies the presences hosted here, by room, and what is known
// of those rooms.
func (s *Service) hostedState() (map[string]hostedRoom, map[string][]Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make(map[string]hostedRoom, len(s.local))
	hosted := make(map[string][]Participant, len(s.local))
	for name, ps := range s.local {
		for _, p := range ps {
			hosted[name] = append(hosted[name], p)
		}
		SortParticipants(hosted[name])
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
		sess Session
		cfg  *RoomConfig
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
		case !errors.Is(err, ErrNotFound):
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
func (s *Service) remember(p Participant) {
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
func (s *Service) rememberRoom(name string, cfg RoomConfig) {
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

package live

import (
	"context"
	"errors"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Room's mirror: the controls are written to the store (Door.Mirror) as
// they change, so that a node taking the room over, after this one died
// or handed it over, carries the session on (restore). Writes are
// coalesced (one per mirrorPace at most, of the newest state) on a
// goroutine of their own, and retried while the store cannot take them:
// nobody waits for them, and a store error costs nobody anything. The
// one write waited for, briefly, is that of a seat's new resume key: a
// joined carrying a fresh resume secret is held back until the key is in
// the store (releaseHeld).
//
// Each write carries the term the room took as it opened (takeTerm): a
// node that opened the room before this one, and went on running it for a
// while (two nodes ran it at once), cannot overwrite this one's mirror
// with a higher version, and a node opening it after this one shuts this
// one's writes out.

const (
	// mirrorPace is the least time between two writes of a room's mirror.
	mirrorPace = 100 * time.Millisecond
	// mirrorRetry is how long a failed write waits to be tried again.
	mirrorRetry = time.Second
	// seatMirrorWait bounds how long a joined waits for the write of its
	// seat's resume key.
	seatMirrorWait = time.Second
)

// absent is the connection of a seat restored from a mirror, held until
// its person comes back: nothing sent to it goes anywhere.
type absent struct{}

func (absent) Send(any)  {}
func (absent) Close(any) {}

// runMirror writes the mirror when asked, until stop.
func (r *Room) runMirror(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var failing bool
	for {
		select {
		case <-stop:
			return
		case <-r.dirty:
		}
		select {
		case <-stop:
			return
		case <-time.After(mirrorPace):
		}
		ctx, cancel := context.WithTimeout(context.Background(), doorTimeout)
		err := r.writeMirror(ctx)
		cancel()
		r.failing.Store(err != nil)
		switch {
		case err == nil:
			if failing {
				r.log.Info("controls mirrored again")
			}
			failing = false
			continue
		case !failing:
			r.log.Warn("mirror the controls; retrying", "err", err)
		}
		failing = true
		r.mirrorRetryLater(stop)
	}
}

// mirrorRetryLater asks for a write again after mirrorRetry (unless stop).
func (r *Room) mirrorRetryLater(stop <-chan struct{}) {
	select {
	case <-stop:
	case <-time.After(mirrorRetry):
		select {
		case r.dirty <- struct{}{}:
		default:
		}
	}
}

// writeMirror writes the newest state, unless the room is being handed
// over (its last state is written by handOverMirror) or was given up to
// another node (yield_room.go), has no controls or
// was written at that version already. A session that ended in the store
// has nothing to keep, and a state the store refuses (too large) is not
// tried again: no error for either.
func (r *Room) writeMirror(ctx context.Context) error {
	if r.keep.Load() || r.yielded.Load() {
		return nil
	}
	version, data, ok := r.mirrorState()
	if !ok || version <= r.mirrored.Load() {
		return nil
	}
	term, err := r.mirrorTerm(ctx)
	if err != nil {
		return err
	}
	err = r.door.Mirror(ctx, r.name, term, version, data)
	switch {
	case err == nil:
		for {
			old := r.mirrored.Load()
			if version <= old || r.mirrored.CompareAndSwap(old, version) {
				return nil
			}
		}
	case errors.Is(err, room.ErrNotFound):
		return nil
	case errors.Is(err, room.ErrInvalid):
		r.log.Error("the store refuses the controls' mirror", "version", version, "bytes", len(data), "err", err)
		return nil
	}
	return err
}

// takeTerm starts the mirror's term for this room, as it opens; if the
// store cannot say, the first write takes it (mirrorTerm).
func (r *Room) takeTerm(ctx context.Context) {
	t, err := r.door.MirrorTerm(ctx, r.name)
	if err != nil {
		r.log.Warn("start the mirror's term; the first write tries again", "err", err)
		return
	}
	r.term.Store(t)
}

// mirrorTerm returns the room's mirror term, taking it if the room could
// not as it opened.
func (r *Room) mirrorTerm(ctx context.Context) (uint64, error) {
	if t := r.term.Load(); t != 0 {
		return t, nil
	}
	t, err := r.door.MirrorTerm(ctx, r.name)
	if err != nil {
		return 0, err
	}
	r.term.CompareAndSwap(0, t)
	return r.term.Load(), nil
}

// mirrorState encodes the controls' state with its version; ok is false
// when the room has no controls.
func (r *Room) mirrorState() (version uint64, data []byte, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctl == nil {
		return 0, nil, false
	}
	return r.ctl.Version(), r.ctl.Mirror(r.resumeKeysLocked()), true
}

// holdLocked makes x's connection hold back what it is sent until
// releaseHeld: x is about to be sent a joined with a fresh resume secret.
// Under mu.
func (r *Room) holdLocked(x *person) *heldConn {
	h := newHeldConn(x.conn)
	x.conn = h
	x.relay.to(h)
	return h
}

// releaseHeld writes the room's newest state, with x's new resume key,
// and then lets x's client have what its connection held (joined first),
// so that a client holds no secret the room's next node cannot check
// should this node die now. The write waits at most seatMirrorWait, and
// not at all while the store is known to be away: the mirror goroutine
// writes it once the store is back, as it does any change.
func (r *Room) releaseHeld(ctx context.Context, x *person, h *heldConn) {
	if !r.failing.Load() {
		wctx, cancel := context.WithTimeout(ctx, seatMirrorWait)
		if err := r.writeMirror(wctx); err != nil {
			r.failing.Store(true)
			r.log.Warn("a seat's resume key not mirrored before its joined; the mirror retries", "participant", x.p.ID, "err", err)
		}
		cancel()
	}
	r.mu.Lock()
	if x.conn == h {
		x.conn = h.to
		x.relay.to(h.to)
	}
	h.release()
	r.mu.Unlock()
}

// resumeKeysLocked returns the seats' resume keys, by participant id.
// Under mu.
func (r *Room) resumeKeysLocked() map[string]string {
	keys := make(map[string]string, len(r.people))
	for id, x := range r.people {
		if x.seated() && x.key != "" {
			keys[id] = x.key
		}
	}
	return keys
}

// handOverMirror writes the room's last state for the node that takes it over;
// from now on nothing more is written (Rooms has set keep), and people
// released here keep their presences for that node. It reports the
// store's error.
func (r *Room) handOverMirror(ctx context.Context) error {
	version, data, ok := r.mirrorState()
	if !ok {
		return nil
	}
	term, err := r.mirrorTerm(ctx)
	if err == nil {
		err = r.door.Mirror(ctx, r.name, term, version, data)
	}
	if err != nil && !errors.Is(err, room.ErrNotFound) {
		return err
	}
	return nil
}

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
// nobody waits for them, and a store error costs nobody anything.

const (
	// mirrorPace is the least time between two writes of a room's mirror.
	mirrorPace = 100 * time.Millisecond
	// mirrorRetry is how long a failed write waits to be tried again.
	mirrorRetry = time.Second
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
		err := r.writeMirror()
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
// over (its last state is written by handOverMirror) or has no controls.
// A session that ended in the store has nothing to keep, and a state the
// store refuses (too large) is not tried again: no error for either.
func (r *Room) writeMirror() error {
	if r.keep.Load() {
		return nil
	}
	version, data, ok := r.mirrorState()
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), doorTimeout)
	defer cancel()
	err := r.door.Mirror(ctx, r.name, version, data)
	switch {
	case err == nil, errors.Is(err, room.ErrNotFound):
		return nil
	case errors.Is(err, room.ErrInvalid):
		r.log.Error("the store refuses the controls' mirror", "version", version, "bytes", len(data), "err", err)
		return nil
	}
	return err
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
	if err := r.door.Mirror(ctx, r.name, version, data); err != nil && !errors.Is(err, room.ErrNotFound) {
		return err
	}
	return nil
}

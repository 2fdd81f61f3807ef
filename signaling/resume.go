package signaling

import (
	"context"
	"errors"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
)

// Reconnection: when a seated participant's websocket drops, its live room
// holds the seat (participant id, role, mutes, hand, peer connection) for
// the grace period. A new websocket that presents the single-use resume
// secret the room put in its last joined takes the seat over. The
// transport knows which connection each secret was given to, and the
// room checks that the seat is still that one's. A secret this node never
// gave (the room's previous node did, and died or handed the room over)
// goes to the room, which checks it against the hashes it restored.

// setResumeSecret names c as the holder of secret, retiring c's previous
// one.
func (s *Server) setResumeSecret(c *conn, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	old := c.resume
	c.resume = secret
	c.mu.Unlock()
	if old != "" {
		delete(s.resumes, old)
	}
	if secret != "" {
		s.resumes[secret] = c
	}
}

// forgetResume retires c's secret.
func (s *Server) forgetResume(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	secret := c.resume
	c.resume = ""
	c.mu.Unlock()
	if secret != "" && s.resumes[secret] == c {
		delete(s.resumes, secret)
	}
}

func (s *Server) takeResume(secret string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.resumes[secret]
	delete(s.resumes, secret)
	return c
}

// handleResume takes over the seat the secret's connection held, while the
// room holds it and also while the old socket still looks alive (the
// server has not noticed a half-open connection yet); the old socket, if
// still open, is then closed.
func (c *conn) handleResume(ctx context.Context, m protocol.Join) error {
	old := c.srv.takeResume(m.Resume)
	if old == nil {
		return c.resumeRestored(ctx, m)
	}
	old.mu.Lock()
	r, id, log := old.room, old.id, old.log
	old.mu.Unlock()
	if r == nil {
		return errResumeFailed()
	}
	c.mu.Lock()
	c.log = log
	c.mu.Unlock()
	if err := r.Resume(ctx, id, old, c, m.NewPeer); err != nil {
		if errors.Is(err, live.ErrNotHeld) {
			return errResumeFailed()
		}
		return err
	}
	c.joined(r, id, JoinJoined)
	// The old socket, if still open, is now nobody's.
	old.ws.Close()
	return nil
}

// resumeRestored takes back a seat this node holds for the room's
// previous node (restored with the room), if the secret is that seat's.
func (c *conn) resumeRestored(ctx context.Context, m protocol.Join) error {
	r, id, err := c.srv.cfg.Rooms.ResumeRestored(ctx, m.Room, m.Resume, c, m.NewPeer)
	if errors.Is(err, live.ErrNotHeld) {
		return errResumeFailed()
	}
	if r == nil {
		return err
	}
	c.mu.Lock()
	c.log = c.srv.log.With("room", m.Room, "participant", id)
	c.mu.Unlock()
	c.joined(r, id, JoinJoined)
	return err
}

// handleTakeover answers a join by a person already here: one seat per
// person, so the newer connection takes the older one's seat or
// waiting-room place (the room tells the older one why and closes it).
// It reports false when no connection here holds the place any more (it
// is leaving right now); the caller then joins afresh.
func (c *conn) handleTakeover(ctx context.Context, res membership.JoinResult) (bool, error) {
	r, ok, err := c.srv.cfg.Rooms.TakeOver(ctx, res.Participant, res.Room, c)
	if !ok {
		return false, err
	}
	how := JoinJoined
	if res.Status == membership.JoinWaiting {
		how = JoinWaiting
	}
	c.joined(r, res.Participant.ID, how)
	return true, err
}

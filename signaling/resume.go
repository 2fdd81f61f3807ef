package signaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
)

// Reconnection: when a seated participant's websocket drops, its live room
// holds the seat (participant id, role, mutes, hand, peer connection) for
// the grace period. A new websocket that presents the single-use resume
// secret, which the transport adds to every joined, takes the seat over.
// The secret is this transport's: it names the connection that last held
// the seat, and the room checks that the seat is still that one's.

// newResumeSecret issues c a fresh secret, retiring its previous one.
func (s *Server) newResumeSecret(c *conn) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	secret := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	old := c.resume
	c.resume = secret
	c.mu.Unlock()
	if old != "" {
		delete(s.resumes, old)
	}
	s.resumes[secret] = c
	return secret
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
		return errResumeFailed()
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

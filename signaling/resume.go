package signaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/pion/webrtc/v4"
)

// Reconnection: a seated participant whose websocket drops keeps the seat
// (participant id, role, mutes, hand, peer connection) for the grace
// period. A new websocket that presents the single-use resume secret takes
// the seat over; after the grace period the participant leaves.

// relay is the peer connection's Signaler. It follows the participant from
// socket to socket, so the SFU never holds a dead connection.
type relay struct{ cur atomic.Pointer[conn] }

func newRelay(c *conn) *relay {
	r := &relay{}
	r.cur.Store(c)
	return r
}

func (r *relay) SendOffer(sdp string)  { r.cur.Load().SendOffer(sdp) }
func (r *relay) SendAnswer(sdp string) { r.cur.Load().SendAnswer(sdp) }
func (r *relay) SendCandidate(ci webrtc.ICECandidateInit) {
	r.cur.Load().SendCandidate(ci)
}

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

// detach holds the seat after an unexpected drop. It reports false when the
// participant should simply leave (not seated, said goodbye, or kicked).
func (c *conn) detach() bool {
	c.mu.Lock()
	if c.state != stateActive || c.outClosed || c.explicit || c.sess == nil || c.srv.cfg.ReconnectGrace < 0 {
		c.mu.Unlock()
		return false
	}
	c.state = stateDetached
	ss, part := c.sess, c.part
	c.grace = time.AfterFunc(c.srv.cfg.ReconnectGrace, c.expire)
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), handlerTimeout)
	defer cancel()
	if _, err := c.srv.cfg.Rooms.SetReconnecting(ctx, part.Room, part.ID, true); err != nil {
		c.log.Warn("mark reconnecting", "err", err)
	}
	c.log.Info("connection lost; holding the seat", "grace", c.srv.cfg.ReconnectGrace.String())
	ss.broadcast(protocol.ParticipantEvent{Type: "participant_updated", Participant: c.info(ss.router.Tracks())}, c)
	return true
}

// expire releases a seat whose grace period ran out.
func (c *conn) expire() {
	c.mu.Lock()
	detached := c.state == stateDetached
	c.mu.Unlock()
	if detached {
		c.log.Info("grace period over; releasing the seat")
		c.leave("timeout")
	}
}

func (c *conn) isDetached() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateDetached
}

// seatState is what moves from an old socket to a new one on resume.
type seatState struct {
	from  *conn
	part  room.Participant
	sess  *session
	peer  *sfu.Peer
	relay *relay
	muted protocol.Media
}

// claim hands this connection's seat to a resuming socket. It works while
// the seat is held and also while the old socket still looks alive (the
// server has not noticed a half-open connection yet).
func (c *conn) claim() (seatState, bool) {
	c.mu.Lock()
	if (c.state != stateActive && c.state != stateDetached) || c.sess == nil || c.relay == nil {
		c.mu.Unlock()
		return seatState{}, false
	}
	st := c.moveOutLocked()
	c.mu.Unlock()
	// The old socket, if still open, is now nobody's.
	c.ws.Close()
	return st, true
}

// handleResume takes over a held seat.
func (c *conn) handleResume(ctx context.Context, m protocol.Join) error {
	old := c.srv.takeResume(m.Resume)
	if old == nil {
		return perr(protocol.CodeResumeFailed, "that seat is no longer held; join again")
	}
	st, ok := old.claim()
	if !ok {
		return perr(protocol.CodeResumeFailed, "that seat is no longer held; join again")
	}
	return c.takeSeat(ctx, st, seatResumed, m.NewPeer)
}

// seatHandover says how a connection came by its seat.
type seatHandover int

const (
	seatArrival  seatHandover = iota // not moved: a new seat
	seatResumed                      // the same client, back on a new socket
	seatTakeover                     // the same person, from another window or device
)

// takeSeat makes c the holder of a seat moved from another connection:
// same participant id, role, mutes, hand and place in every queue. The
// others see the participant updated, not a departure and an arrival.
func (c *conn) takeSeat(ctx context.Context, st seatState, how seatHandover, newPeer bool) error {
	p := st.part
	if how == seatTakeover {
		// Self mutes belong to the device: the new window starts with its
		// own and says so (mute), as any arrival does.
		st.muted = protocol.Media{}
		st.sess.controlsSelfMute(p.ID, protocol.MediaAudio, false)
		st.sess.controlsSelfMute(p.ID, protocol.MediaVideo, false)
	}
	c.mu.Lock()
	c.part, c.sess, c.peer, c.relay, c.muted = p, st.sess, st.peer, st.relay, st.muted
	c.log = c.srv.log.With("room", p.Room, "participant", p.ID, "identity", p.Identity)
	c.state = stateWaiting // not active until the snapshot is sent
	c.mu.Unlock()
	st.sess.replace(st.from, c)
	st.relay.cur.Store(c)

	if _, err := c.srv.cfg.Rooms.SetReconnecting(ctx, p.Room, p.ID, false); err != nil {
		c.log.Warn("mark active", "err", err)
	}
	st.sess.announce(c, p, c.srv.roomInfo(ctx, p.Room), how)
	st.sess.controlsResync(c)

	if newPeer {
		// The client has no peer connection for this seat: start a new one,
		// which ends the old one's tracks and publishes the new ones.
		st.peer.Close()
		peer, err := st.sess.router.AddPeer(c.peerParams(p))
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.peer = peer
		c.mu.Unlock()
	} else {
		st.peer.Resync()
	}
	c.log.Info("seat moved to a new connection", "resumed", how == seatResumed, "new_peer", newPeer)
	if p.Role.Can(room.PermAdmit) {
		c.srv.sendWaitingListTo(ctx, st.sess, c)
	}
	return nil
}

// byeJoinedElsewhere is the bye reason of a connection whose person joined
// again from another window or device.
const byeJoinedElsewhere = "joined_elsewhere"

// handleTakeover answers a join by a person already here: one seat per
// person, so the newer connection takes the older one's seat or
// waiting-room place, and the older one is told why and closed. It
// reports false when no connection here holds the place any more (it is
// leaving right now); the caller then joins afresh.
func (c *conn) handleTakeover(ctx context.Context, res membership.JoinResult) (bool, error) {
	p := res.Participant
	old := c.srv.holder(p.Room, p.ID)
	if old == nil || old == c {
		return false, nil
	}
	st, prev, ok := old.yield()
	if !ok {
		return false, nil
	}
	if prev != stateWaiting {
		return true, c.takeSeat(ctx, st, seatTakeover, true)
	}
	c.mu.Lock()
	c.part, c.sess, c.state = p, st.sess, stateWaiting
	c.log = c.srv.log.With("room", p.Room, "participant", p.ID, "identity", p.Identity)
	c.mu.Unlock()
	st.sess.replace(st.from, c)
	c.log.Info("waiting place moved to a new connection", "reason", res.Reason)
	c.send(protocol.Waiting{Type: "waiting", Reason: res.Reason, Message: res.Reason.Message()})
	return true, nil
}

// moveOutLocked hands over what this connection holds and leaves it with
// nothing (stateMoved); a held seat's grace timer stops. Under c.mu.
func (c *conn) moveOutLocked() seatState {
	st := seatState{from: c, part: c.part, sess: c.sess, peer: c.peer, relay: c.relay, muted: c.muted}
	c.state = stateMoved
	c.sess, c.peer, c.relay = nil, nil, nil
	if c.grace != nil {
		c.grace.Stop()
		c.grace = nil
	}
	return st
}

// yield gives this connection's seat or waiting-room place to a newer
// connection of the same person and tells this one why (a held seat has
// nobody to tell). It reports false if there is no place to give.
func (c *conn) yield() (seatState, connState, bool) {
	c.mu.Lock()
	prev := c.state
	if (prev != stateActive && prev != stateDetached && prev != stateWaiting) || c.sess == nil {
		c.mu.Unlock()
		return seatState{}, prev, false
	}
	st := c.moveOutLocked()
	c.mu.Unlock()
	c.srv.forgetResume(c)
	if prev != stateDetached {
		c.send(protocol.Bye{Type: "bye", Reason: byeJoinedElsewhere})
		c.closeOut(websocket.CloseNormalClosure, "")
	}
	return st, prev, true
}

// holder returns the connection here that holds participant id's place in
// a room, or nil.
func (s *Server) holder(roomName, id string) *conn {
	s.mu.Lock()
	ss := s.sessions[roomName]
	s.mu.Unlock()
	if ss == nil {
		return nil
	}
	return ss.find(id)
}

// peerParams describes the participant's media connection to the SFU.
func (c *conn) peerParams(p room.Participant) sfu.PeerParams {
	c.mu.Lock()
	r := c.relay
	c.mu.Unlock()
	return sfu.PeerParams{
		ID:       p.ID,
		Signaler: r,
		CanPublish: func(k sfu.Kind) bool {
			if k == sfu.KindVideo {
				return p.Role.Can(room.PermPublishVideo)
			}
			return p.Role.Can(room.PermPublishAudio)
		},
		OnRefusedTrack: func(k sfu.Kind, err error) {
			code, msg := protocol.CodeForbidden, "your role does not allow publishing "+string(k)
			if errors.Is(err, sfu.ErrTooManyTracks) {
				code, msg = protocol.CodeTooManyTracks, fmt.Sprintf("at most %d tracks may be published at once; this %s track is not sent to anyone", sfu.DefaultMaxTracks, k)
			}
			r.cur.Load().sendError(perr(code, "%s", msg), "")
		},
	}
}

// replace swaps a participant's old connection for its new one.
func (ss *session) replace(old, c *conn) {
	ss.mu.Lock()
	delete(ss.conns, old)
	ss.conns[c] = struct{}{}
	ss.mu.Unlock()
}

// controlsResync sends a resumed participant the controls state it missed.
func (ss *session) controlsResync(c *conn) {
	k := &ss.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctl == nil || k.stopped {
		return
	}
	c.send(protocol.RoomStateMsg{Type: "room_state", RoomState: k.ctl.Snapshot()})
	if k.active != "" {
		c.send(protocol.ActiveSpeaker{Type: "active_speaker", Participant: &k.active})
	}
	if c.role().Can(room.PermModerate) {
		c.send(protocol.TalkTimeMsg{Type: "talk_time", Entries: k.ctl.TalkTime()})
	}
}

package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// handlerTimeout bounds the store calls one message may cause.
const handlerTimeout = 5 * time.Second

// dispatch decodes the envelope and calls the message's handler; it only
// dispatches.
func (c *conn) dispatch(data []byte) {
	var env protocol.Envelope
	if err := json.Unmarshal(data, &env); err != nil || env.Type == "" {
		c.sendError(perr(protocol.CodeBadJSON, "That message could not be read: send one JSON object with a \"type\"."), "")
		return
	}
	ref := clip(env.Type, maxRef)
	var err error
	if _, known := c.srv.messages[env.Type]; known {
		ctx, cancel := context.WithTimeout(context.Background(), handlerTimeout)
		err = c.handle(ctx, env.Type, data)
		cancel()
	} else {
		err = perr(protocol.CodeUnknownType, "There is no message type %q.", excerpt(env.Type))
	}
	c.countMessage(ref, err)
	if err != nil {
		pe := toProto(err, env.Type)
		switch pe.code {
		case protocol.CodeInternal:
			c.log.Error("handler failed", "type", ref, "err", err)
		case protocol.CodeBadSDP, protocol.CodeBadCandidate:
			c.log.Debug("client input refused", "type", ref, "err", clip(err.Error(), 300))
		}
		c.sendError(pe, ref)
	}
}

// handle calls the handler of a known message type.
func (c *conn) handle(ctx context.Context, typ string, data []byte) error {
	switch typ {
	case "join":
		start := time.Now()
		err := c.handleJoinInTime(ctx, data)
		c.observeJoin(start, err)
		return err
	case "offer":
		return c.handleOffer(data)
	case "answer":
		return c.handleAnswer(data)
	case "candidate":
		return c.handleCandidate(data)
	case "mute":
		return c.handleMute(data)
	case "admit":
		return c.handleAdmit(ctx, data)
	case "deny":
		return c.handleDeny(ctx, data)
	case "lock":
		return c.handleLock(ctx, data)
	case "leave":
		c.kick(protocol.Bye{Type: "bye", Reason: "left"}, websocket.CloseNormalClosure)
		return nil
	case "ping":
		return c.handlePing(data)
	}
	return c.dispatchControl(ctx, protocol.CommandKind(typ), data)
}

// maxRef bounds the ref of an error, in bytes.
const maxRef = 64

func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return decodeError(err)
	}
	return nil
}

// activePeer returns the sender's peer: waiting for a client in the
// waiting room, not_joined for one that has not joined.
func (c *conn) activePeer() (*sfu.Peer, room.Participant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state == stateActive && c.peer != nil:
		return c.peer, c.part, nil
	case c.state == stateWaiting:
		return nil, room.Participant{}, perr(protocol.CodeWaiting, "You are in the waiting room; a facilitator will let you in.")
	}
	return nil, room.Participant{}, perr(protocol.CodeNotJoined, "Join the session first.")
}

func (c *conn) handleJoin(ctx context.Context, data []byte) error {
	var m protocol.Join
	if err := decode(data, &m); err != nil {
		return err
	}
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st != stateNew {
		return perr(protocol.CodeAlreadyJoined, "this connection has already joined")
	}
	if m.Version != 0 && m.Version != protocol.Version {
		return &protoError{code: protocol.CodeVersion, close: true,
			message: "this server speaks protocol version 1"}
	}
	if m.Resume != "" {
		return c.handleResume(ctx, m)
	}
	req := membership.JoinRequest{Room: m.Room, Name: m.Name, Token: m.Token, Passcode: m.Passcode}
	res, err := c.srv.cfg.Rooms.Join(ctx, req)
	if err != nil {
		return err
	}
	if res.TakeOver {
		if done, err := c.handleTakeover(ctx, res); done || err != nil {
			return err
		}
		// Nobody here holds that place any more: it was leaving. Let it go
		// and decide afresh.
		if err := c.srv.cfg.Rooms.Leave(ctx, res.Participant.Room, res.Participant.ID); err != nil {
			return err
		}
		if res, err = c.srv.cfg.Rooms.Join(ctx, req); err != nil {
			return err
		}
		if res.TakeOver {
			return perr(protocol.CodeUnavailable, "you are joining from another window at the same time; please try again")
		}
	}
	p := res.Participant
	c.mu.Lock()
	c.part = p
	c.log = c.srv.log.With("room", p.Room, "participant", p.ID, "identity", p.Identity)
	c.state = stateWaiting
	c.mu.Unlock()
	ss := c.srv.attach(p.Room, c)
	c.mu.Lock()
	c.sess = ss
	c.mu.Unlock()

	if res.Status == membership.JoinWaiting {
		c.log.Info("waiting", "reason", res.Reason)
		c.send(protocol.Waiting{Type: "waiting", Reason: res.Reason, Message: res.Reason.Message()})
		c.srv.sendWaitingList(ctx, ss)
		return nil
	}
	return c.activate(ctx, p, res.Room)
}

// activate seats the participant: joined snapshot, peer connection, first
// offer. It runs for a direct join and for an admission from the waiting
// room (then on the admitting facilitator's goroutine).
func (c *conn) activate(ctx context.Context, p room.Participant, info room.Info) error {
	c.mu.Lock()
	ss := c.sess
	closed := c.state == stateClosed
	c.mu.Unlock()
	if ss == nil || closed {
		return nil
	}
	c.mu.Lock()
	c.relay = newRelay(c)
	c.mu.Unlock()
	ss.seat(c, p, info)
	peer, err := ss.router.AddPeer(c.peerParams(p))
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.state == stateClosed || c.sess == nil {
		// Left while being seated: leave already ran without the peer.
		c.mu.Unlock()
		peer.Close()
		return nil
	}
	c.peer = peer
	c.mu.Unlock()
	c.log.Info("joined", "role", p.Role)
	if p.Role.Can(room.PermAdmit) {
		c.srv.sendWaitingListTo(ctx, ss, c)
	}
	return nil
}

func (c *conn) handleOffer(data []byte) error {
	peer, _, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.SDP
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.SDP == "" {
		return perr(protocol.CodeBadRequest, "The offer has no \"sdp\".")
	}
	ignored, err := peer.HandleOffer(m.SDP)
	if ignored {
		c.log.Debug("offer collision: client offer ignored")
	}
	return err
}

func (c *conn) handleAnswer(data []byte) error {
	peer, _, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.SDP
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.SDP == "" {
		return perr(protocol.CodeBadRequest, "The answer has no \"sdp\".")
	}
	return peer.HandleAnswer(m.SDP)
}

func (c *conn) handleCandidate(data []byte) error {
	peer, _, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.Candidate
	if err := decode(data, &m); err != nil {
		return err
	}
	ci := m.Candidate
	if ci == nil || ci.Candidate == "" {
		return nil // end of candidates
	}
	if len(ci.Candidate) > maxCandidateLen || (ci.SDPMid != nil && len(*ci.SDPMid) > maxMidLen) ||
		(ci.UsernameFragment != nil && len(*ci.UsernameFragment) > maxUfragLen) {
		return perr(protocol.CodeBadCandidate, "The network candidate is too long to be real.")
	}
	return peer.AddICECandidate(*ci)
}

// Bounds on a trickled candidate's fields, far above what ICE agents send
// (a candidate line is about 100 bytes, a username fragment at most 256
// characters by RFC 8839), so that queued candidates stay small.
const (
	maxCandidateLen = 1024
	maxMidLen       = 64
	maxUfragLen     = 256
)

func (c *conn) handleMute(data []byte) error {
	_, me, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.Mute
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.Muted == nil || (m.Kind != "audio" && m.Kind != "video") {
		return perr(protocol.CodeBadRequest, "Say \"audio\" or \"video\" as the kind, and true or false as \"muted\".")
	}
	perm := room.PermPublishAudio
	if m.Kind == "video" {
		perm = room.PermPublishVideo
	}
	if !me.Role.Can(perm) {
		return perr(protocol.CodeForbidden, "Your role does not send %s, so there is nothing to mute.", m.Kind)
	}
	c.mu.Lock()
	if m.Kind == "audio" {
		c.muted.Audio = *m.Muted
	} else {
		c.muted.Video = *m.Muted
	}
	ss := c.sess
	c.mu.Unlock()
	if ss != nil {
		ss.controlsSelfMute(c.participantID(), protocol.MediaKind(m.Kind), *m.Muted)
		ss.broadcast(protocol.ParticipantEvent{Type: "participant_updated", Participant: c.info(ss.router.Tracks())}, nil)
	}
	return nil
}

func (c *conn) handleAdmit(ctx context.Context, data []byte) error {
	_, me, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.Target
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.Participant == "" {
		return perr(protocol.CodeBadRequest, "Say whom to admit: a participant id, or \"*\" for everyone waiting.")
	}
	admitted, err := c.srv.cfg.Rooms.Admit(ctx, me.Room, me.ID, m.Participant)
	ss := c.sess
	for _, p := range admitted {
		if w := ss.find(p.ID); w != nil {
			if aerr := w.activate(ctx, p, c.srv.roomInfo(ctx, me.Room)); aerr != nil {
				w.sendError(toProto(aerr, ""), "")
			}
		}
	}
	c.srv.sendWaitingList(ctx, ss)
	return forbiddenOr(err)
}

func (c *conn) handleDeny(ctx context.Context, data []byte) error {
	_, me, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.Target
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.Participant == "" {
		return perr(protocol.CodeBadRequest, "Say whom to turn away: a participant id, or \"*\" for everyone waiting.")
	}
	denied, err := c.srv.cfg.Rooms.Deny(ctx, me.Room, me.ID, m.Participant)
	ss := c.sess
	for _, p := range denied {
		if w := ss.find(p.ID); w != nil {
			w.sendError(&protoError{code: protocol.CodeDenied, close: true,
				message: "The facilitator did not admit you to this session."}, "")
		}
	}
	c.srv.sendWaitingList(ctx, ss)
	return forbiddenOr(err)
}

func (c *conn) handleLock(ctx context.Context, data []byte) error {
	_, me, err := c.activePeer()
	if err != nil {
		return err
	}
	var m protocol.Lock
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.Locked == nil {
		return perr(protocol.CodeBadRequest, "Say true or false as \"locked\".")
	}
	if err := c.srv.cfg.Rooms.Lock(ctx, me.Room, me.ID, *m.Locked); err != nil {
		return forbiddenOr(err)
	}
	c.sess.broadcast(protocol.RoomUpdated{Type: "room_updated", Room: c.srv.roomInfo(ctx, me.Room)}, nil)
	return nil
}

func (c *conn) handlePing(data []byte) error {
	var m protocol.Ping
	if err := decode(data, &m); err != nil {
		return err
	}
	c.send(protocol.Pong{Type: "pong", TS: m.TS})
	return nil
}

// forbiddenOr passes err through, naming a permission refusal plainly.
func forbiddenOr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, room.ErrForbidden) {
		return perr(protocol.CodeForbidden, "Your role does not allow this.")
	}
	return err
}

func (s *Server) iceServers() []protocol.ICEServer {
	out := make([]protocol.ICEServer, 0, len(s.cfg.ICEServers))
	for _, is := range s.cfg.ICEServers {
		out = append(out, protocol.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	return out
}

func (s *Server) waitingEntries(ctx context.Context, ss *session) ([]protocol.WaitingEntry, error) {
	list, err := s.cfg.Rooms.WaitingList(ctx, ss.name)
	if err != nil {
		return nil, err
	}
	entries := make([]protocol.WaitingEntry, 0, len(list))
	for _, p := range list {
		entries = append(entries, protocol.WaitingEntry{ID: p.ID, Identity: p.Identity, Name: p.Name,
			Since: p.JoinedAt.UTC().Format(time.RFC3339)})
	}
	return entries, nil
}

// sendWaitingList tells the session's admitters who is waiting.
func (s *Server) sendWaitingList(ctx context.Context, ss *session) {
	entries, err := s.waitingEntries(ctx, ss)
	if err != nil {
		s.log.Warn("waiting list", "room", ss.name, "err", err)
		return
	}
	ss.sendToAdmins(protocol.WaitingList{Type: "waiting_list", Entries: entries})
}

func (s *Server) sendWaitingListTo(ctx context.Context, ss *session, c *conn) {
	entries, err := s.waitingEntries(ctx, ss)
	if err != nil {
		s.log.Warn("waiting list", "room", ss.name, "err", err)
		return
	}
	c.send(protocol.WaitingList{Type: "waiting_list", Entries: entries})
}

// roomInfo describes the room to participants; when the store cannot
// answer it says what this node knows.
func (s *Server) roomInfo(ctx context.Context, name string) room.Info {
	return s.cfg.Rooms.RoomInfo(ctx, name)
}

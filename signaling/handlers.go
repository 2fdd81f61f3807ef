package signaling

// A connection's message handlers: dispatch decodes the envelope, and one
// function per message type checks its fields and makes one call, on
// membership for a join and on the connection's live room for anything
// else.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
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
	case "admit", "deny":
		return c.handleTarget(ctx, protocol.CommandKind(typ), data)
	case "lock":
		return c.handleLock(ctx, data)
	case "leave":
		c.Close(protocol.Bye{Type: "bye", Reason: "left"})
		return nil
	case "ping":
		return c.handlePing(data)
	case "chat":
		return c.handleChat(data)
	case "remove_chat":
		return c.handleRemoveChat(data)
	case "accept_agreement":
		start := time.Now()
		err := c.inTime(func() error { return c.handleAcceptAgreement(ctx, data) })
		c.observeJoin(start, err)
		return err
	case "decline_agreement":
		return c.handleDeclineAgreement(data)
	case "layout":
		return c.handleLayout(data)
	case "hearing_quality":
		return c.handleHearing(data)
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

func (c *conn) handleJoin(ctx context.Context, data []byte) error {
	var m protocol.Join
	if err := decode(data, &m); err != nil {
		return err
	}
	if r, _, _ := c.seat(); r != nil {
		return perr(protocol.CodeAlreadyJoined, "this connection has already joined")
	}
	if m.Version != 0 && m.Version != protocol.Version {
		return &protoError{code: protocol.CodeVersion, close: true,
			message: "this server speaks protocol version 1"}
	}
	if to, err := c.relayTarget(ctx, m); err != nil || to != "" {
		if err != nil {
			return err
		}
		return c.startRelay(ctx, m.Room, to, data)
	}
	if m.Resume != "" {
		return c.handleResume(ctx, m)
	}
	return c.enter(ctx, membership.JoinRequest{Room: m.Room, Name: m.Name, Token: m.Token, Passcode: m.Passcode})
}

// enter asks membership to decide a join, and seats the client, puts it in
// the waiting room, or asks it to accept the room's agreement first
// (agreement.go).
func (c *conn) enter(ctx context.Context, req membership.JoinRequest) error {
	res, err := c.srv.cfg.Membership.Join(ctx, req)
	if err != nil {
		return err
	}
	if res.TakeOver {
		c.logAs(res.Participant)
		if done, err := c.handleTakeover(ctx, res); done || err != nil {
			return err
		}
		if res.Adopted {
			return c.place(ctx, res)
		}
		// Nobody here holds that place any more: it was leaving. Let it go
		// and decide afresh.
		if err := c.srv.cfg.Membership.Leave(ctx, res.Participant.Room, res.Participant.ID); err != nil {
			return err
		}
		if res, err = c.srv.cfg.Membership.Join(ctx, req); err != nil {
			return err
		}
		if res.TakeOver {
			return perr(protocol.CodeUnavailable, "you are joining from another window at the same time; please try again")
		}
	}
	if res.Status == membership.JoinAgreement {
		return c.askAgreement(req, res)
	}
	return c.place(ctx, res)
}

// place seats the client, or puts it in the waiting room, as membership
// decided.
func (c *conn) place(ctx context.Context, res membership.JoinResult) error {
	var err error
	p := res.Participant
	c.logAs(p)
	var r *live.Room
	how := JoinJoined
	if res.Status == membership.JoinWaiting {
		how = JoinWaiting
		r, err = c.srv.cfg.Rooms.Wait(ctx, p, res.Room, c)
	} else {
		r, err = c.srv.cfg.Rooms.Seat(ctx, p, res.Room, c)
	}
	if r == nil {
		// Not in a room (the server is closing): the presence goes.
		if lerr := c.srv.cfg.Membership.Leave(ctx, p.Room, p.ID); lerr != nil {
			c.log.Warn("leave", "err", lerr)
		}
		return err
	}
	c.joined(r, p.ID, how)
	return err
}

// logAs names the participant in c's log lines, by id and identity only.
func (c *conn) logAs(p room.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = c.srv.log.With("room", p.Room, "participant", p.ID, "identity", p.Identity)
}

func (c *conn) handleOffer(data []byte) error {
	r, id, err := c.seat()
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
	ignored, err := r.Offer(id, c, m.SDP)
	if ignored {
		c.log.Debug("offer collision: client offer ignored")
	}
	return err
}

func (c *conn) handleAnswer(data []byte) error {
	r, id, err := c.seat()
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
	return r.Answer(id, c, m.SDP)
}

func (c *conn) handleCandidate(data []byte) error {
	r, id, err := c.seat()
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
	return r.Candidate(id, c, *ci)
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
	r, id, err := c.seat()
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
	return r.SelfMute(id, c, protocol.MediaKind(m.Kind), *m.Muted)
}

// handleTarget handles admit and deny.
func (c *conn) handleTarget(ctx context.Context, kind protocol.CommandKind, data []byte) error {
	r, id, err := c.seat()
	if err != nil {
		return err
	}
	var m protocol.Target
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.Participant == "" {
		if kind == protocol.CmdAdmit {
			return perr(protocol.CodeBadRequest, "Say whom to admit: a participant id, or \"*\" for everyone waiting.")
		}
		return perr(protocol.CodeBadRequest, "Say whom to turn away: a participant id, or \"*\" for everyone waiting.")
	}
	return r.Apply(ctx, id, c, live.Command{Kind: kind, Participant: m.Participant})
}

func (c *conn) handleLock(ctx context.Context, data []byte) error {
	r, id, err := c.seat()
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
	return r.Apply(ctx, id, c, live.Command{Kind: protocol.CmdLock, Locked: *m.Locked})
}

func (c *conn) handlePing(data []byte) error {
	var m protocol.Ping
	if err := decode(data, &m); err != nil {
		return err
	}
	c.Send(protocol.Pong{Type: "pong", TS: m.TS})
	return nil
}

// dispatchControl handles a facilitator control or turn-taking message:
// the room authorizes and applies it.
func (c *conn) dispatchControl(ctx context.Context, kind protocol.CommandKind, data []byte) error {
	r, id, err := c.seat()
	if err != nil {
		return err
	}
	var m protocol.Control
	if err := decode(data, &m); err != nil {
		return err
	}
	cmd, err := command(kind, m)
	if err != nil {
		return err
	}
	return r.Apply(ctx, id, c, cmd)
}

// command turns a message into a live.Command, checking that the fields
// its type needs are present. The room checks everything else.
func command(kind protocol.CommandKind, m protocol.Control) (live.Command, error) {
	cmd := live.Command{Kind: kind, Participant: m.Participant, Media: protocol.MediaKind(m.Kind),
		Mode: protocol.FloorMode(m.Mode), Seconds: m.Seconds, Order: protocol.RoundOrder(m.Order), Block: m.Block}
	if cmd.Media == "" {
		cmd.Media = protocol.MediaAudio
	}
	switch kind {
	case protocol.CmdMute:
		if m.Participant == "" || m.Muted == nil {
			return cmd, perr(protocol.CodeBadRequest, "Say which participant to mute, and true or false as \"muted\".")
		}
		cmd.Muted = *m.Muted
	case protocol.CmdMuteAll:
		if m.Muted == nil {
			return cmd, perr(protocol.CodeBadRequest, "Say true or false as \"muted\".")
		}
		cmd.Muted = *m.Muted
	case protocol.CmdDeclineUnmute, protocol.CmdStartAside:
		if m.Participant == "" {
			return cmd, perr(protocol.CodeBadRequest, "Say which participant this is about.")
		}
	case protocol.CmdRemove:
		if m.Participant == "" {
			return cmd, perr(protocol.CodeBadRequest, "Say which participant to remove.")
		}
	case protocol.CmdHandFacilitation:
		if m.Participant == "" {
			return cmd, perr(protocol.CodeBadRequest, "Say which member is to facilitate.")
		}
	case protocol.CmdStartSideRoom:
		if len(m.Participants) == 0 || len(m.Participants) > live.MaxSideRoom {
			return cmd, perr(protocol.CodeBadRequest, "Name from 1 to %d participants to take to the side room.", live.MaxSideRoom)
		}
		cmd.Participants = m.Participants
	case protocol.CmdSetPolicy:
		cmd.Policy = live.PolicyPatch{SelfUnmute: m.SelfUnmute, JoinMuted: m.JoinMuted}
		if m.FloorReturn != nil {
			fr := protocol.FloorReturn(*m.FloorReturn)
			cmd.Policy.FloorReturn = &fr
		}
		if m.ShareEnd != nil {
			se := room.ShareEnd(*m.ShareEnd)
			cmd.Policy.ShareEnd = &se
		}
		if m.Chat != nil {
			cm := protocol.ChatMode(*m.Chat)
			cmd.Policy.Chat = &cm
		}
	case protocol.CmdStartRound:
		if cmd.Order == "" {
			cmd.Order = protocol.OrderJoin
		}
	case protocol.CmdAllowScreenShare:
		if m.Participant == "" || m.Allowed == nil {
			return cmd, perr(protocol.CodeBadRequest, "Say which participant this is about, and true or false as \"allowed\".")
		}
		cmd.Allowed = *m.Allowed
	}
	return cmd, nil
}

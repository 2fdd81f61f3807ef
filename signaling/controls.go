package signaling

import (
	"context"
	"errors"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// dispatchControl handles a facilitator control or turn-taking message.
func (c *conn) dispatchControl(ctx context.Context, kind protocol.CommandKind, data []byte) error {
	_, me, err := c.activePeer()
	if err != nil {
		return err
	}
	if c.session() == nil {
		return perr(protocol.CodeNotJoined, "Join the session first.")
	}
	var m protocol.Control
	if err := decode(data, &m); err != nil {
		return err
	}
	switch kind {
	case protocol.CmdRemove:
		return c.handleRemove(ctx, me, m)
	case protocol.CmdEndSession:
		return c.handleEndSession(me)
	}
	cmd, err := c.command(ctx, kind, me, m)
	if err != nil {
		return err
	}
	return c.session().applyControl(cmd)
}

func (c *conn) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// command turns a message into a live.Command, checking that the fields
// its type needs are present. Permissions are checked by live.Controls.
func (c *conn) command(ctx context.Context, kind protocol.CommandKind, me room.Participant, m protocol.Control) (live.Command, error) {
	cmd := live.Command{Kind: kind, By: me.ID, Participant: m.Participant, Media: protocol.MediaKind(m.Kind),
		Mode: protocol.FloorMode(m.Mode), Seconds: m.Seconds, Order: protocol.RoundOrder(m.Order)}
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
	case protocol.CmdSetPolicy:
		cmd.Policy = live.PolicyPatch{SelfUnmute: m.SelfUnmute, JoinMuted: m.JoinMuted}
		if m.FloorReturn != nil {
			fr := protocol.FloorReturn(*m.FloorReturn)
			cmd.Policy.FloorReturn = &fr
		}
	case protocol.CmdStartRound:
		if cmd.Order == "" {
			cmd.Order = protocol.OrderJoin
		}
		if cmd.Order == protocol.OrderRoster {
			roster, err := c.rosterOrder(ctx, me.Room)
			if err != nil {
				return cmd, err
			}
			cmd.Roster = roster
		}
	}
	return cmd, nil
}

// rosterOrder lists the room's roster identities in order (none for a
// drop-in room).
func (c *conn) rosterOrder(ctx context.Context, name string) ([]string, error) {
	cfg, err := c.srv.cfg.Rooms.Room(ctx, name)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(cfg.Roster))
	for _, e := range cfg.Roster {
		ids = append(ids, e.Identity)
	}
	return ids, nil
}

// handleRemove checks the command against the controls, removes the
// participant from the room (blocking its identity if asked), cuts its media
// and closes its connection with bye "removed".
func (c *conn) handleRemove(ctx context.Context, me room.Participant, m protocol.Control) error {
	if m.Participant == "" {
		return perr(protocol.CodeBadRequest, "Say which participant to remove.")
	}
	ss := c.session()
	cmd := live.Command{Kind: protocol.CmdRemove, By: me.ID, Participant: m.Participant}
	if err := ss.authorizeControl(cmd); err != nil {
		return err
	}
	if _, err := c.srv.cfg.Rooms.Remove(ctx, me.Room, me.ID, m.Participant, m.Block); err != nil {
		return err
	}
	if err := ss.applyControl(cmd); err != nil && !errors.Is(err, room.ErrInvalid) {
		return err // ErrInvalid: it left meanwhile
	}
	if t := ss.find(m.Participant); t != nil {
		t.kick(protocol.Bye{Type: "bye", Reason: "removed"}, websocket.CloseNormalClosure)
	}
	c.log.Info("removed", "target", m.Participant, "blocked", m.Block)
	return nil
}

// handleEndSession ends the session for everyone on this node, seated or
// waiting: the last room_state says ended, then each gets bye "ended".
func (c *conn) handleEndSession(me room.Participant) error {
	ss := c.session()
	if err := ss.applyControl(live.Command{Kind: protocol.CmdEndSession, By: me.ID}); err != nil {
		return err
	}
	c.log.Info("session ended")
	for _, o := range ss.allConns() {
		o.kick(protocol.Bye{Type: "bye", Reason: "ended"}, websocket.CloseNormalClosure)
	}
	return nil
}

package signaling

// Chat's handlers: they check the fields and hand the message to the live
// room, which decides who gets it. Nothing of a message's text is logged
// or kept here.

import "github.com/hearth-rtc/hearth/protocol"

func (c *conn) handleChat(data []byte) error {
	r, id, err := c.seat()
	if err != nil {
		return err
	}
	var m protocol.ChatSend
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.To == "" {
		return perr(protocol.CodeBadRequest, "Say who the message is for: \"room\", \"facilitators\" or a participant id.")
	}
	return r.Chat(id, c, m.To, m.Text)
}

func (c *conn) handleRemoveChat(data []byte) error {
	r, id, err := c.seat()
	if err != nil {
		return err
	}
	var m protocol.RemoveChat
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.ID == "" {
		return perr(protocol.CodeBadRequest, "Say which message to remove, by its \"id\".")
	}
	return r.RemoveChat(id, c, m.ID)
}

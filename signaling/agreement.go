package signaling

import (
	"context"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
)

// The group agreement at the door (PROTOCOL.md, "The group agreement"):
// a join that membership answers with the room's agreement waits on the
// connection, one at most, until the person accepts (the join is decided
// again, naming the version accepted), declines (they are told how to
// reach the facilitator, and the connection ends), or the agreement's
// deadline (Config.AgreementTimeout, in place of the join deadline) passes.
// The connection counts as unjoined meanwhile, so the
// limits on sockets that have not joined hold it too.

// maxVersionLen bounds the version an accept_agreement names (a version is
// 16 hex digits).
const maxVersionLen = 64

// askedJoin is a join waiting for the answer to the agreement.
type askedJoin struct {
	req     membership.JoinRequest
	contact string
}

// askAgreement keeps req, waiting for the answer, and shows the agreement.
// A version accepted of a text since changed is answered with
// agreement_changed, after the text to read again.
func (c *conn) askAgreement(req membership.JoinRequest, res membership.JoinResult) error {
	ask := res.Agreement
	req.Agreement = ""
	c.mu.Lock()
	c.join.asked = &askedJoin{req: req, contact: ask.Agreement.Contact}
	if c.join.timer != nil {
		c.join.timer.Stop()
		c.join.timer = time.AfterFunc(c.srv.cfg.AgreementTimeout, c.joinDeadline)
	}
	c.mu.Unlock()
	c.Send(protocol.Agreement{Type: "agreement", Room: res.Room, Text: ask.Agreement.Text, Version: ask.Version,
		Every: ask.Agreement.Every, Contact: ask.Agreement.Contact,
		Message: "Before you join, please read the group's agreement. You enter once you accept it."})
	if ask.Changed {
		return perr(protocol.CodeAgreementChanged, "The group agreement changed while you were reading it. Please read it again; you enter once you accept it.")
	}
	return nil
}

// takeAsked returns the join waiting for the agreement's answer, and
// forgets it.
func (c *conn) takeAsked() *askedJoin {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.join.asked
	c.join.asked = nil
	return a
}

func (c *conn) handleAcceptAgreement(ctx context.Context, data []byte) error {
	var m protocol.AcceptAgreement
	if err := decode(data, &m); err != nil {
		return err
	}
	if m.Version == "" || len(m.Version) > maxVersionLen {
		return perr(protocol.CodeBadRequest, "Say which version of the agreement you accept, as it was shown to you.")
	}
	if r, _, _ := c.seat(); r != nil {
		return perr(protocol.CodeAlreadyJoined, "this connection has already joined")
	}
	a := c.takeAsked()
	if a == nil {
		return perr(protocol.CodeBadRequest, "There is no group agreement waiting for your answer: join first.")
	}
	req := a.req
	req.Agreement = m.Version
	return c.enter(ctx, req)
}

func (c *conn) handleDeclineAgreement(data []byte) error {
	var m protocol.DeclineAgreement
	if err := decode(data, &m); err != nil {
		return err
	}
	a := c.takeAsked()
	if a == nil {
		return perr(protocol.CodeBadRequest, "There is no group agreement waiting for your answer.")
	}
	c.log.Info("agreement declined")
	msg := "You have not joined the group. To talk with the facilitator about the agreement, contact whoever invited you."
	if a.contact != "" {
		msg = "You have not joined the group. To talk with the facilitator about the agreement: " + a.contact
	}
	c.Send(protocol.AgreementDeclined{Type: "agreement_declined", Message: msg, Contact: a.contact})
	c.Close(protocol.Bye{Type: "bye", Reason: "agreement_declined"})
	return nil
}

func errAgreementTimeout() *protoError {
	return &protoError{code: protocol.CodeJoinTimeout, close: true,
		message: "The group agreement was not answered in time; reconnect to read it again."}
}

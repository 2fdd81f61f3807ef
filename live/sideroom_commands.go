package live

import (
	"fmt"
	"slices"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The side room commands: take participants out of the group into a side
// room with the sender, and bring them back.

// startSideRoom takes ids into a side room hosted by host, or, when host
// already hosts one, adds them to it. Each leaves the group's turn-taking
// (startSideRoomSeat); a private aside with any of them, or with the host,
// ends, since the side room is more private still.
func (c *Controls) startSideRoom(host string, ids []string) (bool, error) {
	if c.side != nil && c.side.host != host {
		return false, errInvalid("A side room is already in use; bring its people back first.")
	}
	if len(ids) == 0 {
		return false, errInvalid("Say whom to take to the side room.")
	}
	var have []string
	if c.side != nil {
		have = c.side.members
	}
	var add []string
	for _, id := range ids {
		if id == host {
			return false, errInvalid("You are in the side room already; name the people to take there.")
		}
		if slices.Contains(have, id) || slices.Contains(add, id) {
			continue
		}
		t, ok := c.parts[id]
		if !ok {
			return false, errNotHere()
		}
		if !t.p.Role.Can(room.PermPublishAudio) {
			return false, errInvalid(t.p.Role.WithArticleCapital() + " cannot be taken to a side room.")
		}
		add = append(add, id)
	}
	if len(have)+len(add) > MaxSideRoom {
		return false, errInvalid(fmt.Sprintf("A side room takes at most %d people besides its host.", MaxSideRoom))
	}
	if len(add) == 0 {
		return false, nil
	}
	if c.side == nil {
		c.side = &sideRoom{host: host}
		c.leaveGroup(host)
	}
	c.side.members = append(c.side.members, add...)
	for _, id := range add {
		c.leaveGroup(id)
	}
	if c.aside.has(host) || slices.ContainsFunc(add, c.aside.has) {
		c.aside = nil
	}
	return true, nil
}

// leaveGroup takes id, going to the side room, out of the group's
// turn-taking: its hand is lowered, its turn in a round skipped (the round
// moves on if it was speaking), and a floor it held returns to the
// facilitators.
func (c *Controls) leaveGroup(id string) {
	c.hands.lower(id)
	if c.round != nil {
		if c.round.speaker() == id {
			c.advance(protocol.TurnSkipped)
		} else {
			c.round.skip(id)
		}
		return
	}
	if c.floor.holder == id {
		c.floor.clearHolder()
	}
}

// endSideRoom brings id back to the group, or everyone with an empty id;
// the side room ends when nobody is left with its host, or the host
// comes back. Members who sent it come back alone (Authorize).
func (c *Controls) endSideRoom(by, id string) (bool, error) {
	if c.side == nil {
		return false, errInvalid("No side room is in use.")
	}
	if id == "" && !c.parts[by].p.Role.Can(room.PermModerate) {
		id = by
	}
	switch {
	case id == "" || id == c.side.host:
		c.side = nil
	case !c.side.has(id):
		return false, errInvalid("That participant is not in the side room.")
	case !c.side.without(id):
		c.side = nil
	}
	return true, nil
}

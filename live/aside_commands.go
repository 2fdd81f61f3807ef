package live

import "github.com/hearth-rtc/hearth/room"

// The private aside commands: start one with a participant, end it.

// startAside takes member aside with host.
func (c *Controls) startAside(host, member string) (bool, error) {
	if c.aside != nil {
		return false, errInvalid("A private aside is already in progress.")
	}
	if member == host {
		return false, errInvalid("A private aside needs another participant.")
	}
	t, ok := c.parts[member]
	if !ok {
		return false, errNotHere()
	}
	if !t.p.Role.Can(room.PermPublishAudio) {
		return false, errInvalid(t.p.Role.WithArticleCapital() + " cannot speak in a private aside.")
	}
	if c.side.has(host) || c.side.has(member) {
		return false, errInvalid("A private aside is for two people in the group; the side room is already private.")
	}
	c.aside = &aside{host: host, member: member}
	return true, nil
}

// endAside ends the aside; both return to the group.
func (c *Controls) endAside() (bool, error) {
	if c.aside == nil {
		return false, errInvalid("No private aside is in progress.")
	}
	c.aside = nil
	return true, nil
}

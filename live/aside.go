package live

import "github.com/hearth-rtc/hearth/room"

// aside is a private conversation between a facilitator (the host) and one
// participant inside the group; see Controls for what it does to audio.
// There is at most one at a time.
type aside struct {
	host, member string
}

func (a *aside) has(id string) bool { return a != nil && (a.host == id || a.member == id) }

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
	c.aside = &aside{host: host, member: member}
	return true, nil
}

func (c *Controls) endAside() (bool, error) {
	if c.aside == nil {
		return false, errInvalid("No private aside is in progress.")
	}
	c.aside = nil
	return true, nil
}

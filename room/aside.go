package room

// aside is a private conversation between a facilitator (the host) and one
// participant inside the group; see Controls for what it does to audio.
// There is at most one at a time.
type aside struct {
	host, member string
}

func (a *aside) has(id string) bool { return a != nil && (a.host == id || a.member == id) }

func (c *Controls) startAside(host, member string) (bool, error) {
	if c.aside != nil {
		return false, errInvalid("an aside is already in progress")
	}
	if member == host {
		return false, errInvalid("an aside needs another participant")
	}
	t, ok := c.parts[member]
	if !ok {
		return false, errInvalid("participant %q is not in the session", member)
	}
	if !t.p.Role.Can(PermPublishAudio) {
		return false, errInvalid("a %s cannot speak in an aside", t.p.Role)
	}
	c.aside = &aside{host: host, member: member}
	return true, nil
}

func (c *Controls) endAside() (bool, error) {
	if c.aside == nil {
		return false, errInvalid("no aside is in progress")
	}
	c.aside = nil
	return true, nil
}

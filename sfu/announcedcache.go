package sfu

// announcedCache remembers what the peer's local and remote descriptions
// announce (announced), so that each is read once rather than at every
// update of the guard around setting it: a renegotiation otherwise read
// its 13 or more sections five times. Under the peer's negMu.
type announcedCache struct {
	local, remote announcedEntry
}

type announcedEntry struct {
	desc         string
	all, sending ssrcs
	ok           bool
}

// get returns what desc, the local description or the remote one,
// announces.
func (c *announcedCache) get(desc string, local bool) (all, sending ssrcs) {
	e := &c.remote
	if local {
		e = &c.local
	}
	if !e.ok || e.desc != desc {
		all, sending = announced(desc)
		*e = announcedEntry{desc: desc, all: all, sending: sending, ok: true}
	}
	return e.all, e.sending
}

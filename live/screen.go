package live

import (
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// screenShare is the room's screen share: who shares now (nobody when
// sharer is empty) and since when, and the members a facilitator allowed
// to share. One screen is shared at a time.
type screenShare struct {
	sharer string
	since  time.Time
	// allowed holds seated members' ids only: forget drops a leaver's.
	allowed map[string]bool
}

// may reports whether p may share their screen: facilitators and
// co-facilitators always, members once a facilitator allowed them,
// observers never.
func (s *screenShare) may(p room.Participant) bool {
	switch {
	case p.Role.Can(room.PermModerate):
		return true
	case p.Role == room.RoleMember:
		return s.allowed[p.ID]
	}
	return false
}

// stop ends the share; it reports whether there was one.
func (s *screenShare) stop() bool {
	if s.sharer == "" {
		return false
	}
	s.sharer, s.since = "", time.Time{}
	return true
}

// allow sets whether member id may share; it reports a change.
func (s *screenShare) allow(id string, ok bool) bool {
	if s.allowed[id] == ok {
		return false
	}
	if !ok {
		delete(s.allowed, id)
		return true
	}
	if s.allowed == nil {
		s.allowed = map[string]bool{}
	}
	s.allowed[id] = true
	return true
}

// forget drops a participant who left: their permission, and their share.
func (s *screenShare) forget(id string) {
	delete(s.allowed, id)
	if s.sharer == id {
		s.stop()
	}
}

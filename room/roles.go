package room

import (
	"fmt"
	"strings"
)

// Role is a participant's role in a room. The string values are the wire
// names used in tokens, the protocol and the admin API.
type Role string

const (
	RoleFacilitator Role = "facilitator"
	// RoleCoFacilitator is spelled "co-facilitator" on the wire, as in the
	// product wording.
	RoleCoFacilitator Role = "co-facilitator"
	RoleMember        Role = "member"
	// RoleObserver receives only; it can never publish.
	RoleObserver Role = "observer"
)

// Roles lists every role, highest first.
func Roles() []Role {
	return []Role{RoleFacilitator, RoleCoFacilitator, RoleMember, RoleObserver}
}

// Permission is something a role may do; the server checks one for every
// command and every published track.
type Permission string

const (
	PermPublishAudio Permission = "publish_audio"
	PermPublishVideo Permission = "publish_video"
	PermReceive      Permission = "receive"
	PermModerate     Permission = "moderate"
	PermAdmit        Permission = "admit"
)

// Permissions lists every permission.
func Permissions() []Permission {
	return []Permission{PermPublishAudio, PermPublishVideo, PermReceive, PermModerate, PermAdmit}
}

// ParseRole returns the role with wire name s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("%w: unknown role %q (want facilitator, co-facilitator, member or observer)", ErrInvalid, s)
	}
	return r, nil
}

// WithArticle names the role for a sentence: "a facilitator", "an
// observer".
func (r Role) WithArticle() string {
	if r == RoleObserver {
		return "an " + string(r)
	}
	return "a " + string(r)
}

// WithArticleCapital is WithArticle at the start of a sentence.
func (r Role) WithArticleCapital() string {
	s := r.WithArticle()
	return strings.ToUpper(s[:1]) + s[1:]
}

// Outranks reports whether r is above other (facilitator, co-facilitator,
// member, observer, in that order).
func (r Role) Outranks(other Role) bool { return r.rank() > other.rank() }

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// rank orders roles so that a token can be clamped to its roster role.
func (r Role) rank() int {
	switch r {
	case RoleFacilitator:
		return 4
	case RoleCoFacilitator:
		return 3
	case RoleMember:
		return 2
	case RoleObserver:
		return 1
	}
	return 0
}

// IsFacilitator reports whether r runs the session (facilitator or
// co-facilitator): such a participant starts a closed session and bypasses
// lock, knock, passcode and capacity.
func (r Role) IsFacilitator() bool { return r == RoleFacilitator || r == RoleCoFacilitator }

// AtMost returns the lower of r and limit, so that a token cannot raise a
// participant above the role its roster entry grants.
func (r Role) AtMost(limit Role) Role {
	if r.rank() > limit.rank() {
		return limit
	}
	return r
}

// Can reports whether the role has permission p. Unknown roles have none.
func (r Role) Can(p Permission) bool {
	switch p {
	case PermReceive:
		return r.Valid()
	case PermPublishAudio, PermPublishVideo:
		return r == RoleFacilitator || r == RoleCoFacilitator || r == RoleMember
	case PermModerate, PermAdmit:
		return r.IsFacilitator()
	}
	return false
}

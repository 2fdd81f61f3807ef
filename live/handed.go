package live

// handedRole is the facilitator role handed to a member for the session: to
// holds it, by handed it. There is at most one at a time.
type handedRole struct {
	to, by string
}

// holds reports whether id holds a handed role; a nil handedRole has nobody.
func (h *handedRole) holds(id string) bool { return h != nil && h.to == id }

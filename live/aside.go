package live

// aside is a private conversation between a facilitator (the host) and one
// participant inside the group; see Controls for what it does to audio.
// There is at most one at a time.
type aside struct {
	host, member string
}

// has reports whether id is one of the two; a nil aside has nobody.
func (a *aside) has(id string) bool { return a != nil && (a.host == id || a.member == id) }

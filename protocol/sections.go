package protocol

// Sections tells a client what media sections of its connection carry
// (PROTOCOL.md, "sections"): whose media, and of what kind. Only the
// sections that changed are listed; a client keeps the others as it last
// heard.
type Sections struct {
	Type     string    `json:"type"`
	Sections []Section `json:"sections"`
}

// Section is one media section: its mid, and whose media it carries now
// (Participant nil for nobody: the section is to be shown as nobody's).
type Section struct {
	Mid         string  `json:"mid"`
	Participant *string `json:"participant"`
	// Kind is "audio" or "video"; Screen marks a screen share and its
	// sound (left out otherwise).
	Kind   string `json:"kind"`
	Screen bool   `json:"screen,omitempty"`
}

package room

// ShareEnd says what happens when a timed share's time is up.
type ShareEnd string

const (
	// ShareEndStop ends the share at zero: the floor moves on and the
	// speaker is no longer heard where the floor decides who is (the
	// default).
	ShareEndStop ShareEnd = "stop"
	// ShareEndFinish lets the speaker finish: at zero the time shows as up
	// and nothing else changes until a facilitator takes the floor back or
	// moves on.
	ShareEndFinish ShareEnd = "finish"
)

// Valid reports whether e is stop or finish.
func (e ShareEnd) Valid() bool { return e == ShareEndStop || e == ShareEndFinish }

// OrStop is e, or ShareEndStop when e is empty (a room configured before
// the choice existed).
func (e ShareEnd) OrStop() ShareEnd {
	if e == "" {
		return ShareEndStop
	}
	return e
}

package sfu

// Sending quality. Whoever loses much of the sound they send is heard
// breaking up and does not know it. The server knows: the receiver reports
// it makes for each incoming stream count what a publisher's microphone
// sent that never arrived (rxreport.go). Over the last uplinkWindow
// seconds, a microphone losing uplinkPoor or more of its packets makes its
// sending poor; poor, it is good again below uplinkGood (the gap keeps a
// link near one figure from flapping). A second with fewer than
// uplinkMinPackets expected (a microphone silenced or stopped) says
// nothing either way. Audio only: video has NACKs, and its loss is the
// bandwidth estimate's business.
const (
	uplinkWindow     = 5
	uplinkPoor       = 0.10
	uplinkGood       = 0.04
	uplinkMinPackets = 25
)

// SendingQuality says how much of a publisher's sound reaches the server.
type SendingQuality struct {
	Publisher string
	// Peer is the publisher's peer connection it was measured on: a
	// report may come after a new one replaced it.
	Peer *Peer
	// Poor says much of the sound sent over the last few seconds never
	// arrived (uplinkPoor or more; uplinkGood or more while it stays
	// poor); Lost is the fraction that did not.
	Poor bool
	Lost float64
}

// tellQuality passes changes of sending quality on (OnSendingQuality).
func (r *Router) tellQuality(qs []SendingQuality) {
	if r.onSent == nil {
		return
	}
	for _, q := range qs {
		r.onSent(q)
	}
}

// uplink is a microphone's loss over the last uplinkWindow seconds, a
// second a slot. The report ticker's only (under the track's fwdMu).
type uplink struct {
	expected, lost [uplinkWindow]uint32
	next           int
	poor           bool
}

// add takes a second's counts and reports whether the sending became poor
// or good again, with the loss over the window.
func (u *uplink) add(expected, lost uint32) (changed bool, loss float64) {
	if expected < uplinkMinPackets {
		return false, 0
	}
	u.expected[u.next], u.lost[u.next] = expected, lost
	u.next = (u.next + 1) % uplinkWindow
	var e, l uint32
	for i := range uplinkWindow {
		e += u.expected[i]
		l += u.lost[i]
	}
	loss = float64(l) / float64(e)
	switch {
	case !u.poor && loss >= uplinkPoor && u.full():
		u.poor = true
		return true, loss
	case u.poor && loss < uplinkGood:
		u.poor = false
		return true, loss
	}
	return false, loss
}

// full says whether every slot of the window has a second in it.
func (u *uplink) full() bool {
	for _, e := range u.expected {
		if e == 0 {
			return false
		}
	}
	return true
}

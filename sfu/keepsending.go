package sfu

import (
	"strings"

	"github.com/pion/sdp/v3"
)

// keepSending returns desc, the client's new description, with each
// section it sent on in prev (its last one) and now makes inactive kept
// sending as before, and the mids of those sections. pion would stop such
// a section's receiver (or, in an offer, its transceiver), ending the
// track; a track sent there again could not be taken up, since its packets
// come without the rid that names their layer once the server has reported
// on them. A section kept so carries a silent track, as one whose sender
// has nothing to send.
func keepSending(desc, prev string) (string, []string) {
	if prev == "" || !strings.Contains(desc, "a="+sdp.AttrKeyInactive) {
		return desc, nil
	}
	was := map[string]string{} // mid -> direction, of the sections prev sends on
	for _, s := range mediaDirections(prev) {
		if s.dir == sdp.AttrKeySendOnly || s.dir == sdp.AttrKeySendRecv {
			was[s.mid] = s.dir
		}
	}
	var kept []string
	for _, s := range mediaDirections(desc) {
		if dir, ok := was[s.mid]; ok && s.dir == sdp.AttrKeyInactive && !s.rejected {
			desc = withDirection(desc, s.mid, dir)
			kept = append(kept, s.mid)
		}
	}
	return desc, kept
}

// inactiveIn returns the answer desc with the sections mids inactive, as
// the client's offer made them (keepSending).
func inactiveIn(desc string, mids []string) string {
	for _, mid := range mids {
		desc = withDirection(desc, mid, sdp.AttrKeyInactive)
	}
	return desc
}

// mediaDirection is a media section's mid and direction (its own, or else
// the session's), and whether it is rejected (port 0).
type mediaDirection struct {
	mid, dir string
	rejected bool
}

// mediaDirections reads the direction of each of desc's sections that has
// a mid, in order.
func mediaDirections(desc string) []mediaDirection {
	var secs [24]sdpSection
	d := sdpDoc{sections: secs[:0]}
	d.read(desc)
	session := direction(d.session, sdp.AttrKeySendRecv)
	var out []mediaDirection
	for i := range d.sections {
		m := &d.sections[i]
		if m.mid != "" {
			out = append(out, mediaDirection{mid: m.mid, dir: direction(m.attrs, session), rejected: m.port == "0"})
		}
	}
	return out
}

// withDirection returns desc with the section mid's direction attribute
// made dir; the other lines keep their text.
func withDirection(desc, mid, dir string) string {
	parts := strings.SplitAfter(desc, "\nm=")
	for i := 1; i < len(parts); i++ {
		// parts[i] is a section from after its "m=" up to the next one.
		if sdpAttrs("m="+parts[i]).first(sdp.AttrKeyMID) != mid {
			continue
		}
		var b strings.Builder
		for line := range strings.Lines(parts[i]) {
			switch strings.TrimRight(line, "\r\n") {
			case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
				line = "a=" + dir + line[len(strings.TrimRight(line, "\r\n")):]
			}
			b.WriteString(line)
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, "")
}

package sfu

import "strings"

// keepSending returns desc, the client's new description, with each
// section it sent on in prev (its last one) and now makes inactive kept
// sending as before, and the mids of those sections. pion would stop such
// a section's receiver, ending the track; a track sent there again could
// not be taken up, since its packets come without the rid that names
// their layer once the server has reported on them. A section kept so
// carries a silent track, as one whose sender has nothing to send.
func keepSending(desc, prev string) (string, []string) {
	if prev == "" || !strings.Contains(desc, "a=inactive") {
		return desc, nil
	}
	was := map[string]string{} // mid -> direction, of the sections prev sends on
	for _, s := range splitMedia(prev) {
		if dir := s.direction(); s.mid() != "" && (dir == "sendonly" || dir == "sendrecv") {
			was[s.mid()] = dir
		}
	}
	var kept []string
	ss := splitMedia(desc)
	for i, s := range ss {
		dir, ok := was[s.mid()]
		if !ok || s.direction() != "inactive" || s.rejected() {
			continue
		}
		ss[i] = s.withDirection(dir)
		kept = append(kept, s.mid())
	}
	if kept == nil {
		return desc, nil
	}
	return joinMedia(ss), kept
}

// inactiveIn returns the answer desc with the sections mids inactive, as
// the client's offer made them (keepSending).
func inactiveIn(desc string, mids []string) string {
	if len(mids) == 0 {
		return desc
	}
	ss := splitMedia(desc)
	for i, s := range ss {
		for _, mid := range mids {
			if s.mid() == mid {
				ss[i] = s.withDirection("inactive")
			}
		}
	}
	return joinMedia(ss)
}

// mediaText is the text of a description's session part or of one of its
// media sections, lines ending as they came.
type mediaText string

// splitMedia splits desc at each m= line; joined, they are desc.
func splitMedia(desc string) []mediaText {
	var out []mediaText
	for {
		i := strings.Index(desc, "\nm=")
		if i < 0 {
			return append(out, mediaText(desc))
		}
		out = append(out, mediaText(desc[:i+1]))
		desc = desc[i+1:]
	}
}

func joinMedia(ss []mediaText) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(string(s))
	}
	return b.String()
}

// attr returns the value of the section's first a=key line, and whether
// there is one.
func (s mediaText) attr(key string) (string, bool) {
	for line := range strings.Lines(string(s)) {
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, "a="+key); ok && (v == "" || v[0] == ':') {
			return strings.TrimPrefix(v, ":"), true
		}
	}
	return "", false
}

func (s mediaText) mid() string {
	if !strings.HasPrefix(string(s), "m=") {
		return ""
	}
	v, _ := s.attr("mid")
	return v
}

// direction is the section's own direction attribute, "" if none.
func (s mediaText) direction() string {
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := s.attr(d); ok {
			return d
		}
	}
	return ""
}

// rejected reports a section with port 0 and no bundle-only.
func (s mediaText) rejected() bool {
	fields := strings.Fields(strings.SplitN(string(s), "\n", 2)[0])
	_, bundleOnly := s.attr("bundle-only")
	return len(fields) > 1 && fields[1] == "0" && !bundleOnly
}

// withDirection returns the section with its direction attribute made dir.
func (s mediaText) withDirection(dir string) mediaText {
	var b strings.Builder
	for line := range strings.Lines(string(s)) {
		body := strings.TrimRight(line, "\r\n")
		switch body {
		case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
			line = "a=" + dir + line[len(body):]
		}
		b.WriteString(line)
	}
	return mediaText(b.String())
}

package sfu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
)

// checkRemoteSDP refuses, before pion sees them, session descriptions that
// pion would take and then refuse half-way. pion commits the signaling
// state (and may add transceivers) before most of its checks and cannot
// roll a remote description back, so such a description would leave the
// connection unable to negotiate again. The checks mirror pion's: media
// sections with mids, payload types with codecs, parsable header
// extensions, ICE credentials and candidates, and a DTLS fingerprint,
// where pion looks for them.
//
// It reads the text as pion's parser does rather than parsing it into
// pion's structures: every join and renegotiation passes here, and a
// parse of a group's description (a dozen media sections) was an eighth
// of what the server allocated for a join. What pion cannot parse it
// refuses before taking anything, so only descriptions pion parses need
// the same verdict here (TestSDPCheckAgrees, FuzzSDPCheck).
func checkRemoteSDP(raw string) error {
	// Room for a group's sections without allocating.
	var secs [24]sdpSection
	d := sdpDoc{sections: secs[:0]}
	d.read(raw)
	if len(d.sections) == 0 {
		return errors.New("no media sections")
	}
	for i := range d.sections {
		m := &d.sections[i]
		if m.mid == "" {
			return fmt.Errorf("media section %d has no mid", i)
		}
		if err := d.checkMedia(m); err != nil {
			return fmt.Errorf("media section %d: %w", i, err)
		}
	}
	// pion reads ICE details from the session, else from the bundle's
	// first section (or the first section without bundling).
	bundle := bundleID(d.session.first("group"))
	sel := &d.sections[0]
	if bundle != "" {
		sel = nil
		for i := range d.sections {
			if d.sections[i].mid == bundle {
				sel = &d.sections[i]
				break
			}
		}
	}
	ufrag, pwd := d.session.first("ice-ufrag"), d.session.first("ice-pwd")
	if sel != nil {
		mu, mp := sel.attrs.first("ice-ufrag"), sel.attrs.first("ice-pwd")
		if ufrag == "" && mu != "" {
			ufrag, pwd = mu, mp
		}
		if err := checkCandidates(sel.attrs); err != nil {
			return err
		}
	}
	if ufrag == "" || pwd == "" {
		return errors.New("no ICE credentials")
	}
	return d.checkFingerprint(bundle)
}

// sdpDoc is a session description as far as the checks read it: the
// session's attribute lines and each media section's.
type sdpDoc struct {
	session  sdpAttrs
	sections []sdpSection
	// checked are extmap lines found good, which recur in every section.
	checked []string
}

type sdpSection struct {
	kind    string
	port    string
	formats string // the m-line after its proto
	mid     string
	attrs   sdpAttrs
}

// sdpAttrs are the text of a run of attribute lines.
type sdpAttrs string

func (d *sdpDoc) read(raw string) {
	var sec *sdpSection
	start := 0
	l := sdpLexer{s: raw}
	for {
		at := l.pos
		typ, value, ok := l.next()
		if typ == 'm' || !ok {
			if sec != nil {
				sec.attrs = sdpAttrs(raw[start:at])
				sec.mid = sec.attrs.first(sdp.AttrKeyMID)
			} else {
				d.session = sdpAttrs(raw[:at])
			}
			if !ok {
				return
			}
			d.sections = append(d.sections, sdpSection{})
			sec = &d.sections[len(d.sections)-1]
			start = l.pos
			sec.kind, sec.port, sec.formats = mediaLine(value)
		}
	}
}

// sdpLexer reads a description as pion's lexer does. Newlines ('\r' or
// '\n') before a line are skipped; a line starts "<type>=". Most lines run
// to '\n', less as many bytes as the line has '\r' (pion counts each one
// as part of the line ending). Lines that pion reads field by field (v, o,
// c, t, r, z and m) end after their fields: a field ends at a run of
// spaces or tabs, which it takes, or before a '\r' or '\n'; the next line
// may follow on the same line of text.
type sdpLexer struct {
	s   string
	pos int
}

// next returns the next line's type and, for an m-line or a line read up
// to its end, its text. ok is false at the end, or where pion would not
// read on (it then refuses the whole description).
func (l *sdpLexer) next() (typ byte, value string, ok bool) {
	for l.pos < len(l.s) && (l.s[l.pos] == '\n' || l.s[l.pos] == '\r') {
		l.pos++
	}
	if l.pos+2 > len(l.s) || l.s[l.pos+1] != '=' {
		l.pos = len(l.s)
		return 0, "", false
	}
	typ = l.s[l.pos]
	l.pos += 2
	switch typ {
	case 'v':
		l.fields(1)
	case 't':
		l.fields(2)
	case 'c':
		l.fields(3)
	case 'o':
		// The address type and then the address may be missing.
		l.fields(4)
		if l.field() != "" {
			l.field()
		}
	case 'r':
		l.fields(2)
		l.untilEmpty()
	case 'z':
		for l.field(); l.field() != ""; l.field() {
		}
	case 'm':
		start := l.pos
		l.fields(3)
		l.untilEmpty()
		return typ, l.s[start:l.pos], true
	default:
		line := l.s[l.pos:]
		i := strings.IndexByte(line, '\n')
		if i < 0 {
			l.pos = len(l.s)
			return 0, "", false // pion reads these lines up to a newline only
		}
		line = line[:i]
		l.pos += i + 1
		return typ, line[:len(line)-strings.Count(line, "\r")], true
	}
	return typ, "", true
}

// field reads one field.
func (l *sdpLexer) field() string {
	start := l.pos
	for l.pos < len(l.s) {
		switch l.s[l.pos] {
		case '\n', '\r':
			return l.s[start:l.pos]
		case ' ', '\t':
			f := l.s[start:l.pos]
			for l.pos < len(l.s) && (l.s[l.pos] == ' ' || l.s[l.pos] == '\t') {
				l.pos++
			}
			return f
		}
		l.pos++
	}
	return l.s[start:]
}

func (l *sdpLexer) fields(n int) {
	for range n {
		l.field()
	}
}

// untilEmpty reads fields up to the end of the line.
func (l *sdpLexer) untilEmpty() {
	for l.pos < len(l.s) && l.field() != "" {
	}
}

// mediaLine splits an m-line's value into its media, its port and its
// formats.
func mediaLine(v string) (kind, port, formats string) {
	kind, rest := nextField(v)
	port, rest = nextField(rest)
	_, rest = nextField(rest) // proto
	return kind, port, rest
}

// nextField returns the text up to the next run of spaces or tabs, and
// what follows the run.
func nextField(s string) (field, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	field, rest = s[:i], s[i:]
	return field, strings.TrimLeft(rest, " \t")
}

// each calls fn with each attribute's key and value, split as pion splits
// them, and the attribute as pion prints it (Attribute.String); it stops
// when fn returns false.
func (a sdpAttrs) each(fn func(key, value, text string) bool) {
	l := sdpLexer{s: string(a)}
	for {
		typ, line, ok := l.next()
		if !ok {
			return
		}
		if typ != 'a' {
			continue
		}
		key, value := line, ""
		if i := strings.IndexByte(line, ':'); i > 0 {
			key, value = line[:i], line[i+1:]
		}
		text := line
		if value == "" {
			text = key
		}
		if !fn(key, value, text) {
			return
		}
	}
}

// first is the value of the first attribute named key, or "".
func (a sdpAttrs) first(key string) string {
	var v string
	a.each(func(k, value, _ string) bool {
		if k == key {
			v = value
			return false
		}
		return true
	})
	return v
}

// checkMedia checks what pion reads from an audio or video section before
// anything else: payload types, each with a codec (pion's static ones, or
// an rtpmap, fmtp or rtcp-fb line naming it; 0 may have none), and header
// extension mappings.
func (d *sdpDoc) checkMedia(m *sdpSection) error {
	if kind := strings.ToLower(m.kind); kind != "audio" && kind != "video" {
		return nil
	}
	var codecs [4]uint64 // payload types with a codec, as a bit set
	set := func(pt uint64) { codecs[pt/64] |= 1 << (pt % 64) }
	set(0)
	set(8)
	set(9)
	var extErr error
	m.attrs.each(func(key, _, text string) bool {
		if pt, ok := codecPayloadType(text); ok {
			set(pt)
		}
		if key == sdp.AttrKeyExtMap && extErr == nil {
			extErr = d.checkExtMap(text)
		}
		return true
	})
	for f, rest := nextField(m.formats); f != ""; f, rest = nextField(rest) {
		pt, err := strconv.ParseUint(f, 10, 8)
		if err != nil {
			return fmt.Errorf("payload type %q: %w", f, err)
		}
		if codecs[pt/64]&(1<<(pt%64)) == 0 && pt != 0 {
			return fmt.Errorf("payload type %d has no rtpmap", pt)
		}
	}
	if extErr != nil {
		return fmt.Errorf("extmap: %w", extErr)
	}
	return nil
}

// codecPayloadType reports the payload type an attribute gives a codec,
// as pion's codec map reads rtpmap, fmtp and rtcp-fb lines (a wildcard
// rtcp-fb names none).
func codecPayloadType(text string) (uint64, bool) {
	name, rest, _ := strings.Cut(text, ":")
	switch name {
	case "rtpmap":
		// rtpmap:<pt> <name>[/<clock rate>[/<parameters>]], one space.
		if strings.Count(text, " ") != 1 {
			return 0, false
		}
		ptText, codec, _ := strings.Cut(rest, " ")
		if strings.Contains(ptText, ":") {
			return 0, false
		}
		pt, err := strconv.ParseUint(ptText, 10, 8)
		if err != nil {
			return 0, false
		}
		if _, after, found := strings.Cut(codec, "/"); found {
			rate, _, _ := strings.Cut(after, "/")
			if _, err := strconv.ParseUint(rate, 10, 32); err != nil {
				return 0, false
			}
		}
		return pt, true
	case "fmtp", "rtcp-fb":
		ptText, _, found := strings.Cut(rest, " ")
		if !found || strings.Contains(ptText, ":") {
			return 0, false
		}
		pt, err := strconv.ParseUint(ptText, 10, 8)
		return pt, err == nil
	}
	return 0, false
}

// checkExtMap parses an extmap line as pion does; a line that recurs is
// checked once.
func (d *sdpDoc) checkExtMap(text string) error {
	for _, c := range d.checked {
		if c == text {
			return nil
		}
	}
	var e sdp.ExtMap
	if err := e.Unmarshal(text); err != nil {
		return err
	}
	d.checked = append(d.checked, text)
	return nil
}

// bundleID is the first mid of a=group:BUNDLE, as pion reads it.
func bundleID(group string) string {
	if !strings.Contains(group, "BUNDLE") {
		return ""
	}
	_, ids, found := strings.Cut(group, " ")
	if !found {
		return ""
	}
	id, _, _ := strings.Cut(ids, " ")
	return id
}

// checkCandidates fails when a section's candidates are all unparsable.
func checkCandidates(a sdpAttrs) error {
	var last error
	usable := false
	a.each(func(key, value, _ string) bool {
		if key != "candidate" {
			return true
		}
		if _, err := ice.UnmarshalCandidate(value); err != nil {
			if !errors.Is(err, ice.ErrUnknownCandidateTyp) && !errors.Is(err, ice.ErrDetermineNetworkType) {
				last = err
			}
			return true
		}
		usable = true
		return false
	})
	if !usable && last != nil {
		return fmt.Errorf("no usable ICE candidate: %w", last)
	}
	return nil
}

// checkFingerprint requires "<algorithm> <value>" where pion looks: the
// session, else the bundle's section, else the first section with one.
func (d *sdpDoc) checkFingerprint(bundle string) error {
	fp := d.session.first("fingerprint")
	for i := range d.sections {
		if fp != "" {
			break
		}
		if m := &d.sections[i]; bundle == "" || m.mid == bundle {
			fp = m.attrs.first("fingerprint")
		}
	}
	if fp == "" {
		return errors.New("no DTLS fingerprint")
	}
	if strings.Count(fp, " ") != 1 {
		return errors.New("malformed DTLS fingerprint")
	}
	return nil
}

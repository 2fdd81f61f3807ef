package sfu

import (
	"strconv"

	"github.com/pion/webrtc/v4"
)

// Whose media each section carries is told, not negotiated.
//
// A subscriber's client learns whose media a section carries from a
// sections message (Signaler.SendSections), not from the section's msid:
// so a section can be handed from one subscription to the next without an
// offer. A subscriber's connection also gets spare sections up front, each
// sending under a placeholder stream id and carrying nobody, so that a
// newcomer's tracks reach everyone already in on sections they have, with
// a message and no offer; only the newcomer negotiates.
//
// The policy: once the room has a track of a kind, each connection has at
// least sectionsPerKind sections of that kind (carrying or spare): the
// newcomer's first offer brings them, for every kind already published;
// a connection that joined before a kind was first published gets them in
// the offer that adds the first. When a subscription finds no free
// section, the offer that adds one also brings the free ones of its kind
// back to minFreeSections. Spares cost a section of SDP in each later
// offer and an idle sender, no goroutine and no traffic.
//
// A section carries someone only once the client has seen it carry
// nobody: a spare once the offer that brought it is answered, an emptied
// section once an offer made after the sections message that emptied it
// is answered (the client handles its messages in order, so it has taken
// in the message before it answers). A subscription that finds no such
// section but one emptied since is named for it at once and starts on it
// when the client answers the offer that asks for (so sections do not
// grow with departures); only when every section of its kind is busy
// does it get a new one. Media on a section the client has not yet been
// told about is media it cannot attribute, and does not show; media on a
// section it was told is empty cannot come.

const (
	// sectionsPerKind is how many sections of a kind a connection gets
	// (rooms of up to 13 people need no offer to those already in).
	sectionsPerKind = 12
	// minFreeSections is how many free sections of its kind a connection
	// is given again when it runs out.
	minFreeSections = 2
	// placeholderStream is the stream id spare sections send under.
	placeholderStream = "-"
)

// Section says what one media section of a subscriber's connection carries.
type Section struct {
	Mid string
	// Publisher is whose media the section carries; empty for nobody.
	Publisher string
	Kind      Kind
	// Screen marks a screen share (and its sound).
	Screen bool
}

// placeholder is the track a spare section is negotiated with: it binds
// to the section's first codec and sends nothing.
type placeholder struct {
	id   string
	kind Kind
}

// Bind implements webrtc.TrackLocal.
func (t *placeholder) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	if cs := ctx.CodecParameters(); len(cs) > 0 {
		return cs[0], nil
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (t *placeholder) Unbind(webrtc.TrackLocalContext) error { return nil }

func (t *placeholder) ID() string                { return t.id }
func (t *placeholder) RID() string               { return "" }
func (t *placeholder) StreamID() string          { return placeholderStream }
func (t *placeholder) Kind() webrtc.RTPCodecType { return t.kind.codecType() }

// newPlaceholder returns a placeholder for a new section. Under negMu.
func (p *Peer) newPlaceholder(k Kind) *placeholder {
	p.spareSeq++
	return &placeholder{id: "spare-" + strconv.Itoa(p.spareSeq), kind: k}
}

// addSparesLocked gives the connection spare sections of kind k by the
// policy above; it reports whether it added any (an offer is then
// needed). Under negMu.
func (p *Peer) addSparesLocked(k Kind) bool {
	if p.link != linkNone {
		return false
	}
	total, free := 0, 0
	for _, s := range p.sections {
		if s.kind == k {
			total++
			if s.cur.Load() == nil {
				free++
			}
		}
	}
	n := max(sectionsPerKind-total, minFreeSections-free, 0)
	added := false
	for range n {
		ph := p.newPlaceholder(k)
		tr, err := p.pc.AddTransceiverFromTrack(ph, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			p.log.Warn("add spare section", "kind", k, "err", err)
			break
		}
		p.ownSections++
		s := &slot{kind: k, sender: tr.Sender(), tr: tr, ph: ph, gen: p.localGen}
		p.sections = append(p.sections, s)
		p.in.sending.Store(int32(len(p.sections)))
		p.idle = append(p.idle, s)
		added = true
	}
	return added
}

// section returns what s carries now.
func (s *slot) section() Section {
	out := Section{Mid: s.tr.Mid(), Kind: s.kind}
	if d := s.cur.Load(); d != nil {
		out.Publisher, out.Screen = d.pub.info.Publisher, d.pub.info.Screen
	}
	return out
}

// saying is what s is to be said to carry now: a stream id, or "".
func (s *slot) saying() string {
	if d := s.cur.Load(); d != nil {
		return d.streamID
	}
	return ""
}

// announceLocked tells the client what the given sections carry now, those
// that have a mid and changed since it was last told. Under negMu.
func (p *Peer) announceLocked(ss []*slot) {
	var out []Section
	for _, s := range ss {
		if s.tr.Mid() == "" {
			continue // in no description yet: told once it is
		}
		now := s.saying()
		if s.told && now == s.said {
			continue
		}
		s.told, s.said = true, now
		out = append(out, s.section())
	}
	if len(out) > 0 {
		p.sig.SendSections(out)
	}
}

// resendSectionsLocked tells the client again what every section carries,
// for a client that may have missed messages. Under negMu.
func (p *Peer) resendSectionsLocked() {
	var out []Section
	for _, s := range p.sections {
		if s.told {
			s.said = s.saying()
			out = append(out, s.section())
		}
	}
	if len(out) > 0 {
		p.sig.SendSections(out)
	}
}

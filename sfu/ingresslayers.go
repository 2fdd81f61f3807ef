package sfu

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Simulcast layers at the ingress guard.
//
// A browser sending simulcast announces no SSRCs for its layers: its
// description lists them by rid (a=rid, a=simulcast), and each layer's
// first packets carry, in header extensions, the mid of the section and
// the rid of the layer (or, for its retransmissions, the repaired rid),
// from which pion makes the layer's track. So the guard lets an SSRC
// through that the description does not announce when its packet names a
// section the client sends simulcast on and one of that section's rids,
// and from then on knows it by its SSRC (browsers stop sending the rid
// once the server has reported on the stream). Header extensions are in
// the clear unless both ends encrypt them (RFC 9335, which pion clients
// negotiate with pion and browsers do not): a layer's packet whose
// extensions are encrypted is let through on its SSRC while the client's
// simulcast layers, counted over every section, are not all known.
//
// What the guard learns is bounded per participant: maxLearnedPerRID
// SSRCs for each rid and kind of stream (media, repair), and
// maxLearnedSSRCs in all, for the connection's life.

const (
	// maxLearnedPerRID allows a layer's stream to restart on a new SSRC
	// once.
	maxLearnedPerRID = 2
	// maxLearnedSSRCs: two simulcast sections (a camera and a screen) of
	// maxLayers layers, each with its retransmissions, twice.
	maxLearnedSSRCs = 2 * maxLayers * 2 * maxLearnedPerRID
)

// simulcastSpec is what a client's description says of the simulcast
// layers it sends: the ids of the header extensions that carry a packet's
// mid, rid and repaired rid, and each sending section's rids.
type simulcastSpec struct {
	midID, ridID, rridID uint8
	sections             []simulcastSection
	rids                 int // over every section
}

type simulcastSection struct {
	mid  string
	rids []string
}

// readSimulcast reads the simulcast layers a description sends; nil when
// it sends none, or does not negotiate the extensions that name them.
func readSimulcast(desc string) *simulcastSpec {
	if !strings.Contains(desc, "a=simulcast:") {
		return nil
	}
	var secs [24]sdpSection
	d := sdpDoc{sections: secs[:0]}
	d.read(desc)
	spec := &simulcastSpec{}
	extmap := func(attrs sdpAttrs) {
		attrs.each(func(key, value, _ string) bool {
			if key != sdp.AttrKeyExtMap {
				return true
			}
			f, rest := nextField(value)
			uri, _ := nextField(rest)
			id, _, _ := strings.Cut(f, "/")
			n, err := strconv.ParseUint(id, 10, 8)
			if err != nil || n == 0 || n > 255 {
				return true
			}
			switch uri {
			case sdp.SDESMidURI:
				spec.midID = uint8(n)
			case sdp.SDESRTPStreamIDURI:
				spec.ridID = uint8(n)
			case sdp.SDESRepairRTPStreamIDURI:
				spec.rridID = uint8(n)
			}
			return true
		})
	}
	extmap(d.session)
	session := direction(d.session, "")
	for i := range d.sections {
		m := &d.sections[i]
		extmap(m.attrs)
		if m.mid == "" || !strings.EqualFold(m.kind, "video") {
			continue
		}
		if dir := direction(m.attrs, session); dir == sdp.AttrKeyRecvOnly || dir == sdp.AttrKeyInactive {
			continue
		}
		sec := simulcastSection{mid: m.mid}
		m.attrs.each(func(key, value, _ string) bool {
			if key != "rid" {
				return true
			}
			rid, rest := nextField(value)
			if dir, _ := nextField(rest); dir == "send" && rid != "" && !slices.Contains(sec.rids, rid) && len(sec.rids) < maxLayers {
				sec.rids = append(sec.rids, rid)
			}
			return true
		})
		if len(sec.rids) > 0 {
			spec.sections = append(spec.sections, sec)
			spec.rids += len(sec.rids)
		}
	}
	if len(spec.sections) == 0 || spec.midID == 0 || spec.ridID == 0 {
		return nil
	}
	return spec
}

// layerOf reads, from an RTP packet's header extensions, which layer it
// belongs to: the section's mid, the rid, and whether it is the layer's
// repair stream (mid and rid point into b). encrypted reports extensions
// the client encrypted.
func (s *simulcastSpec) layerOf(b []byte) (mid, rid []byte, repair, encrypted, ok bool) {
	if len(b) < 12 || b[0]&0x10 == 0 {
		return nil, nil, false, false, false
	}
	at := 12 + 4*int(b[0]&0x0f)
	if len(b) < at+4 {
		return nil, nil, false, false, false
	}
	profile := binary.BigEndian.Uint16(b[at:])
	ext := b[at+4:]
	if n := 4 * int(binary.BigEndian.Uint16(b[at+2:])); n <= len(ext) {
		ext = ext[:n]
	} else {
		return nil, nil, false, false, false
	}
	switch {
	case profile == 0xc0de || profile == 0xc2de: // RFC 9335
		return nil, nil, false, true, false
	case profile != 0xbede && profile&0xfff0 != 0x1000:
		return nil, nil, false, false, false
	}
	oneByte := profile == 0xbede
	for len(ext) > 0 {
		var id uint8
		var n int
		if oneByte {
			id, n = ext[0]>>4, int(ext[0]&0x0f)+1
			if id == 0 { // padding
				ext = ext[1:]
				continue
			}
			if id == 15 {
				break
			}
			ext = ext[1:]
		} else {
			if ext[0] == 0 { // padding
				ext = ext[1:]
				continue
			}
			if len(ext) < 2 {
				break
			}
			id, n = ext[0], int(ext[1])
			ext = ext[2:]
		}
		if n > len(ext) {
			break
		}
		switch v := ext[:n]; id {
		case s.midID:
			mid = v
		case s.ridID:
			rid = v
		case s.rridID:
			if s.rridID != 0 {
				rid, repair = v, true
			}
		}
		ext = ext[n:]
	}
	return mid, rid, repair, false, len(mid) > 0 && len(rid) > 0
}

// sends returns the section's mid and the rid as the description names
// them, if the client sends that rid in that section.
func (s *simulcastSpec) sends(mid, rid []byte) (string, string, bool) {
	for _, sec := range s.sections {
		if sec.mid != string(mid) {
			continue
		}
		for _, r := range sec.rids {
			if r == string(rid) {
				return sec.mid, r, true
			}
		}
		return "", "", false
	}
	return "", "", false
}

// learnedSSRC is an SSRC let through as a simulcast layer's.
type learnedSSRC struct {
	ssrc     uint32
	mid, rid string // "" for a packet whose extensions were encrypted
	repair   bool
}

// learn lets ssrc through from now on if b, its packet, is a simulcast
// layer's the client's description sends, within the bounds; it reports
// whether it did.
func (g *ingress) learn(b []byte, ssrc uint32) bool {
	spec := g.sim.Load()
	if spec == nil || ssrc == 0 {
		return false
	}
	m, r, repair, encrypted, ok := spec.layerOf(b)
	var mid, rid string
	limit := maxLearnedPerRID
	switch {
	case encrypted:
		limit = 2 * spec.rids // media and repair of every layer
	case !ok:
		return false
	default:
		// The description's own strings: nothing is made per packet.
		if mid, rid, ok = spec.sends(m, r); !ok {
			return false
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	same := 0
	for _, l := range g.learned {
		if l.ssrc == ssrc {
			return true
		}
		if l.mid == mid && l.rid == rid && l.repair == repair {
			same++
		}
	}
	if same >= limit || len(g.learned) >= maxLearnedSSRCs {
		return false
	}
	g.learned = append(g.learned, learnedSSRC{ssrc: ssrc, mid: mid, rid: rid, repair: repair})
	set := make(ssrcs, 0, len(g.learned))
	for _, l := range g.learned {
		set = append(set, l.ssrc)
	}
	slices.Sort(set)
	g.layers.Store(&set)
	return true
}

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
func checkRemoteSDP(raw string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return err
	}
	if len(d.MediaDescriptions) == 0 {
		return errors.New("no media sections")
	}
	for i, m := range d.MediaDescriptions {
		if mid, _ := m.Attribute(sdp.AttrKeyMID); mid == "" {
			return fmt.Errorf("media section %d has no mid", i)
		}
		if err := checkMedia(m); err != nil {
			return fmt.Errorf("media section %d: %w", i, err)
		}
	}
	// pion reads ICE details from the session, else from the bundle's
	// first section (or the first section without bundling).
	bundle := bundleID(&d)
	sel := d.MediaDescriptions[0]
	if bundle != "" {
		sel = nil
		for _, m := range d.MediaDescriptions {
			if mid, _ := m.Attribute(sdp.AttrKeyMID); mid == bundle {
				sel = m
				break
			}
		}
	}
	ufrag, _ := d.Attribute("ice-ufrag")
	pwd, _ := d.Attribute("ice-pwd")
	if sel != nil {
		mu, _ := sel.Attribute("ice-ufrag")
		mp, _ := sel.Attribute("ice-pwd")
		if ufrag == "" && mu != "" {
			ufrag, pwd = mu, mp
		}
		if err := checkCandidates(sel); err != nil {
			return err
		}
	}
	if ufrag == "" || pwd == "" {
		return errors.New("no ICE credentials")
	}
	return checkFingerprint(&d, bundle)
}

// checkMedia checks what pion reads from an audio or video section before
// anything else: payload types, each with an rtpmap (except 0), and
// header extension mappings.
func checkMedia(m *sdp.MediaDescription) error {
	if kind := strings.ToLower(m.MediaName.Media); kind != "audio" && kind != "video" {
		return nil
	}
	codecs := (&sdp.SessionDescription{MediaDescriptions: []*sdp.MediaDescription{m}}).GetCodecMap()
	for _, f := range m.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 8)
		if err != nil {
			return fmt.Errorf("payload type %q: %w", f, err)
		}
		if _, ok := codecs[uint8(pt)]; !ok && pt != 0 {
			return fmt.Errorf("payload type %d has no rtpmap", pt)
		}
	}
	for _, a := range m.Attributes {
		if a.Key == sdp.AttrKeyExtMap {
			var e sdp.ExtMap
			if err := e.Unmarshal(a.String()); err != nil {
				return fmt.Errorf("extmap: %w", err)
			}
		}
	}
	return nil
}

// bundleID is the first mid of a=group:BUNDLE, as pion reads it.
func bundleID(d *sdp.SessionDescription) string {
	g, _ := d.Attribute(sdp.AttrKeyGroup)
	if !strings.Contains(g, "BUNDLE") {
		return ""
	}
	ids := strings.Split(g, " ")
	if len(ids) < 2 {
		return ""
	}
	return ids[1]
}

// checkCandidates fails when a section's candidates are all unparsable.
func checkCandidates(m *sdp.MediaDescription) error {
	var last error
	for _, a := range m.Attributes {
		if !a.IsICECandidate() {
			continue
		}
		if _, err := ice.UnmarshalCandidate(a.Value); err != nil {
			if !errors.Is(err, ice.ErrUnknownCandidateTyp) && !errors.Is(err, ice.ErrDetermineNetworkType) {
				last = err
			}
			continue
		}
		return nil
	}
	if last != nil {
		return fmt.Errorf("no usable ICE candidate: %w", last)
	}
	return nil
}

// checkFingerprint requires "<algorithm> <value>" where pion looks: the
// session, else the bundle's section, else the first section with one.
func checkFingerprint(d *sdp.SessionDescription, bundle string) error {
	fp, _ := d.Attribute("fingerprint")
	for _, m := range d.MediaDescriptions {
		if fp != "" {
			break
		}
		mid, _ := m.Attribute(sdp.AttrKeyMID)
		if bundle == "" || mid == bundle {
			fp, _ = m.Attribute("fingerprint")
		}
	}
	if fp == "" {
		return errors.New("no DTLS fingerprint")
	}
	if len(strings.Split(fp, " ")) != 2 {
		return errors.New("malformed DTLS fingerprint")
	}
	return nil
}

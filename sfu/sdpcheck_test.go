package sfu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
)

// parsedCheck is checkRemoteSDP as it was written on pion's parsed
// structures: the oracle the text reading must agree with.
func parsedCheck(raw string) error {
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
		if err := parsedCheckMedia(m); err != nil {
			return fmt.Errorf("media section %d: %w", i, err)
		}
	}
	g, _ := d.Attribute(sdp.AttrKeyGroup)
	bundle := ""
	if ids := strings.Split(g, " "); strings.Contains(g, "BUNDLE") && len(ids) >= 2 {
		bundle = ids[1]
	}
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
		var last error
		usable := false
		for _, a := range sel.Attributes {
			if !a.IsICECandidate() {
				continue
			}
			if _, err := ice.UnmarshalCandidate(a.Value); err != nil {
				if !errors.Is(err, ice.ErrUnknownCandidateTyp) && !errors.Is(err, ice.ErrDetermineNetworkType) {
					last = err
				}
				continue
			}
			usable = true
			break
		}
		if !usable && last != nil {
			return fmt.Errorf("no usable ICE candidate: %w", last)
		}
	}
	if ufrag == "" || pwd == "" {
		return errors.New("no ICE credentials")
	}
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

func parsedCheckMedia(m *sdp.MediaDescription) error {
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

// agree fails t unless checkRemoteSDP gives raw the oracle's verdict,
// word for word, wherever pion can parse raw (what it cannot parse it
// refuses before taking anything, whatever the check said).
func agree(t *testing.T, raw string) {
	t.Helper()
	var d sdp.SessionDescription
	if d.UnmarshalString(raw) != nil {
		return
	}
	want, got := parsedCheck(raw), checkRemoteSDP(raw)
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("checkRemoteSDP(%q) = %v, pion's structures say %v", raw, got, want)
	}
}

// sdpSeeds are real descriptions (the committed fuzz corpus, a browser's
// among them) and each with one line dropped or mangled.
func sdpSeeds(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzSDP", "*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no FuzzSDP corpus: %v", err)
	}
	var base []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if s, ok := strings.CutPrefix(line, "string("); ok {
				if v, err := strconv.Unquote(strings.TrimSuffix(s, ")")); err == nil {
					base = append(base, v)
				}
			}
		}
	}
	out := append([]string{}, base...)
	for _, s := range base {
		lines := strings.SplitAfter(s, "\n")
		for i, l := range lines {
			variants := []string{
				"",                                  // dropped
				strings.Replace(l, " ", "  ", 1),    // a doubled space
				strings.Replace(l, ":", "", 1),      // no colon
				strings.Replace(l, "\r\n", "\n", 1), // a bare newline
				strings.Replace(l, "1", "x", 1),     // a number spoilt
				strings.Replace(l, "/", " ", 1),     // a split field
				strings.Replace(l, " ", "\r", 1),    // a stray carriage return
			}
			for _, v := range variants {
				if v == l {
					continue
				}
				out = append(out, strings.Join(lines[:i], "")+v+strings.Join(lines[i+1:], ""))
			}
		}
	}
	return out
}

// TestSDPCheckAgrees: reading the text gives every real description, and
// thousands of spoilt ones, the same verdict as pion's parsed structures.
func TestSDPCheckAgrees(t *testing.T) {
	seeds := sdpSeeds(t)
	refused := 0
	for _, s := range seeds {
		agree(t, s)
		if checkRemoteSDP(s) != nil {
			refused++
		}
	}
	// The check must have had something to refuse, and something to pass.
	if refused == 0 || refused == len(seeds) {
		t.Fatalf("%d of %d descriptions refused: the seeds do not exercise the check", refused, len(seeds))
	}
	for _, s := range []string{
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 8 9\r\na=mid:0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n",
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=fmtp:111 x=1\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n",
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtcp-fb:* nack\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n",
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 VP8/x\r\na=extmap:300 urn:x\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n",
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ bogus\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA BB\r\n",
	} {
		agree(t, s)
	}
}

// FuzzSDPCheck: for any description pion parses, reading the text and
// reading pion's structures give the same verdict.
func FuzzSDPCheck(f *testing.F) {
	for _, s := range sdpSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) { agree(t, raw) })
}

// BenchmarkCheckRemoteSDP: a browser's answer in a group of twelve, read
// as text and parsed into pion's structures (the way it was checked).
func BenchmarkCheckRemoteSDP(b *testing.B) {
	raw := groupAnswer(11)
	if err := checkRemoteSDP(raw); err != nil {
		b.Fatal(err)
	}
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = checkRemoteSDP(raw)
		}
	})
	b.Run("parsed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = parsedCheck(raw)
		}
	})
}

// groupAnswer is a browser's answer to an offer of its two publishing
// sections and subs subscriptions to others' audio.
func groupAnswer(subs int) string {
	var s strings.Builder
	s.WriteString("v=0\r\no=- 4611731400430051336 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE")
	for i := range subs + 2 {
		fmt.Fprintf(&s, " %d", i)
	}
	s.WriteString("\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS 5f2c1e0a\r\n")
	common := "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Xk3f\r\na=ice-pwd:mW8yB1cCq0Ul6ZlQ1Lw5y0Oa\r\na=ice-options:trickle\r\n" +
		"a=fingerprint:sha-256 9D:1F:3A:7C:52:7E:2B:81:65:3E:0B:AE:4D:70:2F:1A:C8:83:5E:91:D0:6A:3F:42:B7:1C:9E:55:08:E3:27:6D\r\na=setup:active\r\n"
	audio := "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
	fmt.Fprintf(&s, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n%sa=candidate:1467250027 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 network-id 1\r\na=mid:0\r\n%sa=sendonly\r\na=msid:5f2c1e0a a1\r\na=ssrc:1001 cname:abc\r\n", common, audio)
	fmt.Fprintf(&s, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n%sa=mid:1\r\na=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\na=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\na=sendonly\r\na=msid:5f2c1e0a v1\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=ssrc-group:FID 2001 2002\r\na=ssrc:2001 cname:abc\r\na=ssrc:2002 cname:abc\r\n", common)
	for i := range subs {
		fmt.Fprintf(&s, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n%sa=mid:%d\r\n%sa=recvonly\r\n", common, i+2, audio)
	}
	return s.String()
}

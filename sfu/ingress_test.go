package sfu

import (
	"context"
	"encoding/binary"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"go.uber.org/goleak"
)

// logRecords keeps what a logger logged, at every level.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}

func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// lines returns the messages logged, and each one's attributes by key.
func (l *logRecords) lines() (msgs []string, attrs []map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		msgs = append(msgs, r.Message)
		a := map[string]string{}
		r.Attrs(func(at slog.Attr) bool {
			a[at.Key] = at.Value.String()
			return true
		})
		attrs = append(attrs, a)
	}
	return msgs, attrs
}

// desc is a session description with a section per line of sections:
// "<kind> <mid> <direction> <attribute>...", "-" for none.
func desc(session string, sections ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
	if session != "" {
		b.WriteString("a=" + session + "\r\n")
	}
	for _, s := range sections {
		f := strings.Fields(s)
		b.WriteString("m=" + f[0] + " 9 UDP/TLS/RTP/SAVPF 96\r\n")
		if f[1] != "-" {
			b.WriteString("a=mid:" + f[1] + "\r\n")
		}
		if f[2] != "-" {
			b.WriteString("a=" + f[2] + "\r\n")
		}
		for _, a := range f[3:] {
			b.WriteString("a=" + a + "\r\n")
		}
	}
	return b.String()
}

// TestAnnounced: the SSRCs a description announces, and those it sends
// on, read as pion reads them for tracks.
func TestAnnounced(t *testing.T) {
	many := "video 5 sendonly"
	for i := range 10 {
		many += " ssrc:" + string(rune('1'+i)) + "00"
	}
	for _, c := range []struct {
		name          string
		desc          string
		all, sendings ssrcs
	}{
		{"empty", "", ssrcs{}, ssrcs{}},
		{"directions", desc("",
			"audio 0 sendrecv ssrc:11",
			"video 1 sendonly ssrc-group:FID:21_22 ssrc:21 ssrc:22",
			"video 2 recvonly ssrc:31",
			"audio 3 inactive ssrc:41",
			"audio 4 - ssrc:51",
		), ssrcs{11, 21, 22, 31, 41, 51}, ssrcs{11, 21, 22, 51}},
		{"session direction", desc("recvonly", "audio 0 - ssrc:11", "audio 1 sendonly ssrc:12"), ssrcs{11, 12}, ssrcs{12}},
		{"not media or no mid", desc("",
			"application 0 - ssrc:61",
			"audio - sendrecv ssrc:71",
		), ssrcs{}, ssrcs{}},
		{"unparsable", desc("", "audio 0 sendrecv ssrc:x ssrc:4294967296 ssrc:7_cname:a"), ssrcs{7}, ssrcs{7}},
		{"bounded per section", desc("", many), ssrcs{100, 200, 300, 400, 500, 600, 700, 800}, ssrcs{100, 200, 300, 400, 500, 600, 700, 800}},
	} {
		// Attribute values with spaces are written with underscores.
		d := strings.ReplaceAll(strings.ReplaceAll(c.desc, ":FID:", ":FID "), "_", " ")
		all, sending := announced(d)
		if !slices.Equal(all, c.all) || !slices.Equal(sending, c.sendings) {
			t.Errorf("%s: all %v, sending %v; want %v, %v", c.name, all, sending, c.all, c.sendings)
		}
	}
}

func rtpOn(ssrc uint32) []byte {
	b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: ssrc}, Payload: make([]byte, 20)}).Marshal()
	return b
}

// TestIngressRTP: RTP passes on the SSRCs the client's description sends
// on, those of a description about to be set included, and on no other;
// what is not RTP or RTCP passes. Drops are counted and logged once per
// interval, with counts, and what is left when the peer closes.
func TestIngressRTP(t *testing.T) {
	logs := &logRecords{}
	stats := &Stats{}
	g := newIngress(slog.New(logs), stats, &keyCapture{})
	var s ingressScratch
	if g.admit(rtpOn(11), &s) {
		t.Fatal("RTP before any description passed")
	}
	first := desc("", "audio 0 sendonly ssrc:11", "video 1 recvonly ssrc:31")
	g.set("", first)
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"announced", rtpOn(11), true},
		{"in a section the client receives on", rtpOn(31), false},
		{"unknown", rtpOn(99), false},
		{"stun", bindingRequest(t, "a:b"), true},
		{"dtls", append([]byte{22, 0xfe, 0xfd}, make([]byte, 30)...), true},
	} {
		if got := g.admit(c.b, &s); got != c.want {
			t.Errorf("%s: admitted %v, want %v", c.name, got, c.want)
		}
	}
	next := desc("", "audio 0 sendonly ssrc:12")
	g.expect(next, false)
	if !g.admit(rtpOn(11), &s) || !g.admit(rtpOn(12), &s) {
		t.Error("while a description is set, the SSRCs of both do not pass")
	}
	g.set("", next)
	if g.admit(rtpOn(11), &s) || !g.admit(rtpOn(12), &s) {
		t.Error("once set, the description's SSRCs, and only they, do not pass")
	}
	for range 1000 {
		g.admit(rtpOn(99), &s)
	}
	if got := stats.IngressDropped[IngressUnknownSSRC].Load(); got != 1004 {
		t.Errorf("%d dropped, want 1004", got)
	}
	g.close()
	msgs, attrs := logs.lines()
	if len(msgs) != 2 || attrs[0]["rtp"] != "1" || attrs[1]["rtp"] != "1003" || attrs[1]["last_ssrc"] != "99" {
		t.Errorf("logged %q %v; want one line for the first drop, one with the rest on close", msgs, attrs)
	}
}

// rtcpClient is a DTLS handshake's two ends as a peer's ingress guard and
// its client see them: the guard with the keys it captured, and the
// client's SRTCP context.
func rtcpClient(t *testing.T, profile dtls.SRTPProtectionProfile) (*ingress, *logRecords, *Stats, func(...rtcp.Packet) []byte) {
	t.Helper()
	f := &peerFast{}
	state := dtlsHandshake(t, f, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, profile)
	cfg := srtp.Config{Profile: srtp.ProtectionProfile(profile)}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, true); err != nil {
		t.Fatal(err)
	}
	logs, stats := &logRecords{}, &Stats{}
	g := newIngress(slog.New(logs), stats, &f.keys)
	seal := func(pkts ...rtcp.Packet) []byte {
		plain, err := rtcp.Marshal(pkts)
		if err != nil {
			t.Fatal(err)
		}
		// A context per packet, each sender's index starting over: the
		// guard reads packets, it does not check for replays.
		ctx, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ctx.EncryptRTCP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return g, logs, stats, seal
}

func reportAbout(from uint32, about ...uint32) *rtcp.ReceiverReport {
	rr := &rtcp.ReceiverReport{SSRC: from}
	for _, s := range about {
		rr.Reports = append(rr.Reports, rtcp.ReceptionReport{SSRC: s})
	}
	return rr
}

// TestIngressRTCP: with the keys captured in a real DTLS handshake, the
// guard reads what each SRTCP packet names. RTCP from and about announced
// SSRCs passes; a few unannounced senders and a few unannounced SSRCs
// named pass, and no more; what is not authentic is left to pion.
func TestIngressRTCP(t *testing.T) {
	defer goleak.VerifyNone(t)
	for name, profile := range map[string]dtls.SRTPProtectionProfile{
		"AES-128-GCM": dtls.SRTP_AEAD_AES_128_GCM, "AES-256-GCM": dtls.SRTP_AEAD_AES_256_GCM, "AES-CM": dtls.SRTP_AES128_CM_HMAC_SHA1_80,
	} {
		t.Run(name, func(t *testing.T) {
			g, _, stats, seal := rtcpClient(t, profile)
			// The server sends 500 and 501; the client sends 11.
			g.set(desc("", "video 0 sendonly ssrc-group:FID:500_501 ssrc:500 ssrc:501"),
				desc("", "video 0 recvonly", "audio 1 sendonly ssrc:11"))
			var s ingressScratch
			admit := func(name string, b []byte, want bool) {
				t.Helper()
				if got := g.admit(b, &s); got != want {
					t.Errorf("%s: admitted %v, want %v", name, got, want)
				}
			}
			admit("report about the server's stream", seal(reportAbout(11, 500)), true)
			admit("NACK and PLI", seal(&rtcp.TransportLayerNack{SenderSSRC: 11, MediaSSRC: 501}, &rtcp.PictureLossIndication{SenderSSRC: 11, MediaSSRC: 500}), true)
			admit("sender report and description of its own", seal(&rtcp.SenderReport{SSRC: 11},
				&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 11}}}), true)
			var strays []uint32
			for i := range maxRTCPStrays {
				strays = append(strays, uint32(1000+i))
			}
			admit("a few unannounced SSRCs", seal(reportAbout(11, strays[:31]...), &rtcp.Goodbye{Sources: strays[31:]}), true)
			admit("one more", seal(reportAbout(11, 2000)), false)
			admit("one more, further in", seal(reportAbout(11, 500), &rtcp.Goodbye{Sources: []uint32{2000}}), false)
			admit("those already named", seal(reportAbout(11, strays[:3]...)), true)
			for i := range maxRTCPSenders {
				admit("an unannounced sender", seal(reportAbout(uint32(3000+i), 500)), true)
			}
			admit("one more sender", seal(reportAbout(4000, 500)), false)
			admit("a sender already let through", seal(reportAbout(3000, 500)), true)
			bad := seal(reportAbout(11, 5000))
			bad[10] ^= 1
			admit("not authentic", bad, true)
			if got := stats.IngressDropped[IngressUnknownRTCPSSRC].Load(); got != 3 {
				t.Errorf("%d dropped, want 3", got)
			}
		})
	}
}

// TestIngressUnreadableRTCP: RTCP from a client whose keys the server did
// not capture (it was not the DTLS server) is dropped, and said so once.
func TestIngressUnreadableRTCP(t *testing.T) {
	logs, stats := &logRecords{}, &Stats{}
	g := newIngress(slog.New(logs), stats, &keyCapture{})
	g.set("", desc("", "audio 0 sendonly ssrc:11"))
	b, _ := reportAbout(11).Marshal()
	b = append(b, make([]byte, srtcpTrailer)...)
	var s ingressScratch
	for range 10 {
		if g.admit(b, &s) {
			t.Fatal("unreadable RTCP passed")
		}
	}
	if got := stats.IngressDropped[IngressUnreadableRTCP].Load(); got != 10 {
		t.Errorf("%d counted, want 10", got)
	}
	msgs, _ := logs.lines()
	if n := len(msgs); n != 2 || !strings.Contains(msgs[0]+msgs[1], "cannot be read") {
		t.Errorf("logged %q; want the drop and why, once", msgs)
	}
}

// TestOpenRTCP: what pion's SRTCP context seals, openRTCP opens, unless
// altered; an unencrypted packet is returned as it is.
func TestOpenRTCP(t *testing.T) {
	profile := srtp.ProtectionProfileAeadAes128Gcm
	key, salt := testKeys(profile)
	g, err := newRTCPSealer(key, salt, profile)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := reportAbout(7, 8, 9).Marshal()
	var dst [muxPacketSize]byte
	var iv, aad [12]byte
	for _, encrypt := range []bool{true, false} {
		opt := srtp.SRTCPEncryption()
		if !encrypt {
			opt = srtp.SRTCPNoEncryption()
		}
		ctx, err := srtp.CreateContext(key, salt, profile, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ctx.EncryptRTCP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := g.openRTCP(dst[:], b, &iv, &aad); !ok || !slices.Equal(got, plain) {
			t.Fatalf("encrypted %v: opened %x, %v; want %x", encrypt, got, ok, plain)
		}
		if encrypt {
			b[12] ^= 1
			if _, ok := g.openRTCP(dst[:], b, &iv, &aad); ok {
				t.Fatal("an altered packet opened")
			}
			binary.BigEndian.PutUint32(b[len(b)-4:], 1<<31)
			if _, ok := g.openRTCP(dst[:8], b, &iv, &aad); ok {
				t.Fatal("opened into too small a buffer")
			}
		}
	}
}

// BenchmarkIngress is the guard's cost per datagram on the socket's reader:
// RTP on an announced SSRC (what pion's path takes: video, and audio
// before the fast path), RTP dropped, and SRTCP read for what it names.
func BenchmarkIngress(b *testing.B) {
	profile := srtp.ProtectionProfileAeadAes128Gcm
	key, salt := testKeys(profile)
	keys := &keyCapture{}
	g := newIngress(slog.New(slog.DiscardHandler), &Stats{}, keys)
	open, err := newRTCPSealer(key, salt, profile)
	if err != nil {
		b.Fatal(err)
	}
	var o rtcpOpener = gcmRTCP{open}
	g.open.Store(&o)
	g.set(desc("", "video 0 sendonly ssrc-group:FID 500 501", "video 1 sendonly ssrc:502", "audio 2 sendonly ssrc:503"),
		desc("", "video 0 recvonly", "video 1 recvonly", "audio 2 recvonly", "audio 3 sendonly ssrc:11", "video 4 sendonly ssrc:12 ssrc:13"))
	ctx, err := srtp.CreateContext(key, salt, profile)
	if err != nil {
		b.Fatal(err)
	}
	plain, _ := rtcp.Marshal([]rtcp.Packet{reportAbout(11, 500, 502, 503), &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 11}}}})
	report, err := ctx.EncryptRTCP(nil, plain, nil)
	if err != nil {
		b.Fatal(err)
	}
	var s ingressScratch
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{{"rtp", rtpOn(12), true}, {"rtp-dropped", rtpOn(99), false}, {"srtcp", report, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if g.admit(c.b, &s) != c.want {
					b.Fatal("wrong verdict")
				}
			}
		})
	}
}

package signaling_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// ssrcLines counts the log records that mention SSRCs, at the server's
// default level (info and above).
type ssrcLines struct {
	n *atomic.Int64
}

func (h ssrcLines) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h ssrcLines) Handle(_ context.Context, r slog.Record) error {
	text := r.Message
	r.Attrs(func(a slog.Attr) bool {
		text += " " + a.Key + "=" + a.Value.String()
		return true
	})
	if strings.Contains(strings.ToLower(text), "ssrc") {
		h.n.Add(1)
	}
	return nil
}

func (h ssrcLines) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h ssrcLines) WithGroup(string) slog.Handler      { return h }

// heap is the heap in use and its live objects after a full collection.
type heap struct{ inUse, live uint64 }

func readHeap() heap {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heap{m.HeapInuse, m.HeapAlloc}
}

func (h heap) String() string {
	return fmt.Sprintf("%.1f MB in use (%.1f MB live)", float64(h.inUse)/1e6, float64(h.live)/1e6)
}

// grew reports whether the heap grew by more than a few megabytes since
// before.
func (h heap) grew(before heap) bool { return h.inUse > before.inUse+4<<20 }

// srtpKeys learns the SRTP keys of a pion client: the client random and
// master secret from its key log, the server random from the ServerHello
// it receives. The client offers one cipher suite (its PRF hashes with
// SHA-256) and one SRTP profile.
type srtpKeys struct {
	mu           sync.Mutex
	serverRandom []byte
	clientRandom []byte
	master       []byte
}

const (
	floodSuite   = dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	floodProfile = dtls.SRTP_AEAD_AES_128_GCM
)

func (k *srtpKeys) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		f := strings.Fields(string(line))
		if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
			continue
		}
		cr, err1 := hex.DecodeString(f[1])
		ms, err2 := hex.DecodeString(f[2])
		if err1 == nil && err2 == nil {
			k.mu.Lock()
			k.clientRandom, k.master = cr, ms
			k.mu.Unlock()
		}
	}
	return len(p), nil
}

// sniff looks for a ServerHello in a datagram the client received: a DTLS
// handshake record (type 22, 13-byte header) whose first message (12-byte
// header) is a ServerHello (type 2), unfragmented: its version, then its
// random.
func (k *srtpKeys) sniff(b []byte) {
	const rec, msg = 13, 12
	if len(b) < rec+msg+2+32 || b[0] != 22 || b[rec] != 2 || !bytes.Equal(b[rec+6:rec+9], []byte{0, 0, 0}) {
		return
	}
	k.mu.Lock()
	k.serverRandom = bytes.Clone(b[rec+msg+2 : rec+msg+2+32])
	k.mu.Unlock()
}

// ExportKeyingMaterial implements srtp.KeyingMaterialExporter (RFC 5705).
func (k *srtpKeys) ExportKeyingMaterial(label string, _ []byte, length int) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master == nil || k.serverRandom == nil {
		return nil, errors.New("no keys yet")
	}
	seed := append(append([]byte(label), k.clientRandom...), k.serverRandom...)
	return prf.PHash(k.master, seed, length, sha256.New)
}

// sniffConn shows what the client receives to its srtpKeys.
type sniffConn struct {
	net.PacketConn
	keys *srtpKeys
}

func (c sniffConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.keys.sniff(b[:n])
	}
	return n, addr, err
}

// context makes a fresh SRTP context that encrypts as the client does.
func (k *srtpKeys) context() (*srtp.Context, error) {
	cfg := srtp.Config{Profile: srtp.ProtectionProfile(floodProfile)}
	if err := cfg.ExtractSessionKeysFromDTLS(k, true); err != nil {
		return nil, err
	}
	return srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile)
}

// rawClient is a pion client whose SRTP keys and socket the test holds, so
// that it can write SRTP of its own making from the client's address.
type rawClient struct {
	*client.Client
	keys *srtpKeys
	sock *net.UDPConn
	to   *net.UDPAddr
}

func dialRaw(ctx context.Context, t *testing.T, srv *hearthtest.Server, room, name string) *rawClient {
	t.Helper()
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	keys := &srtpKeys{}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: sniffConn{PacketConn: sock, keys: keys}})
	se := client.LoopbackSettings()
	se.SetICEUDPMux(mux)
	se.SetDTLSKeyLogWriter(keys)
	se.SetDTLSCipherSuites(floodSuite)
	se.SetSRTPProtectionProfiles(floodProfile)
	api, err := client.NewAPIFrom(se)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, api, client.Options{URL: srv.WSURL, Room: room, Name: name, Audio: true, Video: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		_ = mux.Close()
	})
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	return &rawClient{Client: c, keys: keys, sock: sock, to: srv.App.MediaAddr()}
}

// send writes SRTP (rtp) or SRTCP (rtcp) packets made by fill, each
// encrypted with the client's keys, from the client's address.
func (c *rawClient) send(t *testing.T, n int, rtcp bool, fill func(i int) []byte) {
	t.Helper()
	// A fresh context for each batch, so that the test does not keep
	// state per SSRC either.
	ctx, err := c.keys.context()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var out []byte
		if rtcp {
			out, err = ctx.EncryptRTCP(nil, fill(i), nil)
		} else {
			out, err = ctx.EncryptRTP(nil, fill(i), nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.sock.WriteToUDP(out, c.to); err != nil {
			t.Fatal(err)
		}
	}
}

// ingressDropped is the series counting packets dropped on arrival for a
// reason.
func ingressDropped(reason string) string {
	return `hearth_sfu_ingress_dropped_packets_total{reason="` + reason + `"}`
}

// moreMedia waits until sub has received n more packets of each kind from
// pub than it had when called.
func moreMedia(ctx context.Context, t *testing.T, sub, pub *client.Client, n uint64) func() {
	t.Helper()
	var from [2]uint64
	kinds := [2]string{"audio", "video"}
	for i, k := range kinds {
		from[i] = sub.Stream(pub.ID(), k).Packets.Load()
	}
	return func() {
		t.Helper()
		err := sub.Wait(ctx, func() bool {
			for i, k := range kinds {
				if sub.Stream(pub.ID(), k).Packets.Load() < from[i]+n {
					return false
				}
			}
			return true
		})
		if err != nil {
			t.Errorf("%s's media stopped reaching %s: %v", pub.ID(), sub.ID(), err)
		}
	}
}

// TestSSRCFlood: RTP on SSRCs not negotiated for a participant, each
// properly encrypted with its keys, is dropped before the server keeps
// anything for it: 20,000 packets on 20,000 SSRCs leave the heap and the
// log where they were, and are counted; the participant's own media and
// everyone else's carry on.
func TestSSRCFlood(t *testing.T) {
	var lines atomic.Int64
	srv := hearthtest.Start(t, hearthtest.Options{Logger: slog.New(ssrcLines{n: &lines})})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann := joinPeer(t, srv, "flood", "Ann")
	mal := dialRaw(ctx, t, srv, "flood", "Mal")
	waitMedia(t, ann, 25, mal.Client)
	waitMedia(t, mal.Client, 25, ann)

	// The keys are right: a NACK made with them is answered.
	s := mal.Stream(ann.ID(), "video")
	r0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total")
	if err != nil {
		t.Fatal(err)
	}
	mal.send(t, 1, true, func(int) []byte {
		b, _ := (&rtcp.TransportLayerNack{SenderSSRC: 0x5eed, MediaSSRC: s.SSRC.Load(),
			Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{uint16(s.LastSeq.Load())})}).Marshal()
		return b
	})
	if err := waitMetric(ctx, srv, "hearth_sfu_retransmitted_packets_total", func(v float64) bool { return v > r0 }); err != nil {
		t.Fatalf("a NACK made with the client's keys went unanswered: %v", err)
	}

	before := readHeap()
	lines0 := lines.Load()
	dropped0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", ingressDropped("unknown_ssrc"))
	if err != nil {
		t.Fatal(err)
	}
	annGets, malGets := moreMedia(ctx, t, ann, mal.Client, 50), moreMedia(ctx, t, mal.Client, ann, 50)
	const flood, batch = 20000, 200
	payload := make([]byte, 80)
	for sent := 0; sent < flood; sent += batch {
		mal.send(t, batch, false, func(i int) []byte {
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(sent + i),
				Timestamp: uint32(sent+i) * 960, SSRC: rand.Uint32()}, Payload: payload}).Marshal()
			return b
		})
		// Paced by the server's count, so the socket's buffer never
		// overflows whatever the machine's load.
		want := dropped0 + float64(sent+batch)
		if err := waitMetric(ctx, srv, ingressDropped("unknown_ssrc"), func(v float64) bool { return v >= want }); err != nil {
			t.Fatalf("after %d packets: %v", sent+batch, err)
		}
	}
	after := readHeap()
	logged := lines.Load() - lines0
	t.Logf("heap %v before, %v after %d packets on as many SSRCs; %d log lines about SSRCs",
		before, after, flood, logged)
	if after.grew(before) {
		t.Errorf("heap grew from %v to %v", before, after)
	}
	if logged > 2 {
		t.Errorf("%d log lines about SSRCs, want at most 2", logged)
	}
	annGets()
	malGets()

	ann.Close()
	mal.Close()
	if err := waitMetric(ctx, srv, "hearth_sfu_peer_connections", func(v float64) bool { return v == 0 }); err != nil {
		t.Fatal(err)
	}
	left := readHeap()
	t.Logf("heap %v once both left", left)
	if left.grew(before) {
		t.Errorf("heap %v once both left, %v before", left, before)
	}
}

// TestRTCPFlood: RTCP about SSRCs not negotiated, or from them, keeps the
// server's state bounded and its log quiet. Where the server holds the
// client's keys (it is the DTLS server, as browsers make it) it reads what
// each packet names before pion does: beyond a few such SSRCs, what names
// others is dropped and counted, and the client's other RTCP still counts.
// A client that made itself the DTLS server has all its RTCP dropped.
func TestRTCPFlood(t *testing.T) {
	for _, keys := range []bool{true, false} {
		t.Run(fmt.Sprintf("keys known %v", keys), func(t *testing.T) { rtcpFlood(t, keys) })
	}
}

func rtcpFlood(t *testing.T, keysKnown bool) {
	var lines atomic.Int64
	srv := hearthtest.Start(t, hearthtest.Options{Logger: slog.New(ssrcLines{n: &lines})})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann := joinPeer(t, srv, "flood", "Ann")
	var mal *client.Client
	var send func(n int, fill func(i int) []rtcp.Packet)
	reason := "unknown_rtcp_ssrc"
	if keysKnown {
		raw := dialRaw(ctx, t, srv, "flood", "Mal")
		mal = raw.Client
		send = func(n int, fill func(int) []rtcp.Packet) {
			raw.send(t, n, true, func(i int) []byte {
				b, err := rtcp.Marshal(fill(i))
				if err != nil {
					t.Fatal(err)
				}
				return b
			})
		}
	} else {
		reason = "unreadable_rtcp"
		se := client.LoopbackSettings()
		se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer)
		api, err := client.NewAPIFrom(se)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Dial(ctx, api, client.Options{URL: srv.WSURL, Room: "flood", Name: "Mal", Audio: true, Video: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
			t.Fatal(err)
		}
		mal = c
		send = func(n int, fill func(int) []rtcp.Packet) {
			for i := range n {
				if err := mal.SendRTCP(fill(i)...); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	waitMedia(t, ann, 25, mal)
	waitMedia(t, mal, 25, ann)
	own := uint32(mal.PC().GetSenders()[0].GetParameters().Encodings[0].SSRC)

	before := readHeap()
	lines0 := lines.Load()
	dropped0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", ingressDropped(reason))
	if err != nil {
		t.Fatal(err)
	}
	annGets := moreMedia(ctx, t, ann, mal, 50)
	// From the client's own SSRC, a compound about 310 new SSRCs; where
	// the test makes the packets, every other one a report from a new
	// SSRC (pion's client would keep state for each) about 31 new SSRCs.
	fill := func(i int) []rtcp.Packet {
		if keysKnown && i%2 == 1 {
			rr := &rtcp.ReceiverReport{SSRC: rand.Uint32()}
			for range 31 {
				rr.Reports = append(rr.Reports, rtcp.ReceptionReport{SSRC: rand.Uint32()})
			}
			return []rtcp.Packet{rr}
		}
		pkts := []rtcp.Packet{&rtcp.ReceiverReport{SSRC: own}}
		for range 10 {
			bye := &rtcp.Goodbye{}
			for range 31 {
				bye.Sources = append(bye.Sources, rand.Uint32())
			}
			pkts = append(pkts, bye)
		}
		return pkts
	}
	const flood, batch = 20000, 200
	for sent := 0; sent < flood; sent += batch {
		send(batch, fill)
		// All but the first few at most are dropped.
		want := dropped0 + float64(sent+batch) - 2
		if err := waitMetric(ctx, srv, ingressDropped(reason), func(v float64) bool { return v >= want }); err != nil {
			t.Fatalf("after %d packets: %v", sent+batch, err)
		}
	}
	after := readHeap()
	logged := lines.Load() - lines0
	t.Logf("heap %v before, %v after %d RTCP packets naming new SSRCs; %d log lines about SSRCs",
		before, after, flood, logged)
	if after.grew(before) {
		t.Errorf("heap grew from %v to %v", before, after)
	}
	if logged > 2 {
		t.Errorf("%d log lines about SSRCs, want at most 2", logged)
	}
	annGets()

	if keysKnown {
		// What the client says of what it receives still counts: a NACK
		// from its own SSRC is answered.
		s := mal.Stream(ann.ID(), "video")
		r0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total")
		if err != nil {
			t.Fatal(err)
		}
		if err := mal.SendRTCP(&rtcp.TransportLayerNack{SenderSSRC: own, MediaSSRC: s.SSRC.Load(),
			Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{uint16(s.LastSeq.Load())})}); err != nil {
			t.Fatal(err)
		}
		if err := waitMetric(ctx, srv, "hearth_sfu_retransmitted_packets_total", func(v float64) bool { return v > r0 }); err != nil {
			t.Errorf("a NACK after the flood went unanswered: %v", err)
		}
	}
}

package sfu

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// bottleneck is a link of capacity bps with a queue in front (first in,
// first out, dropping what would wait longer than limit) and random loss,
// between the server's sendLog and a subscriber that reports arrivals as
// browsers do: pion's twcc.Recorder, every 100 ms, through the wire format.
type bottleneck struct {
	t       *testing.T
	bps     float64
	prop    int64 // µs one way
	limit   int64 // µs of queue
	loss    float64
	jitter  int64 // µs, uniform, of arrival
	rnd     *rand.Rand
	free    int64 // µs: when the link is next free
	log     sendLog
	rec     *twcc.Recorder
	est     delayEstimate
	start   time.Time
	fellAny bool
}

func newBottleneck(t *testing.T, bps float64) *bottleneck {
	t.Helper()
	return &bottleneck{t: t, bps: bps, prop: 20_000, limit: 500_000, rnd: rand.New(rand.NewPCG(1, 2)),
		rec: twcc.NewRecorder(1), start: time.Unix(1_700_000_000, 0)}
}

// run sends at rate bps for d from at (µs since start), in 1,200-byte
// packets, with feedback every 100 ms; it returns the end.
func (b *bottleneck) run(at int64, d time.Duration, rate float64) int64 {
	const size = 1200
	gap := int64(size * 8 * 1e6 / rate)
	next := at + 100_000
	end := at + d.Microseconds()
	for ; at < end; at += gap {
		now := b.start.Add(time.Duration(at) * time.Microsecond)
		seq := b.log.add(size, now.UnixNano())
		arrive := max(b.free, at) + int64(size*8*1e6/b.bps)
		switch {
		case arrive-at > b.limit, b.rnd.Float64() < b.loss:
			// Dropped by the queue, or lost on the way.
		default:
			b.free = arrive
			j := int64(0)
			if b.jitter > 0 {
				j = b.rnd.Int64N(b.jitter)
			}
			b.rec.Record(1, seq, arrive+b.prop+j)
		}
		if at >= next {
			next += 100_000
			b.feedback(now.Add(time.Duration(b.prop) * time.Microsecond))
		}
	}
	return end
}

func (b *bottleneck) feedback(now time.Time) {
	for _, p := range b.rec.BuildFeedbackPacket() {
		raw, err := p.Marshal()
		if err != nil {
			b.t.Fatal(err)
		}
		pkts, err := rtcp.Unmarshal(raw)
		if err != nil {
			b.t.Fatal(err)
		}
		for _, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				b.est.feedback(fb, &b.log, now)
			}
		}
	}
	if b.est.takeOveruse() {
		b.fellAny = true
	}
}

// An overrun link: the queue grows, and the estimate falls below what
// the link carries well before the queue drops anything.
func TestDelayEstimateOverrun(t *testing.T) {
	b := newBottleneck(t, 1_000_000)
	at := b.run(0, 5*time.Second, 700_000)
	if b.fellAny {
		t.Fatal("fell while sending 700 kbit/s into 1 Mbit/s")
	}
	if r := b.est.rate; r < 650_000 || r > 1_200_000 {
		t.Fatalf("after 5 s at 700 kbit/s: estimate %.0f, want about what arrives", r)
	}
	b.limit = 10_000_000 // a deep queue: no loss tells of the overrun
	b.run(at, 2*time.Second, 1_400_000)
	if !b.fellAny {
		t.Fatal("no fall while sending 1.4 Mbit/s into 1 Mbit/s")
	}
	if r := b.est.rate; r > 1_000_000 {
		t.Fatalf("estimate %.0f after the overrun, want under the link's 1 Mbit/s", r)
	}
	t.Logf("estimate %.0f after the overrun, threshold %.1f", b.est.rate, b.est.threshold)
}

// A link that loses packets at random, with jitter, but is not full:
// loss is no sign of a queue, and the estimate climbs.
func TestDelayEstimateLossIsNotQueue(t *testing.T) {
	b := newBottleneck(t, 4_000_000)
	b.loss, b.jitter = 0.03, 4000
	at := b.run(0, 3*time.Second, 800_000)
	first := b.est.rate
	b.run(at, 10*time.Second, 800_000)
	if b.fellAny {
		t.Fatal("fell on a link that is not full")
	}
	if first < 700_000 || b.est.rate <= first {
		t.Fatalf("estimate %.0f after 3 s, %.0f after 13 s: want about what arrives, then higher", first, b.est.rate)
	}
	// One and a half times what arrives, measured over 300 ms windows
	// that jitter makes a little shorter or longer.
	if b.est.rate > 1.6*800_000 {
		t.Fatalf("estimate %.0f: far more than what arrives", b.est.rate)
	}
	t.Logf("estimate %.0f after 3 s, %.0f after 13 s", first, b.est.rate)
}

// After a fall the estimate grows again, by about a packet per round trip
// near the link's capacity.
func TestDelayEstimateRegrows(t *testing.T) {
	b := newBottleneck(t, 1_000_000)
	b.limit = 10_000_000
	at := b.run(0, 3*time.Second, 1_300_000)
	if !b.fellAny {
		t.Fatal("no fall")
	}
	// The sender follows the estimate, as the fit does, once the queue
	// has drained.
	at = b.run(at, 3*time.Second, 400_000)
	fell := b.est.rate
	b.fellAny = false
	b.run(at, 5*time.Second, 700_000)
	if b.fellAny || b.est.rate <= fell {
		t.Fatalf("estimate %.0f, then %.0f (fell again: %v): want it to grow", fell, b.est.rate, b.fellAny)
	}
	t.Logf("estimate %.0f after the fall, %.0f 5 s later", fell, b.est.rate)
}

func TestSendLog(t *testing.T) {
	var l sendLog
	if _, _, ok := l.lookup(0); ok {
		t.Fatal("found a packet never sent")
	}
	var first uint16
	for i := range sendLogSize + 10 {
		seq := l.add(1000+i%100, int64(i)*1e6)
		if i == 0 {
			first = seq
		}
	}
	if _, _, ok := l.lookup(first); ok {
		t.Fatal("found a packet the log has written over")
	}
	us, size, ok := l.lookup(uint16(sendLogSize + 9))
	if !ok || size != 1000+(sendLogSize+9)%100 || us != uint32(int64(sendLogSize+9)*1e3) {
		t.Fatalf("lookup: %d µs, %d bytes, %v", us, size, ok)
	}
}

func TestFitSlope(t *testing.T) {
	pts := [][2]float64{{0, 1}, {1, 3}, {2, 5}}
	if s, ok := fitSlope(pts); !ok || s != 2 {
		t.Fatalf("slope %v %v", s, ok)
	}
	if _, ok := fitSlope([][2]float64{{1, 1}, {1, 2}}); ok {
		t.Fatal("slope of a vertical line")
	}
}

// TestTransportWideOnEveryPath: where a subscriber negotiated
// transport-cc, forwarded video, its probe duplicates and its
// retransmissions all carry a transport-wide sequence number, one after
// another across them, in place of abs-send-time; the log keeps each
// one's size as written; forwarding so allocates nothing.
func TestTransportWideOnEveryPath(t *testing.T) {
	w := &stampWriter{id: 5}
	pub, d := rtxVideo(t, w)
	d.sub.sendLog = &sendLog{}
	d.bound.Store(&binding{ssrc: 1000, pt: 96, w: w, rtxSSRC: 2000, rtxPT: 97, absID: 7, twccID: 5})
	d.sub.bw.probeLeft.Store(2 * int64(wireOverhead+2+1000))
	base := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC).UnixNano()
	for i := range 4 {
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i + 1), Timestamp: uint32(i) * 3000, Marker: true, SSRC: 100},
			Payload: make([]byte, 1000)}
		p.Payload[0] = 0x10
		if i > 0 {
			p.Payload[1] = 0x01
		}
		pub.fwdMu.Lock()
		pub.handleLocked(pub.layer(0), p, base+int64(i)*int64(33*time.Millisecond))
		pub.fwdMu.Unlock()
	}
	nack := &rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{d.lastSeq - 1, d.lastSeq})}
	if n := d.resend(nack, d.slot); n != 2 {
		t.Fatalf("%d resent, want 2", n)
	}
	// Four forwarded, the first two duplicated for the probe, two resent.
	wantSSRC := []uint32{1000, 2000, 1000, 2000, 1000, 1000, 2000, 2000}
	if len(w.pkts) != len(wantSSRC) {
		t.Fatalf("%d packets written, want %d", len(w.pkts), len(wantSSRC))
	}
	for i, p := range w.pkts {
		if p.ssrc != wantSSRC[i] || len(p.abs) != 2 || p.ids != 1 {
			t.Fatalf("packet %d: SSRC %d, transport-wide number %x, %d extensions; want SSRC %d, a number alone", i, p.ssrc, p.abs, p.ids, wantSSRC[i])
		}
		seq := uint16(p.abs[0])<<8 | uint16(p.abs[1])
		if seq != uint16(i) {
			t.Errorf("packet %d numbered %d", i, seq)
		}
		_, size, ok := d.sub.sendLog.lookup(seq)
		if want := p.size; !ok || size != want {
			t.Errorf("packet %d: logged %d bytes (%v), written %d", i, size, ok, want)
		}
	}

	d.bound.Store(&binding{ssrc: 1000, pt: 96, w: &discardWriter{}, twccID: 5})
	if a := forwardAllocs(pub, base); a != 0 {
		t.Errorf("forwarding with the transport-wide number allocates %.1f times a packet", a)
	}
}

// TestTransportWideFeedback: a pion subscriber that negotiated
// transport-cc, and sends feedback as browsers do (pion's interceptor),
// gets the server's own estimate, on the fast path and on pion's, and
// its REMB is no longer what counts.
func TestTransportWideFeedback(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"fast path", Config{}},
		{"pion's path", Config{DisableAudioFastPath: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room := newTestRoomConfig(t, tc.cfg)
			room.join("pub", clientOpts{audio: true, rids: []string{""}})
			api := clientAPI(t, room.video, false, webrtc.ConfigureTWCCSender)
			sub := room.join("sub", clientOpts{api: api})
			sub.remb.Store(50_000)
			waitFor(t, "the server's own estimate of the subscriber", func() bool {
				est, own := sub.peer.bw.current()
				return own && est > 0
			})
			waitFor(t, "video numbered transport-wide", func() bool {
				pkts := videoFrom(sub, "pub")
				return len(pkts) > 0 && pkts[len(pkts)-1].extensions == 1 && !pkts[len(pkts)-1].hasSendTime
			})
			// Reports keep coming, REMB among them: the estimate stays the
			// server's.
			time.Sleep(300 * time.Millisecond)
			if est, own := sub.peer.bw.current(); !own || est == 50_000 {
				t.Fatalf("estimate %d (own %v) once the subscriber's REMB said 50000", est, own)
			}
		})
	}
}

// BenchmarkTransportFeedback: what reading one subscriber's feedback on
// 100 packets costs the server, parsed by pion's rtcp as the slot's
// reader gets it and then estimated from; ns/pkt is per packet told of.
func BenchmarkTransportFeedback(b *testing.B) {
	var log sendLog
	rec := twcc.NewRecorder(1)
	start := time.Unix(1_700_000_000, 0)
	var raws [][]byte
	for f := range 64 {
		for i := range 100 {
			n := f*100 + i
			at := int64(n) * 1000 // 1,000 packets a second
			seq := log.add(1200, start.Add(time.Duration(at)*time.Microsecond).UnixNano())
			rec.Record(1, seq, at+20_000)
		}
		for _, p := range rec.BuildFeedbackPacket() {
			raw, err := p.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, raw)
		}
	}
	var e delayEstimate
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		pkts, err := rtcp.Unmarshal(raws[n%len(raws)])
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				e.feedback(fb, &log, start.Add(time.Duration(n)*100*time.Millisecond))
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/pkt")
}

package sfu

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// discardWriter stands in for pion's write stream: it counts what it is given.
type discardWriter struct{ n, bytes int }

func (w *discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.n++
	w.bytes += len(payload)
	return 12 + len(payload), nil
}

// socketWriter marshals the packet (as SRTP would, without the cipher) and
// writes it to a real UDP socket through the batcher, or directly.
type socketWriter struct {
	u    *udpBatcher
	dst  netip.AddrPort
	buf  []byte
	conn *net.UDPConn // set: bypass the batcher (one sendto per packet)
}

func (w *socketWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	n, err := rtp.MarshalPacketTo(w.buf, h, payload)
	if err != nil {
		return 0, err
	}
	if w.conn != nil {
		return w.conn.WriteToUDPAddrPort(w.buf[:n], w.dst)
	}
	return w.u.WriteToAddrPort(w.buf[:n], w.dst)
}

// benchTrack is a published audio track with subs bound subscribers.
func benchTrack(subs int, writer func(i int) rtpWriter) *publishedTrack {
	t := &publishedTrack{
		info:  TrackInfo{ID: "p-audio-1", Publisher: "p", StreamID: "p", Kind: KindAudio, MimeType: "audio/opus"},
		stats: &Stats{},
		done:  make(chan struct{}),
	}
	empty := []*downTrack{}
	t.downs.Store(&empty)
	t.layers[0].Store(t.newLayer(0, "", nil, 42, nil))
	for i := range subs {
		d := newDownTrack(t, &Peer{id: fmt.Sprint("s", i)})
		d.bound.Store(&binding{ssrc: uint32(1000 + i), pt: 111, w: writer(i)})
		t.addDown(d)
	}
	return t
}

func audioPacket() *rtp.Packet {
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1, Timestamp: 960, SSRC: 42},
		Payload: make([]byte, 80),
	}
}

// BenchmarkForward measures the SFU's own per-packet work: one publisher to
// S subscribers (gate, sequence rewriting, header rewrite, counters), with
// pion's write stream replaced by a counter. It must not allocate.
func BenchmarkForward(b *testing.B) {
	for _, subs := range []int{7, 11, 50} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			t := benchTrack(subs, func(int) rtpWriter { return &discardWriter{} })
			benchFanout(b, t, subs, &t.stats.PacketsForwarded)
		})
	}
}

// benchFanout forwards b.N audio packets through t to its subs subscribers,
// reports the time per packet per subscriber, and checks that counted (the
// path's own counter) saw every one.
func benchFanout(b *testing.B, t *publishedTrack, subs int, counted *atomic.Uint64) {
	b.Helper()
	benchFanoutOf(b, t, subs, counted, audioPacket())
}

// benchFanoutOf is benchFanout of pkt.
func benchFanoutOf(b *testing.B, t *publishedTrack, subs int, counted *atomic.Uint64, pkt *rtp.Packet) {
	b.Helper()
	l := t.layer(0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		pkt.SequenceNumber++
		t.forward(l, pkt, false)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(subs), "ns/pkt/sub")
	if got := counted.Load(); got != uint64(b.N*subs) {
		b.Fatalf("forwarded %d, want %d", got, b.N*subs)
	}
}

// BenchmarkForwardSocket adds the system calls: each forwarded packet goes to
// a real loopback socket, one sendto each or batched by the engine's
// udpBatcher into one sendmmsg per fan-out. Receivers are drained by other
// goroutines, so the kernel's delivery work is on the sender, as it is for a
// server. The difference between the two is what batching saves per packet.
func BenchmarkForwardSocket(b *testing.B) {
	for _, mode := range []string{"sendto", "sendmmsg"} {
		for _, subs := range []int{7, 11} {
			b.Run(fmt.Sprintf("%s/subs=%d", mode, subs), func(b *testing.B) {
				src := loopbackUDP(b)
				_ = src.SetWriteBuffer(4 << 20)
				u, err := newUDPBatcher(src, &Stats{})
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				sinks := make([]*net.UDPConn, subs)
				for i := range sinks {
					sinks[i] = loopbackUDP(b)
					_ = sinks[i].SetReadBuffer(4 << 20)
					wg.Add(1)
					go func(c *net.UDPConn) {
						defer wg.Done()
						buf := make([]byte, 1500)
						for {
							if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
								return
							}
						}
					}(sinks[i])
				}
				t := benchTrack(subs, func(i int) rtpWriter {
					w := &socketWriter{u: u, dst: addrOf(sinks[i]), buf: make([]byte, 1500)}
					if mode == "sendto" {
						w.conn = src
					}
					return w
				})
				t.batch = u
				if mode == "sendto" {
					t.batch = nil
				}
				pkt := audioPacket()
				l := t.layer(0)
				// The sender's own CPU, apart from the sinks': on loopback
				// the kernel delivers each datagram in the sender's call.
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				b.ResetTimer()
				cpu0, cpuOK := threadCPU()
				for range b.N {
					pkt.SequenceNumber++
					t.forward(l, pkt, false)
				}
				cpu1, _ := threadCPU()
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(subs), "ns/pkt/sub")
				if cpuOK {
					b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N)/float64(subs), "cpu-ns/pkt/sub")
				}
				for _, c := range sinks {
					c.Close()
				}
				wg.Wait()
			})
		}
	}
}

// benchSimulcastTrack is a published video track of three layers with
// subs bound subscribers, subscriber i wanting layer i%3 and writing to
// writer(i), or to a counter if writer is nil, with the send time.
func benchSimulcastTrack(subs int, writer func(i int) rtpWriter) *publishedTrack {
	t := &publishedTrack{
		info:  TrackInfo{ID: "p-video-1", Publisher: "p", StreamID: "p", Kind: KindVideo, MimeType: "video/VP8"},
		codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		stats: &Stats{},
		done:  make(chan struct{}),
	}
	empty := []*downTrack{}
	t.downs.Store(&empty)
	for i := range maxLayers {
		t.layers[i].Store(t.newLayer(int8(i), fmt.Sprint("r", i), nil, uint32(100+i), nil))
	}
	for i := range subs {
		d := newDownTrack(t, &Peer{id: fmt.Sprint("s", i)})
		var w rtpWriter = &discardWriter{}
		if writer != nil {
			w = writer(i)
		}
		// abs-send-time negotiated, as browsers do (abssend.go).
		d.bound.Store(&binding{ssrc: uint32(1000 + i), pt: 96, w: w, absID: 3})
		d.want.Store(int32(i % maxLayers))
		t.addDown(d)
	}
	return t
}

// BenchmarkForwardSimulcast measures a simulcast video track's fan-out as
// its reader runs it (history, receiver statistics, keyframe detection,
// then each subscriber: its layer's packets forwarded, the others'
// skipped): packets from the three layers in turn, a keyframe on each
// every 30 frames. In "switching", every subscriber moves to the next
// layer every 90 frames, switching on that layer's next keyframe; in
// "numbered", as "steady", every subscriber negotiated transport-cc, so
// each packet carries a transport-wide number and is logged for the
// server's own estimate (sendlog.go) instead of carrying abs-send-time.
// ns/pkt is per incoming packet. It must not allocate.
func BenchmarkForwardSimulcast(b *testing.B) {
	for _, mode := range []string{"steady", "switching", "numbered"} {
		for _, subs := range []int{7, 11} {
			b.Run(fmt.Sprintf("%s/subs=%d", mode, subs), func(b *testing.B) {
				t := benchSimulcastTrack(subs, nil)
				if mode == "numbered" {
					for _, d := range *t.downs.Load() {
						bd := *d.bound.Load()
						bd.twccID = 5
						d.bound.Store(&bd)
						d.sub.sendLog = &sendLog{}
					}
				}
				benchSimulcast(b, t, mode)
			})
		}
	}
}

// benchSimulcast runs BenchmarkForwardSimulcast's loop on t.
func benchSimulcast(b *testing.B, t *publishedTrack, mode string) {
	var pkts [maxLayers]rtp.Packet
	for i := range pkts {
		pkts[i] = rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(1000 * i), Timestamp: uint32(7777 * i), Marker: true, SSRC: uint32(100 + i)},
			Payload: make([]byte, 300*(i+1)),
		}
	}
	now := time.Now().UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		li := n % maxLayers
		frame := n / maxLayers
		if mode == "switching" && li == 0 && frame%90 == 0 {
			for j, d := range *t.downs.Load() {
				d.want.Store(int32((j + frame/90) % maxLayers))
			}
		}
		p := &pkts[li]
		p.SequenceNumber++
		p.Timestamp += 3000
		key := frame%30 == 0
		p.Payload[0] = 0x10
		p.Payload[1] = 0x01
		if key {
			p.Payload[1] = 0x00
		}
		t.fwdMu.Lock()
		t.handleLocked(t.layer(int8(li)), p, now)
		t.fwdMu.Unlock()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
	if fwd := t.stats.PacketsForwarded.Load(); fwd == 0 {
		b.Fatal("nothing forwarded")
	}
	b.ReportMetric(float64(t.stats.PacketsForwarded.Load())/float64(b.N), "fwd/pkt")
}

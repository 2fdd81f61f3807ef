package sfu

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// BenchmarkPionGCCPerPacket is what pion/interceptor's GCC would cost the
// forwarding path for each packet sent to a subscriber: its send-side
// record of the packet (the transport-wide sequence number read back from
// the header, the departure from its own clock, an entry in its feedback
// history), with no pacing. bandwidth.go says why the server does not use
// it.
func BenchmarkPionGCCPerPacket(b *testing.B) {
	bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	if err != nil {
		b.Fatal(err)
	}
	defer bwe.Close()
	info := &interceptor.StreamInfo{SSRC: 1, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
	w := bwe.AddStream(info, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	h := &rtp.Header{Version: 2, SSRC: 1}
	payload := make([]byte, 1000)
	attrs := interceptor.Attributes{}
	var seq [2]byte
	b.ReportAllocs()
	for i := range b.N {
		seq[0], seq[1] = byte(i>>8), byte(i)
		_ = h.SetExtension(5, seq[:])
		if _, err := w.Write(h, payload, attrs); err != nil {
			b.Fatal(err)
		}
	}
}

// interceptorWriter puts an interceptor chain where pion's write stream
// is, handing it one attributes map for every packet (pion's own send
// path makes a new one per packet).
type interceptorWriter struct {
	w     interceptor.RTPWriter
	attrs interceptor.Attributes
}

func (w *interceptorWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	return w.w.Write(h, payload, w.attrs)
}

// BenchmarkForwardSimulcastGCC is BenchmarkForwardSimulcast ("steady")
// with what sending each subscriber's video through pion/interceptor's
// transport-wide congestion control adds: per subscriber, the transport-cc
// header extension interceptor (a transport-wide sequence number on each
// packet) and GCC's send-side estimator (each packet recorded for the
// feedback to come), without a pacer. "twcc" has the header extension
// alone; "twcc+gcc" both. The same packets, subscribers and counting as
// BenchmarkForwardSimulcast; what it costs beyond that is pion's.
func BenchmarkForwardSimulcastGCC(b *testing.B) {
	for _, chain := range []string{"twcc", "twcc+gcc"} {
		for _, subs := range []int{7, 11} {
			b.Run(fmt.Sprintf("%s/subs=%d", chain, subs), func(b *testing.B) {
				var closers []func() error
				var sunk atomic.Uint64 // packets through the whole chain
				defer func() {
					for _, c := range closers {
						_ = c()
					}
				}()
				t := benchSimulcastTrack(subs, func(i int) rtpWriter {
					info := &interceptor.StreamInfo{SSRC: uint32(1000 + i),
						RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
					var w interceptor.RTPWriter = interceptor.RTPWriterFunc(func(h *rtp.Header, p []byte, _ interceptor.Attributes) (int, error) {
						sunk.Add(1)
						return 12 + len(p), nil
					})
					if chain == "twcc+gcc" {
						bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
						if err != nil {
							b.Fatal(err)
						}
						closers = append(closers, bwe.Close)
						w = bwe.AddStream(info, w)
					}
					f, err := twcc.NewHeaderExtensionInterceptor()
					if err != nil {
						b.Fatal(err)
					}
					ic, err := f.NewInterceptor("")
					if err != nil {
						b.Fatal(err)
					}
					closers = append(closers, ic.Close)
					return &interceptorWriter{w: ic.BindLocalStream(info, w), attrs: interceptor.Attributes{}}
				})
				benchSimulcast(b, t, "steady")
				if fwd := t.stats.PacketsForwarded.Load(); sunk.Load() != fwd {
					b.Fatalf("%d packets came through the chain of %d forwarded", sunk.Load(), fwd)
				}
			})
		}
	}
}

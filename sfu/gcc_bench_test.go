package sfu

import (
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
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

package load

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// relayCCExtension is the header extension id the relay's transport-wide
// sequence numbers take (its clients ignore them).
const relayCCExtension = 5

// relayCC is what sending a subscriber's video through pion/interceptor's
// transport-wide congestion control costs a relay (RelayOptions.GCC): the
// transport-cc header extension interceptor numbers each packet and GCC's
// send-side estimator records it, without a pacer; the packet is then
// marshalled again with its new extension. Nothing sends the feedback
// GCC would estimate from, so this is the least it costs.
//
// Lifecycle: newRelayCC → stamp (under the member's outMu) → close.
type relayCC struct {
	// streams are the chains of the publishers' streams the subscriber
	// receives, by SSRC, each added on its first packet as an SFU adds a
	// stream when it binds it.
	streams map[uint32]interceptor.RTPWriter
	sink    interceptor.RTPWriter
	attrs   interceptor.Attributes
	bwe     *gcc.SendSideBWE
	ic      interceptor.Interceptor
	h       rtp.Header
	ext     []rtp.Extension // h's extensions, reused
	buf     []byte          // the packet as marshalled
	out     []byte          // what the last stamp wrote
}

func newRelayCC() (*relayCC, error) {
	c := &relayCC{streams: map[uint32]interceptor.RTPWriter{}, attrs: interceptor.Attributes{}, buf: make([]byte, 1500)}
	bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	if err != nil {
		return nil, fmt.Errorf("load: gcc: %w", err)
	}
	f, err := twcc.NewHeaderExtensionInterceptor()
	if err == nil {
		c.ic, err = f.NewInterceptor("")
	}
	if err != nil {
		_ = bwe.Close()
		return nil, fmt.Errorf("load: transport-cc: %w", err)
	}
	c.bwe = bwe
	c.sink = interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
		n, err := rtp.MarshalPacketTo(c.buf, h, payload)
		c.out = c.buf[:n]
		return n, err
	})
	return c, nil
}

// stamp passes one packet (hdr, payload) through the chain and returns it
// as marshalled with its transport-wide sequence number.
func (c *relayCC) stamp(hdr *rtp.Header, payload []byte) ([]byte, error) {
	c.h = *hdr
	c.ext = append(c.ext[:0], hdr.Extensions...)
	c.h.Extensions = c.ext
	w := c.streams[hdr.SSRC]
	if w == nil {
		info := &interceptor.StreamInfo{SSRC: hdr.SSRC,
			RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: relayCCExtension}}}
		w = c.ic.BindLocalStream(info, c.bwe.AddStream(info, c.sink))
		c.streams[hdr.SSRC] = w
	}
	if _, err := w.Write(&c.h, payload, c.attrs); err != nil {
		return nil, err
	}
	c.ext = c.h.Extensions
	return c.out, nil
}

func (c *relayCC) close() {
	_ = c.ic.Close()
	_ = c.bwe.Close()
}

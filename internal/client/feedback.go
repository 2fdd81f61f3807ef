package client

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
)

// Transport-wide feedback on the light path (BareOptions.TransportCC). A
// browser tells the server when each video packet numbered transport-wide
// arrived, several times a second, and the server estimates the client's
// link from that. pion's interceptor does it for what pion reads; the
// light path reads RTP off the socket, so it records the numbers there
// and sends the feedback itself every feedbackEvery.

// feedbackEvery is how often a client sends its feedback (pion's
// interceptor's default, as often as Chromium).
const feedbackEvery = 100 * time.Millisecond

// arrivals records the transport-wide numbers of what arrives.
type arrivals struct {
	// id is the extension's id, from the server's offer; 0 until known.
	id atomic.Uint32

	mu  sync.Mutex
	rec *twcc.Recorder
	n   int // recorded since the last feedback
}

// newArrivals records for feedback sent as ssrc.
func newArrivals(ssrc uint32) *arrivals {
	return &arrivals{rec: twcc.NewRecorder(ssrc)}
}

// record notes packet b (RTP, header in the clear) arriving at at.
func (a *arrivals) record(b []byte, at time.Duration) {
	id := uint8(a.id.Load())
	if id == 0 {
		return
	}
	seq, ok := oneByteExtension(b, id)
	if !ok || len(seq) != 2 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rec.Record(binary.BigEndian.Uint32(b[8:12]), binary.BigEndian.Uint16(seq), at.Microseconds())
	a.n++
}

// feedback returns the feedback on what arrived since the last call, nil
// if nothing did.
func (a *arrivals) feedback() []rtcp.Packet {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == 0 {
		return nil
	}
	a.n = 0
	return a.rec.BuildFeedbackPacket()
}

// oneByteExtension returns the value of extension id in RTP packet b's
// one-byte header extensions (RFC 8285), if it has it.
func oneByteExtension(b []byte, id uint8) ([]byte, bool) {
	if len(b) < 12 || b[0]&0x10 == 0 {
		return nil, false
	}
	off := 12 + 4*int(b[0]&0x0f)
	if len(b) < off+4 || binary.BigEndian.Uint16(b[off:]) != 0xbede {
		return nil, false
	}
	end := off + 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	if end > len(b) {
		return nil, false
	}
	for i := off + 4; i < end; {
		eid, n := b[i]>>4, int(b[i]&0x0f)+1
		switch {
		case eid == 0:
			i++ // padding
			continue
		case eid == 15 || i+1+n > end:
			return nil, false
		case eid == id:
			return b[i+1 : i+1+n], true
		}
		i += 1 + n
	}
	return nil, false
}

// transportCCID is the id a server's offer gives the transport-wide
// sequence number in its video sections, 0 if none.
func transportCCID(offer string) uint32 {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return 0
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key != "extmap" || !strings.Contains(a.Value, sdp.TransportCCURI) {
				continue
			}
			id, _, _ := strings.Cut(a.Value, " ")
			id, _, _ = strings.Cut(id, "/")
			if n, err := strconv.Atoi(id); err == nil && n > 0 && n < 15 {
				return uint32(n)
			}
		}
	}
	return 0
}

// sendFeedback sends the client's feedback every feedbackEvery until it
// closes.
func (c *Client) sendFeedback(a *arrivals) {
	defer c.wg.Done()
	tick := time.NewTicker(feedbackEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		if pkts := a.feedback(); len(pkts) > 0 {
			_ = c.peer().WriteRTCP(pkts)
		}
	}
}

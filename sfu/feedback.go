package sfu

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// Feedback to publishers: transport-wide congestion control and NACKs.
//
// Browsers set the bandwidth they send video at from transport-wide
// congestion control feedback (transport-cc, negotiated for video): when
// each of their packets arrived. pion's transport-cc sender made it from
// the packets pion read, and its NACK generator asked again for those that
// did not arrive. With video on the fast path (fastrecv.go) the server
// does both itself: per publisher, pion's twcc.Recorder fed by the
// socket's reader and, for the packets pion still reads (a stream's first
// ones; peers without the fast path), by an interceptor in pion's chain
// (feedbackInterceptor); per video layer, a nackLog (nacklog.go). The
// report ticker (reports.go) sends each publisher, every feedbackInterval
// as pion did, its feedback and NACKs: on the fast path, sealed under the
// server's own SRTCP index like its reports; through pion otherwise.

// feedbackInterval is how often publishers get feedback.
const feedbackInterval = 100 * time.Millisecond

// feedback is one publisher's transport-cc recorder.
//
// Lifecycle: made with the peer when the video fast path is on; fed until
// the peer closes; read by the report ticker.
type feedback struct {
	start int64 // unix ns; arrival times are counted from it, in µs
	// ssrc is the sender of what goes through pion (the fast path's go
	// from the peer's rtcpSSRC, under its own SRTCP index).
	ssrc uint32
	// extID is the transport-cc header extension's id, once a stream
	// names it.
	extID atomic.Uint32

	mu   sync.Mutex
	rec  *twcc.Recorder
	held int // packets recorded since the last feedback
}

func newFeedback(now time.Time) *feedback {
	ssrc := rand.Uint32()
	return &feedback{start: now.UnixNano(), ssrc: ssrc, rec: twcc.NewRecorder(ssrc)}
}

// record notes that the packet with transport-wide sequence number seq,
// on ssrc, arrived at now (unix ns).
func (fb *feedback) record(ssrc uint32, seq uint16, now int64) {
	fb.mu.Lock()
	fb.rec.Record(ssrc, seq, (now-fb.start)/int64(time.Microsecond))
	fb.held++
	fb.mu.Unlock()
}

// recordHeader records the packet with header h, if it carries a
// transport-wide sequence number.
func (fb *feedback) recordHeader(h *rtp.Header, now int64) {
	id := uint8(fb.extID.Load())
	if id == 0 {
		return
	}
	if ext := h.GetExtension(id); len(ext) >= 2 {
		fb.record(h.SSRC, binary.BigEndian.Uint16(ext), now)
	}
}

// build returns the feedback on what arrived since the last, if anything
// did.
func (fb *feedback) build() []rtcp.Packet {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.held == 0 {
		return nil
	}
	fb.held = 0
	return fb.rec.BuildFeedbackPacket()
}

// feedbackFactory puts one publisher's feedbackInterceptor in its
// connection's chain.
type feedbackFactory struct{ fb *feedback }

// NewInterceptor implements interceptor.Factory.
func (f feedbackFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &feedbackInterceptor{fb: f.fb}, nil
}

// feedbackInterceptor records the transport-wide sequence numbers of what
// pion reads.
type feedbackInterceptor struct {
	interceptor.NoOp
	fb *feedback
}

// BindRemoteStream implements interceptor.Interceptor.
func (i *feedbackInterceptor) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI && e.ID > 0 && e.ID < 256 {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return r
	}
	i.fb.extID.Store(uint32(id))
	ssrc := info.SSRC
	var h rtp.Header // one reader per stream
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if _, herr := h.Unmarshal(b[:n]); herr == nil {
			if ext := h.GetExtension(id); len(ext) >= 2 {
				i.fb.record(ssrc, binary.BigEndian.Uint16(ext), time.Now().UnixNano())
			}
		}
		return n, a, err
	})
}

// nackFor is one layer's NACK in the ticker's scratch: its SSRC and the
// sequence numbers seqs[from:to].
type nackFor struct {
	media    uint32
	from, to int
}

// sendFeedback sends p, a publisher, its transport-cc feedback and the
// NACKs for what its video layers lost.
func (r *reporter) sendFeedback(p *Peer) {
	fb := p.feedback
	if fb == nil {
		return
	}
	twccs := fb.build()
	r.nacks, r.seqs = r.nacks[:0], r.seqs[:0]
	p.router.mu.Lock()
	for _, t := range p.published {
		if t.info.Kind == KindVideo {
			r.tracks = append(r.tracks, t)
		}
	}
	p.router.mu.Unlock()
	for _, t := range r.tracks {
		t.fwdMu.Lock()
		for i := range t.layers {
			l := t.layers[i].Load()
			if l == nil || l.nack == nil {
				continue
			}
			from := len(r.seqs)
			if r.seqs = l.nack.missing(r.seqs); len(r.seqs) > from {
				r.nacks = append(r.nacks, nackFor{media: l.ssrc, from: from, to: len(r.seqs)})
			}
		}
		t.fwdMu.Unlock()
	}
	clear(r.tracks)
	r.tracks = r.tracks[:0]
	if len(twccs) == 0 && len(r.nacks) == 0 {
		return
	}
	if f := p.fast; f != nil && f.state.Load() == fastReady && f.rtcp != nil {
		// Through pion, nackCounter counts them.
		p.router.engine.stats.NACKsSent.Add(uint64(len(r.nacks)))
		r.sendFeedbackFast(f, p.rtcpSSRC, twccs, p.router.engine.batch)
		return
	}
	pkts := twccs
	for _, n := range r.nacks {
		pkts = append(pkts, &rtcp.TransportLayerNack{SenderSSRC: fb.ssrc, MediaSSRC: n.media,
			Nacks: rtcp.NackPairsFromSequenceNumbers(r.seqs[n.from:n.to])})
	}
	_ = p.pc.WriteRTCP(pkts)
}

// sendFeedbackFast sends feedback on f's fast path, from the server's own
// SSRC, in as few datagrams as fit.
func (r *reporter) sendFeedbackFast(f *peerFast, ssrc uint32, twccs []rtcp.Packet, out *udpBatcher) {
	n := 0
	flush := func(buf []byte) {
		if n == 0 {
			return
		}
		wire := f.rtcp.sealRTCP(buf, n, f.rtcpIndex, &r.iv, &r.aad)
		f.rtcpIndex++
		_, _ = out.WriteToAddrPort(wire, *f.addr.Load())
		n = 0
	}
	for _, pkt := range twccs {
		if cc, ok := pkt.(*rtcp.TransportLayerCC); ok {
			cc.SenderSSRC = ssrc
		}
		b, err := pkt.Marshal()
		if err != nil {
			continue
		}
		if len(b) > maxCompound {
			// Alone, in a buffer of its own (rare: a long burst).
			wide := make([]byte, len(b)+srtcpTrailer)
			flush(r.buf[:])
			n = copy(wide, b)
			flush(wide)
			continue
		}
		if n+len(b) > maxCompound {
			flush(r.buf[:])
		}
		n += copy(r.buf[n:], b)
	}
	for _, k := range r.nacks {
		seqs := r.seqs[k.from:k.to]
		if n+nackSize(seqs) > maxCompound {
			flush(r.buf[:])
		}
		n += putNACK(r.buf[n:], ssrc, k.media, seqs)
	}
	flush(r.buf[:])
}

package client

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// receiver counts what a client receives, per publisher and kind, on one of
// two paths: pion's tracks (decrypted, one reader goroutine per track) or
// the light path (RTP off the socket, see tap.go). Each stream gets a
// Counter: the caller's (Options.NewCounter) or the client's own Stream.
// Whose a packet is comes from the section it arrives on and the server's
// sections messages (PROTOCOL.md, "sections"), looked up as it arrives: a
// few packets on a section that carries nobody, as far as the client has
// been told, are kept until it is told whose they are, on pion's path.
//
// Lifecycle: made with its Client, which owns its goroutines.
type receiver struct {
	c          *Client
	origin     time.Time
	newCounter func(publisher, kind string) Counter // nil: Streams
	readRTCP   bool                                 // read the RTCP about received tracks

	firstMedia atomic.Int64 // since origin; 0 = none yet
	// arrivals, on the light path with transport-cc, records what arrives
	// for the client's feedback (feedback.go); nil otherwise.
	arrivals *arrivals

	// bySSRC finds a stream's counter on the light path; replaced, never
	// changed, after each offer and sections message.
	bySSRC atomic.Pointer[map[uint32]Counter]
	// owners says whose each section carries, by mid; replaced, never
	// changed, after each sections message.
	owners atomic.Pointer[map[string]streamKey]
	// answers counts the server's offers answered; emptied holds, for each
	// section said to carry nobody after carrying someone, the count then
	// (replaced like owners). The server hands such a section on only once
	// an offer made after that is answered: what arrives on it before is
	// the last of the one who left.
	answers atomic.Int64
	emptied atomic.Pointer[map[string]int64]

	mu       sync.Mutex
	ssrcMids map[uint32]string    // the light path's SSRCs by mid, from the last offer
	streams  map[string]*Stream   // key: publisher + "/" + kind
	replaced map[string][]*Stream // ended streams a newer one replaced, by key
	counters map[string]Counter   // the caller's, by key
}

func newReceiver(c *Client, origin time.Time) *receiver {
	r := &receiver{c: c, origin: origin, newCounter: c.opts.NewCounter, readRTCP: c.opts.Bare == nil,
		streams: map[string]*Stream{}, replaced: map[string][]*Stream{}, counters: map[string]Counter{}}
	empty := map[uint32]Counter{}
	r.bySSRC.Store(&empty)
	none := map[string]streamKey{}
	r.owners.Store(&none)
	never := map[string]int64{}
	r.emptied.Store(&never)
	return r
}

// onTrack starts counting a track that has just arrived.
func (r *receiver) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	for _, x := range r.c.peer().GetTransceivers() {
		if x.Receiver() == recv {
			mid = x.Mid()
		}
	}
	r.c.wg.Add(1)
	go func() {
		defer r.c.wg.Done()
		r.readTrack(tr, mid)
	}()
	if r.readRTCP {
		r.c.wg.Add(1)
		go func() {
			defer r.c.wg.Done()
			r.readReports(tr, recv, mid)
		}()
	}
}

// openStream returns the Stream for a publisher's kind: the current one,
// or a new one if there is none or it has ended.
func (r *receiver) openStream(publisher, kind, mime string) *Stream {
	key := publisher + "/" + kind
	r.mu.Lock()
	s := r.streams[key]
	if s == nil || s.Ended.Load() {
		if s != nil {
			r.replaced[key] = append(r.replaced[key], s)
		}
		s = &Stream{video: kind == webrtc.RTPCodecTypeVideo.String()}
		r.streams[key] = s
	}
	if mime != "" && s.MimeType() != mime {
		s.mime.Store(&mime)
	}
	r.mu.Unlock()
	r.c.notify()
	return s
}

// readTrack counts one remote track until it ends, each packet for
// whoever its section carries when it arrives.
func (r *receiver) readTrack(tr *webrtc.TrackRemote, mid string) {
	buf := make([]byte, 1500)
	var (
		owner streamKey
		ctr   Counter
		early earlyPackets
	)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if s := r.ownStream(owner); s != nil {
				s.Ended.Store(true)
				r.c.notify()
			}
			return
		}
		if n < 12 {
			continue
		}
		at := time.Since(r.origin)
		if now := (*r.owners.Load())[mid]; now != owner || ctr == nil {
			owner, ctr = now, nil
			if owner.publisher != "" {
				ctr = r.counterOf(owner, tr.Codec().MimeType)
			}
		}
		if ctr == nil {
			// Nobody's, as far as we were told: the server names a
			// section's next publisher before it sends their media, but
			// the media may overtake the message. Kept until it comes,
			// unless it is the last of the one who left.
			if gen, ok := (*r.emptied.Load())[mid]; !ok || r.answers.Load() > gen {
				early.keep(buf[:n], at)
			}
			continue
		}
		early.replay(ctr, &r.firstMedia)
		r.firstMedia.CompareAndSwap(0, int64(at))
		ctr.Packet(buf[:n], at)
	}
}

// maxEarly bounds the packets a section keeps before the client is told
// whose they are: about a second of a camera's lowest layer.
const maxEarly = 64

// earlyPackets are packets that arrived on a section before the sections
// message naming whose it carries, with when each arrived; a track's
// reader's own.
type earlyPackets []earlyPacket

type earlyPacket struct {
	pkt []byte
	at  time.Duration
}

// keep copies p, arrived at at, unless maxEarly are kept already.
func (e *earlyPackets) keep(p []byte, at time.Duration) {
	if len(*e) < maxEarly {
		*e = append(*e, earlyPacket{slices.Clone(p), at})
	}
}

// replay counts the packets kept for ctr, now known to be theirs, and
// forgets them.
func (e *earlyPackets) replay(ctr Counter, first *atomic.Int64) {
	for _, p := range *e {
		first.CompareAndSwap(0, int64(p.at))
		ctr.Packet(p.pkt, p.at)
	}
	*e = nil
}

// counterOf returns the counter of a stream: the caller's, or the
// client's own Stream (with its codec).
func (r *receiver) counterOf(k streamKey, mime string) Counter {
	if r.newCounter == nil {
		return r.openStream(k.publisher, k.kind, mime)
	}
	return r.counter(k.publisher, k.kind)
}

// ownStream returns the client's own Stream of k, nil if none or the
// caller counts.
func (r *receiver) ownStream(k streamKey) *Stream {
	if k.publisher == "" || r.newCounter != nil {
		return nil
	}
	return r.stream(k.publisher, k.kind)
}

// readReports counts the sender reports about a received track.
func (r *receiver) readReports(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver, mid string) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				r.c.SenderReports.Add(1)
				s := r.ownStream((*r.owners.Load())[mid])
				if s != nil && sr.SSRC == uint32(tr.SSRC()) {
					s.SenderReports.Add(1)
				}
			}
		}
	}
}

// onRTP counts one packet on the light path. It runs on the socket's
// reader goroutine.
func (r *receiver) onRTP(b []byte) {
	at := time.Since(r.origin)
	if r.arrivals != nil {
		r.arrivals.record(b, at)
	}
	ssrc := uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	ctr := (*r.bySSRC.Load())[ssrc]
	if ctr == nil {
		return
	}
	r.firstMedia.CompareAndSwap(0, int64(at))
	ctr.Packet(b, at)
}

// mapSSRCs notes which section each SSRC an offer announces arrives on,
// for the light path.
func (r *receiver) mapSSRCs(offer string) error {
	m, err := ssrcMids(offer)
	if err != nil {
		return fmt.Errorf("client: parse offer: %w", err)
	}
	if r.arrivals != nil {
		r.arrivals.id.Store(transportCCID(offer))
	}
	r.mu.Lock()
	r.ssrcMids = m
	r.mu.Unlock()
	r.remap()
	return nil
}

// setSections applies a sections message: whose each section carries
// from now on. The streams of those no longer carried end.
func (r *receiver) setSections(ss []protocol.Section) {
	r.mu.Lock()
	next := maps.Clone(*r.owners.Load())
	emptied := maps.Clone(*r.emptied.Load())
	var ended []streamKey
	for _, s := range ss {
		if was, ok := next[s.Mid]; ok {
			ended = append(ended, was)
			if s.Participant == nil {
				emptied[s.Mid] = r.answers.Load()
			}
		}
		if s.Participant == nil {
			delete(next, s.Mid)
			continue
		}
		k := streamKey{publisher: *s.Participant, kind: s.Kind}
		if s.Screen {
			k.publisher += "-screen"
		}
		next[s.Mid] = k
	}
	r.emptied.Store(&emptied)
	r.owners.Store(&next)
	carried := map[streamKey]bool{}
	for _, k := range next {
		carried[k] = true
	}
	for _, k := range ended {
		if s := r.streams[k.publisher+"/"+k.kind]; s != nil && !carried[k] && r.newCounter == nil {
			s.Ended.Store(true)
		}
	}
	r.mu.Unlock()
	r.remap()
	r.c.notify()
}

// resetSections forgets whose the sections carry, for a new peer
// connection: its mids are its own.
func (r *receiver) resetSections() {
	none := map[string]streamKey{}
	never := map[string]int64{}
	r.mu.Lock()
	r.owners.Store(&none)
	r.emptied.Store(&never)
	r.ssrcMids = nil
	r.mu.Unlock()
	empty := map[uint32]Counter{}
	r.bySSRC.Store(&empty)
}

// remap points the light path at the streams the sections carry now.
func (r *receiver) remap() {
	r.mu.Lock()
	mids := r.ssrcMids
	r.mu.Unlock()
	if mids == nil {
		return
	}
	owners := *r.owners.Load()
	next := make(map[uint32]Counter, len(mids))
	for ssrc, mid := range mids {
		if k, ok := owners[mid]; ok {
			next[ssrc] = r.counterOf(k, "")
		}
	}
	r.bySSRC.Store(&next)
}

// counter returns the light path's counter for a publisher's kind.
func (r *receiver) counter(publisher, kind string) Counter {
	if r.newCounter == nil {
		return r.openStream(publisher, kind, "")
	}
	key := publisher + "/" + kind
	r.mu.Lock()
	defer r.mu.Unlock()
	ctr := r.counters[key]
	if ctr == nil {
		ctr = r.newCounter(publisher, kind)
		r.counters[key] = ctr
	}
	return ctr
}

// stream returns the Stream of a publisher's kind, or nil.
func (r *receiver) stream(publisher, kind string) *Stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.streams[publisher+"/"+kind]
}

// received counts the packets of every Stream of a publisher's kind.
func (r *receiver) received(publisher, kind string) uint64 {
	key := publisher + "/" + kind
	r.mu.Lock()
	defer r.mu.Unlock()
	var n uint64
	for _, s := range r.replaced[key] {
		n += s.Packets.Load()
	}
	if s := r.streams[key]; s != nil {
		n += s.Packets.Load()
	}
	return n
}

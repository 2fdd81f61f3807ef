package client

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// receiver counts what a client receives, per publisher and kind, on one of
// two paths: pion's tracks (decrypted, one reader goroutine per track) or
// the light path (RTP off the socket, see tap.go). Each stream gets a
// Counter: the caller's (Options.NewCounter) or the client's own Stream.
//
// Lifecycle: made with its Client, which owns its goroutines.
type receiver struct {
	c          *Client
	origin     time.Time
	newCounter func(publisher, kind string) Counter // nil: Streams
	readRTCP   bool                                 // read the RTCP about received tracks

	firstMedia atomic.Int64 // since origin; 0 = none yet

	// bySSRC finds a stream's counter on the light path; replaced, never
	// changed, after each offer.
	bySSRC atomic.Pointer[map[uint32]Counter]

	mu       sync.Mutex
	streams  map[string]*Stream   // key: publisher + "/" + kind
	replaced map[string][]*Stream // ended streams a newer one replaced, by key
	counters map[string]Counter   // the caller's, by key
}

func newReceiver(c *Client, origin time.Time) *receiver {
	r := &receiver{c: c, origin: origin, newCounter: c.opts.NewCounter, readRTCP: c.opts.Bare == nil,
		streams: map[string]*Stream{}, replaced: map[string][]*Stream{}, counters: map[string]Counter{}}
	empty := map[uint32]Counter{}
	r.bySSRC.Store(&empty)
	return r
}

// onTrack starts counting a track that has just arrived.
func (r *receiver) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	publisher, kind := tr.StreamID(), tr.Kind().String()
	var ctr Counter
	var s *Stream
	if r.newCounter != nil {
		ctr = r.newCounter(publisher, kind)
		r.mu.Lock()
		r.counters[publisher+"/"+kind] = ctr
		r.mu.Unlock()
	} else {
		s = r.openStream(publisher, kind, tr.Codec().MimeType)
		ctr = s
	}
	r.c.wg.Add(1)
	go func() {
		defer r.c.wg.Done()
		r.readTrack(tr, ctr, s)
	}()
	if r.readRTCP {
		r.c.wg.Add(1)
		go func() {
			defer r.c.wg.Done()
			r.readReports(tr, recv, s)
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

// readTrack counts one remote track until it ends; s is the client's own
// Stream, if it counts it.
func (r *receiver) readTrack(tr *webrtc.TrackRemote, ctr Counter, s *Stream) {
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if s != nil {
				s.Ended.Store(true)
				r.c.notify()
			}
			return
		}
		if n < 12 {
			continue
		}
		at := time.Since(r.origin)
		r.firstMedia.CompareAndSwap(0, int64(at))
		ctr.Packet(buf[:n], at)
	}
}

// readReports counts the sender reports about a received track.
func (r *receiver) readReports(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver, s *Stream) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				r.c.SenderReports.Add(1)
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
	ssrc := uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	ctr := (*r.bySSRC.Load())[ssrc]
	if ctr == nil {
		return
	}
	at := time.Since(r.origin)
	r.firstMedia.CompareAndSwap(0, int64(at))
	ctr.Packet(b, at)
}

// mapSSRCs points the light path at the streams an offer announces. A
// stream keeps its counter across offers.
func (r *receiver) mapSSRCs(offer string) error {
	m, err := ssrcStreams(offer)
	if err != nil {
		return fmt.Errorf("client: parse offer: %w", err)
	}
	next := make(map[uint32]Counter, len(m))
	for ssrc, s := range m {
		next[ssrc] = r.counter(s.publisher, s.kind)
	}
	r.bySSRC.Store(&next)
	return nil
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

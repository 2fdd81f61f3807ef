package sfu

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
)

// Interceptors made when first needed.
//
// pion builds every registered interceptor for every peer connection when
// the connection is made, and the NACK generator and the transport-cc
// feedback sender each start a goroutine then, whether or not a stream
// ever needs them. Both serve video only (audio negotiates neither NACK
// nor, with the audio fast path, transport-cc), so a participant in an
// audio-only group paid for them for nothing. lazyFactory defers the
// interceptor until a stream that needs it is bound; from then on it sees
// every stream, as it would have.

// lazyFactory makes interceptors that exist only once a stream needs them.
// It suits interceptors whose BindRTCPWriter keeps the writer it is given
// and returns it unchanged (they send RTCP; they do not filter it), which
// is true of pion's NACK generator and transport-cc sender.
type lazyFactory struct {
	inner interceptor.Factory
	// needs says whether a stream being bound needs the interceptor; local
	// is true for streams this side sends.
	needs func(info *interceptor.StreamInfo, local bool) bool
}

// newLazyFactory checks that inner can build its interceptor, so that a
// bad option fails at start rather than on a peer's first video stream.
func newLazyFactory(inner interceptor.Factory, needs func(*interceptor.StreamInfo, bool) bool) (lazyFactory, error) {
	i, err := inner.NewInterceptor("")
	if err != nil {
		return lazyFactory{}, err
	}
	if err := i.Close(); err != nil {
		return lazyFactory{}, err
	}
	return lazyFactory{inner: inner, needs: needs}, nil
}

// NewInterceptor implements interceptor.Factory.
func (f lazyFactory) NewInterceptor(id string) (interceptor.Interceptor, error) {
	return &lazyInterceptor{f: f, id: id}, nil
}

// lazyInterceptor stands for one peer connection's interceptor until a
// stream needs the real one.
type lazyInterceptor struct {
	f  lazyFactory
	id string

	mu     sync.Mutex // guards writer, closed and making inner
	writer interceptor.RTCPWriter
	closed bool
	inner  atomic.Pointer[innerInterceptor]
}

type innerInterceptor struct{ interceptor.Interceptor }

func (l *lazyInterceptor) get() interceptor.Interceptor {
	if in := l.inner.Load(); in != nil {
		return in.Interceptor
	}
	return nil
}

// make returns the real interceptor, building it on first use. It returns
// nil once the connection is closed.
func (l *lazyInterceptor) make() (interceptor.Interceptor, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if in := l.inner.Load(); in != nil {
		return in.Interceptor, nil
	}
	if l.closed {
		return nil, nil
	}
	i, err := l.f.inner.NewInterceptor(l.id)
	if err != nil {
		return nil, fmt.Errorf("sfu: interceptor: %w", err)
	}
	if l.writer != nil {
		i.BindRTCPWriter(l.writer)
	}
	l.inner.Store(&innerInterceptor{i})
	return i, nil
}

// forStream returns the interceptor a stream being bound goes through, or
// nil if none is needed yet.
func (l *lazyInterceptor) forStream(info *interceptor.StreamInfo, local bool) interceptor.Interceptor {
	if i := l.get(); i != nil {
		return i
	}
	if !l.f.needs(info, local) {
		return nil
	}
	i, err := l.make()
	if err != nil {
		// The factory was checked at start; should it fail now, the
		// stream goes without (no NACK or feedback) rather than not at all.
		return nil
	}
	return i
}

// BindRTCPReader implements interceptor.Interceptor. RTCP read before the
// real interceptor exists passes straight through.
func (l *lazyInterceptor) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	var bound atomic.Pointer[interceptor.RTCPReader]
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		if br := bound.Load(); br != nil {
			return (*br).Read(b, a)
		}
		if i := l.get(); i != nil {
			br := i.BindRTCPReader(r)
			if !bound.CompareAndSwap(nil, &br) {
				br = *bound.Load()
			}
			return br.Read(b, a)
		}
		return r.Read(b, a)
	})
}

// BindRTCPWriter implements interceptor.Interceptor.
func (l *lazyInterceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writer = w
	if in := l.inner.Load(); in != nil {
		in.BindRTCPWriter(w)
	}
	return w
}

// BindLocalStream implements interceptor.Interceptor.
func (l *lazyInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if i := l.forStream(info, true); i != nil {
		return i.BindLocalStream(info, w)
	}
	return w
}

// UnbindLocalStream implements interceptor.Interceptor.
func (l *lazyInterceptor) UnbindLocalStream(info *interceptor.StreamInfo) {
	if i := l.get(); i != nil {
		i.UnbindLocalStream(info)
	}
}

// BindRemoteStream implements interceptor.Interceptor.
func (l *lazyInterceptor) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	if i := l.forStream(info, false); i != nil {
		return i.BindRemoteStream(info, reuseAttributes(r))
	}
	return r
}

// reuseAttributes hands the readers above it one attributes map per
// stream, emptied for each packet, where pion's receive path gives them
// none: the NACK generator and the transport-cc sender would otherwise
// each packet make a map and store the parsed header in it (about 300
// bytes of garbage for every video packet received). A stream is read by
// one goroutine, and the map is passed up with each packet, not kept.
func reuseAttributes(r interceptor.RTPReader) interceptor.RTPReader {
	attrs := interceptor.Attributes{}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		if a == nil {
			clear(attrs)
			a = attrs
		}
		return r.Read(b, a)
	})
}

// UnbindRemoteStream implements interceptor.Interceptor.
func (l *lazyInterceptor) UnbindRemoteStream(info *interceptor.StreamInfo) {
	if i := l.get(); i != nil {
		i.UnbindRemoteStream(info)
	}
}

// Close implements interceptor.Interceptor.
func (l *lazyInterceptor) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if in := l.inner.Load(); in != nil {
		return in.Close()
	}
	return nil
}

// usesNACK says whether a stream negotiated generic NACK.
func usesNACK(info *interceptor.StreamInfo) bool {
	return slices.ContainsFunc(info.RTCPFeedback, func(fb interceptor.RTCPFeedback) bool {
		return fb.Type == "nack" && fb.Parameter == ""
	})
}

// usesTWCC says whether a stream carries the transport-wide sequence
// number that transport-cc feedback is built from.
func usesTWCC(info *interceptor.StreamInfo) bool {
	return slices.ContainsFunc(info.RTPHeaderExtensions, func(e interceptor.RTPHeaderExtension) bool {
		return e.URI == sdp.TransportCCURI
	})
}

package sfu

import (
	"sync/atomic"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// recorder is an interceptor that notes what it was given.
type recorder struct {
	interceptor.NoOp
	writer        interceptor.RTCPWriter
	local, remote int
	rtcpRead      *atomic.Int32
	closed        bool
	unbound       int
}

type recorderFactory struct {
	made     atomic.Int32
	rtcpRead atomic.Int32
	last     *recorder
}

func (f *recorderFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	f.made.Add(1)
	r := &recorder{rtcpRead: &f.rtcpRead}
	f.last = r
	return r, nil
}

func (r *recorder) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	r.writer = w
	return w
}

func (r *recorder) BindRTCPReader(rd interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		r.rtcpRead.Add(1)
		return rd.Read(b, a)
	})
}

func (r *recorder) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	r.local++
	return w
}

func (r *recorder) BindRemoteStream(_ *interceptor.StreamInfo, rd interceptor.RTPReader) interceptor.RTPReader {
	r.remote++
	return rd
}

func (r *recorder) UnbindRemoteStream(*interceptor.StreamInfo) { r.unbound++ }

func (r *recorder) Close() error {
	r.closed = true
	return nil
}

// TestLazyInterceptor: the interceptor is made when the first stream that
// needs it is bound, not before; it then gets the connection's RTCP
// writer, sees every later stream, and reads the RTCP of readers bound
// before it existed.
func TestLazyInterceptor(t *testing.T) {
	rf := &recorderFactory{}
	f, err := newLazyFactory(rf, func(info *interceptor.StreamInfo, local bool) bool { return !local && usesNACK(info) })
	if err != nil {
		t.Fatal(err)
	}
	rf.made.Store(0) // newLazyFactory's check
	i, err := f.NewInterceptor("pc")
	if err != nil {
		t.Fatal(err)
	}
	var wrote atomic.Int32
	w := interceptor.RTCPWriterFunc(func([]rtcp.Packet, interceptor.Attributes) (int, error) {
		wrote.Add(1)
		return 0, nil
	})
	if got := i.BindRTCPWriter(w); got == nil {
		t.Fatal("no writer returned")
	}
	rd := i.BindRTCPReader(interceptor.RTCPReaderFunc(func([]byte, interceptor.Attributes) (int, interceptor.Attributes, error) {
		return 1, nil, nil
	}))
	read := func() {
		if _, _, err := rd.Read(make([]byte, 10), nil); err != nil {
			t.Fatal(err)
		}
	}

	audio := &interceptor.StreamInfo{MimeType: "audio/opus",
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.AudioLevelURI, ID: 1}}}
	video := &interceptor.StreamInfo{MimeType: "video/VP8",
		RTCPFeedback:        []interceptor.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}},
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 3}}}
	rtpReader := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return len(b), a, nil
	})
	i.BindRemoteStream(audio, rtpReader)
	i.BindLocalStream(video, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
		return 0, nil
	}))
	read()
	if n := rf.made.Load(); n != 0 {
		t.Fatalf("made %d interceptors before a stream needed one", n)
	}
	if n := rf.rtcpRead.Load(); n != 0 {
		t.Fatalf("%d RTCP reads through an interceptor that does not exist", n)
	}

	i.BindRemoteStream(video, rtpReader)
	if n := rf.made.Load(); n != 1 {
		t.Fatalf("made %d interceptors for a stream that needs one, want 1", n)
	}
	r := rf.last
	if r.writer == nil {
		t.Fatal("the interceptor did not get the connection's RTCP writer")
	}
	if _, err := r.writer.Write(nil, nil); err != nil || wrote.Load() != 1 {
		t.Fatal("the interceptor's writer is not the connection's")
	}
	i.BindRemoteStream(audio, rtpReader)
	if r.remote != 2 {
		t.Fatalf("interceptor saw %d remote streams, want 2 (every stream once it exists)", r.remote)
	}
	read()
	if n := rf.rtcpRead.Load(); n != 1 {
		t.Fatalf("%d RTCP reads through the interceptor, want 1", n)
	}
	i.UnbindRemoteStream(video)
	if r.unbound != 1 {
		t.Fatal("unbind did not reach the interceptor")
	}
	if err := i.Close(); err != nil || !r.closed {
		t.Fatal("close did not reach the interceptor")
	}
	if rf.made.Load() != 1 {
		t.Fatal("made again")
	}

	// Closed before any stream needed it: nothing is made afterwards.
	j, _ := f.NewInterceptor("pc2")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j.BindRemoteStream(video, rtpReader)
	if n := rf.made.Load(); n != 1 {
		t.Fatalf("made an interceptor for a closed connection (%d)", n)
	}
}

func TestUsesFeedback(t *testing.T) {
	pli := &interceptor.StreamInfo{RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack", Parameter: "pli"}}}
	if usesNACK(pli) {
		t.Error("nack pli alone is not generic NACK")
	}
	if !usesNACK(&interceptor.StreamInfo{RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}) {
		t.Error("generic NACK not seen")
	}
	if usesTWCC(pli) || !usesTWCC(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI}}}) {
		t.Error("transport-cc extension not told apart")
	}
}

// TestLazyNACKReadAllocs: pion's NACK generator, made lazily, reads a
// video stream without a map per packet; only the header it parses is
// new each time.
func TestLazyNACKReadAllocs(t *testing.T) {
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	f, err := newLazyFactory(gen, func(info *interceptor.StreamInfo, local bool) bool { return !local && usesNACK(info) })
	if err != nil {
		t.Fatal(err)
	}
	i, err := f.NewInterceptor("pc")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	pkt, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 5}, Payload: make([]byte, 1000)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var seq uint16
	src := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		seq++
		n := copy(b, pkt)
		b[2], b[3] = byte(seq>>8), byte(seq)
		return n, a, nil
	})
	info := &interceptor.StreamInfo{SSRC: 5, MimeType: "video/VP8", RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}
	r := i.BindRemoteStream(info, src)
	buf := make([]byte, 1500)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, a, err := r.Read(buf, nil); err != nil {
			t.Fatal(err)
		} else if h, err := a.GetRTPHeader(buf); err != nil || h.SequenceNumber != seq {
			t.Fatalf("the packet's header: %v, %v", h, err)
		}
	})
	if allocs > 1 {
		t.Errorf("%.0f allocations a packet, want at most the header's", allocs)
	}
}

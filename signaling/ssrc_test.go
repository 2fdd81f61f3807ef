package signaling_test

import (
	"sync/atomic"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// ssrcSwapper rewrites the SSRC of outgoing audio once armed, as a client
// trying to inject a stream the server never negotiated.
type ssrcSwapper struct {
	interceptor.NoOp
	armed *atomic.Bool
}

func (s *ssrcSwapper) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if info.MimeType != "audio/opus" {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if s.armed.Load() {
			h.SSRC = 0x5eed5eed
		}
		return w.Write(h, payload, a)
	})
}

type swapperFactory struct{ armed *atomic.Bool }

func (f swapperFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &ssrcSwapper{armed: f.armed}, nil
}

// TestForeignSSRC: RTP from a participant is accepted only on its
// negotiated SSRCs; a stream on any other SSRC reaches nobody.
func TestForeignSSRC(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "ssrc", "Ann")
	var armed atomic.Bool
	api, err := client.NewAPIWith(swapperFactory{armed: &armed})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	m, err := client.Dial(ctx, api, client.Options{URL: srv.WSURL, Room: "ssrc", Name: "Mal", Audio: true, Video: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	waitMedia(t, a, 25, m)

	armed.Store(true)
	// Let in-flight packets land, then watch: the audio count must stand
	// still while the same client's video keeps arriving.
	v0 := a.Stream(m.ID(), "video").Packets.Load()
	if err := a.Wait(ctx, func() bool { return a.Stream(m.ID(), "video").Packets.Load() > v0+15 }); err != nil {
		t.Fatal(err)
	}
	before := a.Stream(m.ID(), "audio").Packets.Load()
	v1 := a.Stream(m.ID(), "video").Packets.Load()
	if err := a.Wait(ctx, func() bool { return a.Stream(m.ID(), "video").Packets.Load() > v1+60 }); err != nil {
		t.Fatal(err)
	}
	if after := a.Stream(m.ID(), "audio").Packets.Load(); after != before {
		t.Errorf("audio on a foreign SSRC was forwarded: %d packets", after-before)
	}
	// Back on the negotiated SSRC, the audio flows again.
	armed.Store(false)
	if err := a.Wait(ctx, func() bool { return a.Stream(m.ID(), "audio").Packets.Load() > before+20 }); err != nil {
		t.Errorf("audio on the negotiated SSRC did not resume")
	}
}

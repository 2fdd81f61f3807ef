package signaling_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// ptChanger gives outgoing video a payload type nobody negotiated once
// armed, as a client sending a codec it never offered.
type ptChanger struct {
	interceptor.NoOp
	armed *atomic.Bool
	sent  *atomic.Int64 // packets sent with the wrong payload type
}

func (p *ptChanger) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if info.MimeType != "video/VP8" {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if p.armed.Load() {
			h.PayloadType = 120
			p.sent.Add(1)
		}
		return w.Write(h, payload, a)
	})
}

type ptChangerFactory struct {
	armed *atomic.Bool
	sent  *atomic.Int64
}

func (f ptChangerFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &ptChanger{armed: f.armed, sent: f.sent}, nil
}

// TestUnknownPayloadType: packets with a payload type that was never
// negotiated are dropped and counted; the sender's track does not end, and
// its media flows again once the payload type is right.
func TestUnknownPayloadType(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "pt", "Ann")
	var armed atomic.Bool
	var sent atomic.Int64
	api, err := client.NewAPIWith(ptChangerFactory{armed: &armed, sent: &sent})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := client.Dial(ctx, api, client.Options{URL: srv.WSURL, Room: "pt", Name: "Mal", Audio: true, Video: true})
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
	if err := m.Wait(ctx, func() bool { return sent.Load() >= 30 }); err != nil {
		t.Fatal(err)
	}
	armed.Store(false)
	v := a.Stream(m.ID(), "video").Packets.Load()
	if err := a.Wait(ctx, func() bool { return a.Stream(m.ID(), "video").Packets.Load() > v+30 }); err != nil {
		t.Fatalf("video did not flow again after the unknown payload type: %v", err)
	}
	const name = "hearth_sfu_unknown_payload_type_packets_total"
	if err := waitMetric(ctx, srv, name, func(v float64) bool { return v >= 20 }); err != nil {
		t.Errorf("packets with an unknown payload type not counted: %v", err)
	}
	for _, msg := range a.Messages() {
		if msg.Type == "track_unpublished" {
			t.Errorf("a track ended: %s", msg.Raw)
		}
	}
	if a.Stream(m.ID(), "video").Ended.Load() {
		t.Error("the subscriber's video track ended")
	}
}

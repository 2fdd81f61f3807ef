package load

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/rtp"
)

// participant is what the orchestrator needs from a synthetic participant,
// whether it talks to Hearth or to the relay.
type participant interface {
	// times reports when the join steps happened.
	times() joinTimes
	// streams returns the receive streams so far, keyed by publisher and
	// kind.
	streams() map[string]*rxStream
	source() *mediaSource
	// key names this participant in others' streams() keys.
	key() string
	// sendLayout tells the server how this participant, member self of
	// its room, shows the others (peers: their keys by member index).
	sendLayout(layout string, self int, peers map[int]string) error
	close()
}

// joinTimes are the steps of one join; zero if a step did not happen.
type joinTimes struct {
	join       time.Time // join sent
	answered   time.Time // joined received
	offered    time.Time // the server's first offer received
	answerSent time.Time // the answer to it sent
	iceUp      time.Time // ICE connected
	connected  time.Time // DTLS up: the peer connection is connected
	firstMedia time.Time // first packet from anyone
}

// hearthParticipant is one synthetic participant on a Hearth server: a
// client on the run's Bare setup, fed by the run's pacer, counting what it
// receives in rxStreams.
//
// Lifecycle: dialHearth → (media flows) → close, which ends its goroutines.
type hearthParticipant struct {
	c    *client.Client
	src  *mediaSource
	pace *pacer

	mu sync.Mutex
	rx map[string]*rxStream
}

// dialHearth joins a room and, once seated, hands the participant's media
// to the pacer.
func dialHearth(ctx context.Context, bare *client.Bare, url, room, name string, media MediaOptions,
	pace *pacer, phase time.Duration, origin time.Time) (*hearthParticipant, error) {
	p := &hearthParticipant{pace: pace, rx: map[string]*rxStream{}}
	p.src = newMediaSource(p, media, phase, 0, 0)
	c, err := client.Dial(ctx, nil, client.Options{
		URL: url, Room: room, Name: name, Audio: true, Video: media.Video, Simulcast: media.Video && media.Simulcast,
		WriteTimeout: 10 * time.Second, Bare: bare, ExternalMedia: true, DropMessages: true, Origin: origin,
		OnKeyframeRequest:      func() { p.src.wantKeyframe.Store(true) },
		OnLayerKeyframeRequest: func(i int) { p.src.layers[i].wantKeyframe.Store(true) },
		OnVideoLayers:          p.videoLayers,
		NewCounter:             p.newCounter,
	})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	p.c = c
	if err := c.Join(); err != nil {
		c.Close()
		return nil, fmt.Errorf("load: join: %w", err)
	}
	if err := c.Wait(ctx, func() bool { return c.ID() != "" }); err != nil {
		c.Close()
		return nil, fmt.Errorf("load: not seated (an open room seats at once): %w", err)
	}
	pace.add(p.src)
	return p, nil
}

// newCounter starts a stream's counters. A publisher whose track arrives
// anew starts from zero.
func (p *hearthParticipant) newCounter(publisher, kind string) client.Counter {
	clock := uint32(audioClock)
	if kind == "video" {
		clock = videoClock
	}
	s := newRxStream(clock)
	p.mu.Lock()
	p.rx[publisher+"/"+kind] = s
	p.mu.Unlock()
	return s
}

// videoLayers pauses the layers the server says nobody receives, and
// resumes the others, as the browser client does.
func (p *hearthParticipant) videoLayers(m protocol.VideoLayers) {
	for _, l := range m.Layers {
		for i, rid := range client.SimulcastRIDs {
			if l.RID == rid {
				p.src.layers[i].paused.Store(!l.Active)
			}
		}
	}
}

func (p *hearthParticipant) sendLayout(layout string, self int, peers map[int]string) error {
	m := layoutMessage(layout, self, peers)
	if m == nil {
		return nil
	}
	if err := p.c.Send(m); err != nil {
		return fmt.Errorf("load: layout: %w", err)
	}
	return nil
}

func (p *hearthParticipant) writeAudio(h *rtp.Header, b []byte) { _ = p.c.WriteAudio(h, b) }
func (p *hearthParticipant) writeVideo(h *rtp.Header, b []byte) { _ = p.c.WriteVideo(h, b) }
func (p *hearthParticipant) writeVideoLayer(i int, h *rtp.Header, b []byte) {
	_ = p.c.WriteVideoLayer(i, h, b)
}

func (p *hearthParticipant) times() joinTimes {
	t := p.c.Times()
	return joinTimes{join: t.Join, answered: t.Joined, offered: t.Offered, answerSent: t.Answered,
		iceUp: t.ICEUp, connected: t.Connected, firstMedia: t.FirstMedia}
}

func (p *hearthParticipant) streams() map[string]*rxStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]*rxStream, len(p.rx))
	for k, v := range p.rx {
		out[k] = v
	}
	return out
}

func (p *hearthParticipant) source() *mediaSource { return p.src }

func (p *hearthParticipant) key() string { return p.c.ID() }

func (p *hearthParticipant) close() {
	p.pace.remove(p.src)
	p.c.Close()
}

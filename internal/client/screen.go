package client

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// screenFrameEvery is the synthetic screen's frame interval: slides change
// seldom, and ten frames a second is what browsers send for a still
// screen.
const screenFrameEvery = 100 * time.Millisecond

// screen is a client's screen share: a video track on a media section of
// its own (PROTOCOL.md, "Screen sharing").
//
// Lifecycle: made by PublishScreen; its sender goroutine and RTCP reader
// end with the Client.
type screen struct {
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	key    atomic.Bool // a keyframe was asked for
	paused atomic.Bool
}

// ErrScreenPublished is returned by PublishScreen when the client has
// published a screen already (calls to it take turns).
var ErrScreenPublished = errors.New("client: a screen is published already")

// PublishScreen publishes a synthetic screen: a VP8 track on a new
// send-only media section, in an offer of the client's own, then ten
// one-packet frames a second (a keyframe first, every 3 s and whenever
// asked) until PauseScreen, EndScreen or Close. It sends no
// start_screen_share: whether anyone receives the screen is the server's
// decision. An offer of the server's crossing the client's is answered,
// and the client offers again (negotiate.go).
func (c *Client) PublishScreen() error {
	if c.screenOf() != nil {
		return ErrScreenPublished
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock}, "screen", "screen")
	if err != nil {
		return err
	}
	tr, err := c.addOwnSection(track)
	if err != nil {
		return err
	}
	sc := &screen{track: track, sender: tr.Sender()}
	c.mu.Lock()
	c.screen = sc
	c.mu.Unlock()
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		sc.readRTCP()
	}()
	go func() {
		defer c.wg.Done()
		c.sendScreen(sc)
	}()
	return c.offer()
}

// PauseScreen stops (true) or resumes sending the screen's frames; the
// track and its media section stay, as a browser's do when its screen
// share stops and the section waits for the next.
func (c *Client) PauseScreen(paused bool) {
	if sc := c.screenOf(); sc != nil {
		sc.paused.Store(paused)
	}
}

// EndScreen removes the screen track from the connection and offers the
// change: the server sees the track end.
func (c *Client) EndScreen() error {
	sc := c.screenOf()
	if sc == nil {
		return nil
	}
	sc.paused.Store(true)
	if err := c.peer().RemoveTrack(sc.sender); err != nil {
		return err
	}
	return c.offer()
}

// ScreenStream returns the counters of participant's screen share as this
// client receives it (stream id "<participant>-screen"), or nil.
func (c *Client) ScreenStream(participant string) *Stream {
	return c.in.stream(participant+"-screen", webrtc.RTPCodecTypeVideo.String())
}

func (c *Client) screenOf() *screen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.screen
}

// sendScreen sends the screen's frames until the client closes.
func (c *Client) sendScreen(sc *screen) {
	tick := time.NewTicker(screenFrameEvery)
	defer tick.Stop()
	payload := make([]byte, 1000)
	var seq uint16
	var ts uint32
	var lastKey time.Time
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		if sc.paused.Load() || c.Paused.Load() {
			continue
		}
		key := sc.key.Swap(false) || time.Since(lastKey) > 3*time.Second
		if key {
			lastKey = time.Now()
		}
		seq++
		ts += 9000
		setVideoPayload(webrtc.MimeTypeVP8, payload, key)
		_ = sc.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
			Timestamp: ts, Marker: true}, Payload: payload})
	}
}

// readRTCP reads the RTCP about the screen, as the interceptors need, and
// turns keyframe requests into keyframes. It ends when the sender stops.
func (sc *screen) readRTCP() {
	for {
		pkts, _, err := sc.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				sc.key.Store(true)
			}
		}
	}
}

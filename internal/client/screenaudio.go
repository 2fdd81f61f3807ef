package client

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// screenAudio is the sound of a client's screen share (a tab playing a
// video): an Opus track on a media section of its own, like the screen
// (PROTOCOL.md, "Screen sharing").
//
// Lifecycle: made by PublishScreenAudio; its sender goroutine and RTCP
// reader end with the Client.
type screenAudio struct {
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	paused atomic.Bool
}

// ErrScreenAudioPublished is returned by PublishScreenAudio when the
// client has published its screen's sound already.
var ErrScreenAudioPublished = errors.New("client: a screen's sound is published already")

// PublishScreenAudio publishes a synthetic screen sound: an Opus track on
// a new send-only media section, in an offer of the client's own, then 50
// packets a second until PauseScreenAudio, EndScreenAudio or Close. Like
// PublishScreen it sends no message.
func (c *Client) PublishScreenAudio() error {
	c.mu.Lock()
	published := c.screenAudio != nil
	c.mu.Unlock()
	if published {
		return ErrScreenAudioPublished
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2}, "screen-audio", "screen")
	if err != nil {
		return err
	}
	tr, err := c.addOwnSection(track)
	if err != nil {
		return err
	}
	sa := &screenAudio{track: track, sender: tr.Sender()}
	c.mu.Lock()
	c.screenAudio = sa
	c.mu.Unlock()
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		// Read for the interceptors; nothing in it concerns the sound.
		for {
			if _, _, err := sa.sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer c.wg.Done()
		c.sendScreenAudio(sa)
	}()
	return c.offer()
}

// PauseScreenAudio stops (true) or resumes sending the screen's sound.
func (c *Client) PauseScreenAudio(paused bool) {
	c.mu.Lock()
	sa := c.screenAudio
	c.mu.Unlock()
	if sa != nil {
		sa.paused.Store(paused)
	}
}

// EndScreenAudio removes the screen's sound from the connection and
// offers the change: the server sees the track end.
func (c *Client) EndScreenAudio() error {
	c.mu.Lock()
	sa := c.screenAudio
	c.mu.Unlock()
	if sa == nil {
		return nil
	}
	sa.paused.Store(true)
	if err := c.peer().RemoveTrack(sa.sender); err != nil {
		return err
	}
	return c.offer()
}

// ScreenAudioStream returns the counters of participant's screen sound as
// this client receives it (stream id "<participant>-screen", audio), or
// nil.
func (c *Client) ScreenAudioStream(participant string) *Stream {
	return c.in.stream(participant+"-screen", webrtc.RTPCodecTypeAudio.String())
}

// sendScreenAudio sends the sound's packets until the client closes.
func (c *Client) sendScreenAudio(sa *screenAudio) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 80)
	var seq uint16
	var ts uint32
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		if sa.paused.Load() || c.Paused.Load() {
			continue
		}
		seq++
		ts += 960
		payload[0] = byte(seq)
		_ = sa.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts}, Payload: payload})
	}
}

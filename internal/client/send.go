package client

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Audio levels the generator sends, in -dBov: speech and silence.
const (
	speechLevel  = 20
	silenceLevel = 127
)

// sender publishes a client's media: its local tracks, the RTCP the server
// sends about them, and the built-in generator.
//
// Lifecycle: made with its Client, which owns its goroutines.
type sender struct {
	c            *Client
	audio, video *webrtc.TrackLocalStaticRTP
	audioSSRC    atomic.Uint32 // of the audio sender, 0 if none
	// simulcast is the video's layers, for Options.Simulcast (video nil),
	// as published on the current peer connection.
	simulcast atomic.Pointer[simulcast]

	scratch       rtp.Packet // WriteAudio's and WriteVideo's, reused per packet
	forceKeyframe atomic.Bool
	started       atomic.Bool
}

// addTracks adds the tracks the options ask for, each on a send-only
// transceiver.
func (s *sender) addTracks(o Options) error {
	var err error
	if o.Audio {
		s.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2}, "audio", "self")
		if err == nil {
			err = s.add(s.audio)
		}
	}
	if err == nil && o.Video {
		vc := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock}
		if strings.EqualFold(o.VideoCodec, webrtc.MimeTypeH264) {
			vc = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: videoClock,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
		}
		if o.Simulcast {
			return s.addSimulcast(vc)
		}
		s.video, err = webrtc.NewTrackLocalStaticRTP(vc, "video", "self")
		if err == nil {
			err = s.add(s.video)
		}
	}
	return err
}

// rebind publishes the client's audio and video on its new peer
// connection (newpeer.go), a simulcast video with all its layers.
func (s *sender) rebind() error {
	for _, t := range []*webrtc.TrackLocalStaticRTP{s.audio, s.video} {
		if t == nil {
			continue
		}
		if err := s.add(t); err != nil {
			return err
		}
	}
	if sc := s.simulcast.Load(); sc != nil {
		return s.publishSimulcast(&simulcast{layers: sc.layers})
	}
	return nil
}

// add attaches a track and reads the RTCP about it: it must be read for
// the interceptors to see it, and keyframe requests become keyframes.
func (s *sender) add(t *webrtc.TrackLocalStaticRTP) error {
	tr, err := s.c.peer().AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	rs := tr.Sender()
	if encs := rs.GetParameters().Encodings; t == s.audio && len(encs) > 0 {
		s.audioSSRC.Store(uint32(encs[0].SSRC))
	}
	s.c.wg.Add(1)
	go func() {
		defer s.c.wg.Done()
		s.readRTCP(t, rs)
	}()
	return nil
}

func (s *sender) readRTCP(t *webrtc.TrackLocalStaticRTP, rs *webrtc.RTPSender) {
	c := s.c
	for {
		pkts, _, err := rs.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.KeyframeRequests.Add(1)
				s.forceKeyframe.Store(true)
				if f := c.opts.OnKeyframeRequest; f != nil {
					f()
				}
			case *rtcp.ReceiverReport:
				c.ReceiverReports.Add(1)
				for _, r := range p.Reports {
					if r.LastSenderReport != 0 {
						c.RoundTripReports.Add(1)
						break
					}
				}
				if t != s.audio {
					continue
				}
				for _, r := range p.Reports {
					if r.SSRC == s.audioSSRC.Load() {
						c.AudioReport.Store(&r)
					}
				}
			}
		}
	}
}

// write sends one packet on t, if the client has it. Callers take turns:
// the packet struct is reused.
func (s *sender) write(t *webrtc.TrackLocalStaticRTP, h *rtp.Header, payload []byte) error {
	if t == nil {
		return nil
	}
	s.scratch.Header, s.scratch.Payload = *h, payload
	return t.WriteRTP(&s.scratch)
}

// start starts the built-in generator, once.
func (s *sender) start() {
	if s.audio == nil && s.video == nil && s.simulcast.Load() == nil || s.c.opts.ExternalMedia || !s.started.CompareAndSwap(false, true) {
		return
	}
	s.c.wg.Add(1)
	go func() {
		defer s.c.wg.Done()
		s.generate()
	}()
}

// generate sends 50 audio packets/s and 30 one-packet video frames/s (a
// keyframe first, every 3 s, and whenever asked) until the client closes.
func (s *sender) generate() {
	c := s.c
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var aSeq, vSeq uint16
	var aTS, vTS uint32
	var lSeq [3]uint16
	var lTS [3]uint32
	audioPayload := make([]byte, 80)
	videoPayload := make([]byte, 900)
	var n int
	lastKey := time.Time{}
	var level audioLevelExt
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		n++
		if c.Paused.Load() {
			continue
		}
		if s.audio != nil && n%2 == 0 {
			aSeq++
			aTS += 960
			audioPayload[0] = byte(aSeq)
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: aSeq, Timestamp: aTS, SSRC: 1}, Payload: audioPayload}
			s.setAudioLevel(&pkt.Header, &level)
			if n := c.AudioLoss.Load(); n == 0 || aSeq%uint16(n) != 0 {
				_ = s.audio.WriteRTP(pkt)
			}
		}
		if sc := s.simulcast.Load(); sc != nil && n%3 == 0 {
			key := time.Since(lastKey) > 3*time.Second
			if key {
				lastKey = time.Now()
			}
			sc.writeLayers(c.peer(), videoPayload, key, &lSeq, &lTS)
		}
		if s.video != nil && n%3 == 0 {
			key := s.forceKeyframe.Swap(false) || time.Since(lastKey) > 3*time.Second
			if key {
				lastKey = time.Now()
			}
			vTS += 3000
			setVideoPayload(s.video.Codec().MimeType, videoPayload, key)
			vSeq++
			_ = s.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: vSeq, Timestamp: vTS, Marker: true, SSRC: 2}, Payload: videoPayload})
		}
	}
}

// setVideoPayload makes p a one-packet frame of the codec: for VP8 a
// payload descriptor (S=1) then the frame tag's P bit (0 = keyframe); for
// H.264 a single NAL unit, IDR (5) or not (1).
func setVideoPayload(mime string, p []byte, key bool) {
	if strings.EqualFold(mime, webrtc.MimeTypeH264) {
		p[0] = 0x41
		if key {
			p[0] = 0x65
		}
		return
	}
	p[0], p[1] = 0x10, 0x01
	if key {
		p[1] = 0x00
	}
}

// audioLevelExt is the audio level extension's id as negotiated on one
// peer connection; the generator's own.
type audioLevelExt struct {
	pc *webrtc.PeerConnection
	id uint8 // 0: not negotiated yet
}

// setAudioLevel adds the RFC 6464 audio level to an audio packet once the
// extension is negotiated on the current peer connection; ext remembers
// the id found.
func (s *sender) setAudioLevel(h *rtp.Header, ext *audioLevelExt) {
	if pc := s.c.peer(); pc != ext.pc || ext.id == 0 {
		*ext = audioLevelExt{pc: pc, id: s.audioLevelID(pc)}
	}
	if ext.id == 0 {
		return
	}
	level := byte(silenceLevel)
	if s.c.Speaking.Load() {
		level = 0x80 | speechLevel // V flag: voice
	}
	_ = h.SetExtension(ext.id, []byte{level})
}

// audioLevelID is the id pc negotiated for the audio level extension on
// the audio sender, or 0. Before an offer and its answer are both applied,
// pion proposes ids of its own, which the server's offer may not share:
// those are not taken.
func (s *sender) audioLevelID(pc *webrtc.PeerConnection) uint8 {
	if pc == nil || pc.CurrentRemoteDescription() == nil {
		return 0
	}
	for _, tr := range pc.GetTransceivers() {
		rs := tr.Sender()
		if rs == nil || rs.Track() != s.audio {
			continue
		}
		for _, e := range rs.GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 15 {
				return uint8(e.ID)
			}
		}
	}
	return 0
}

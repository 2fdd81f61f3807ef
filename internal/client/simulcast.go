package client

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// SimulcastRIDs are the layers a client with Options.Simulcast sends,
// lowest first.
var SimulcastRIDs = [3]string{"q", "h", "f"}

// simulcast is a publisher's video as three layers of one sender, on one
// peer connection: a new one publishes the same layers anew.
type simulcast struct {
	layers [3]*webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	// forceKey asks the generator for a keyframe on a layer.
	forceKey [3]atomic.Bool
	// midID and ridID are the negotiated extension ids, and mid the
	// section's, once known (the generator's).
	midID, ridID uint8
	mid          string
	// ext is each layer's mid and rid extensions, for WriteVideoLayer;
	// each slice is full (cap = len), so that nothing appends into it.
	ext [3][]rtp.Extension
}

// addSimulcast adds the video as three layers of one sender and reads the
// RTCP about each.
func (s *sender) addSimulcast(codec webrtc.RTPCodecCapability) error {
	sc := &simulcast{}
	for i, rid := range SimulcastRIDs {
		t, err := webrtc.NewTrackLocalStaticRTP(codec, "video", "self", webrtc.WithRTPStreamID(rid))
		if err != nil {
			return err
		}
		sc.layers[i] = t
	}
	return s.publishSimulcast(sc)
}

// publishSimulcast adds sc's layers as one sender on the client's peer
// connection, reads the RTCP about each (until that connection closes),
// and makes sc the video the generator and WriteVideoLayer send.
func (s *sender) publishSimulcast(sc *simulcast) error {
	tr, err := s.c.peer().AddTransceiverFromTrack(sc.layers[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	sc.sender = tr.Sender()
	for _, t := range sc.layers[1:] {
		if err := sc.sender.AddEncoding(t); err != nil {
			return err
		}
	}
	s.simulcast.Store(sc)
	for i, rid := range SimulcastRIDs {
		s.c.wg.Add(1)
		go func() {
			defer s.c.wg.Done()
			s.readLayerRTCP(sc, i, rid)
		}()
	}
	return nil
}

// readLayerRTCP turns the keyframe requests about layer i of sc into a
// keyframe of that layer.
func (s *sender) readLayerRTCP(sc *simulcast, i int, rid string) {
	c := s.c
	for {
		pkts, _, err := sc.sender.ReadSimulcastRTCP(rid)
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.KeyframeRequests.Add(1)
				sc.forceKey[i].Store(true)
				if f := c.opts.OnLayerKeyframeRequest; f != nil {
					f(i)
				} else if f := c.opts.OnKeyframeRequest; f != nil {
					f()
				}
			case *rtcp.ReceiverReport:
				c.ReceiverReports.Add(1)
			}
		}
	}
}

// writeLayers sends one frame on each layer (a keyframe where asked or
// key), each a quarter, a half and the whole of payload, the third byte
// of each the layer's index; seq and ts are the layers' own, advanced.
func (sc *simulcast) writeLayers(pc *webrtc.PeerConnection, payload []byte, key bool, seq *[3]uint16, ts *[3]uint32) {
	if sc.midID == 0 {
		sc.findIDs(pc)
	}
	for i, t := range sc.layers {
		n := len(payload) >> (2 - i)
		p := payload[:n]
		setVideoPayload(t.Codec().MimeType, p, sc.forceKey[i].Swap(false) || key)
		p[2] = byte(i)
		seq[i]++
		ts[i] += 3000
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq[i], Timestamp: ts[i], Marker: true}, Payload: p}
		if sc.midID != 0 && sc.mid != "" {
			_ = pkt.SetExtension(sc.midID, []byte(sc.mid))
			_ = pkt.SetExtension(sc.ridID, []byte(SimulcastRIDs[i]))
		}
		_ = t.WriteRTP(pkt)
	}
}

// writeLayer sends one packet of layer i from outside; callers take
// turns (the packet struct is reused).
func (s *sender) writeLayer(i int, h *rtp.Header, payload []byte) error {
	sc := s.simulcast.Load()
	if sc == nil || i < 0 || i >= len(sc.layers) {
		return nil
	}
	if sc.midID == 0 {
		sc.findIDs(s.c.peer())
		if sc.midID != 0 {
			for l, rid := range SimulcastRIDs {
				var x rtp.Header
				_ = x.SetExtension(sc.midID, []byte(sc.mid))
				_ = x.SetExtension(sc.ridID, []byte(rid))
				sc.ext[l] = slices.Clip(x.Extensions)
			}
		}
	}
	s.scratch.Header, s.scratch.Payload = *h, payload
	if e := sc.ext[i]; e != nil {
		s.scratch.Header.Extension = true
		s.scratch.Header.ExtensionProfile = rtp.ExtensionProfileOneByte
		s.scratch.Header.Extensions = e
	}
	return sc.layers[i].WriteRTP(&s.scratch)
}

// findIDs learns the section's mid and the extensions' ids once they are
// negotiated.
func (sc *simulcast) findIDs(pc *webrtc.PeerConnection) {
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == sc.sender {
			sc.mid = tr.Mid()
		}
	}
	var mid, rid uint8
	for _, e := range sc.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			mid = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			rid = uint8(e.ID)
		}
	}
	if mid != 0 && rid != 0 && sc.mid != "" {
		sc.midID, sc.ridID = mid, rid
	}
}

// ridsOnly drops the SSRCs of simulcast layers from a description, as
// browsers send it: their layers are known by rid alone.
func ridsOnly(desc string) string {
	if !strings.Contains(desc, "a=simulcast:") {
		return desc
	}
	var b strings.Builder
	video := false
	for _, line := range strings.SplitAfter(desc, "\n") {
		if strings.HasPrefix(line, "m=") {
			video = strings.HasPrefix(line, "m=video")
		}
		if video && (strings.HasPrefix(line, "a=ssrc:") || strings.HasPrefix(line, "a=ssrc-group:")) {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

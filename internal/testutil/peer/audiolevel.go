package peer

import (
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// Audio levels sent, in -dBov: speech and silence.
const (
	speechLevel  = 20
	silenceLevel = 127
)

// setAudioLevel adds the RFC 6464 audio level to an audio packet once the
// extension is negotiated; id is the extension id found so far (0: not
// yet), returned for the next packet.
func (c *Client) setAudioLevel(h *rtp.Header, id uint8) uint8 {
	if id == 0 {
		id = c.audioLevelID()
		if id == 0 {
			return 0
		}
	}
	level := byte(silenceLevel)
	if c.Speaking.Load() {
		level = 0x80 | speechLevel // V flag: voice
	}
	_ = h.SetExtension(id, []byte{level})
	return id
}

// audioLevelID is the negotiated id of the audio level extension on our
// audio sender, or 0.
func (c *Client) audioLevelID() uint8 {
	for _, tr := range c.pc.GetTransceivers() {
		s := tr.Sender()
		if s == nil || s.Track() != c.audio {
			continue
		}
		for _, e := range s.GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 15 {
				return uint8(e.ID)
			}
		}
	}
	return 0
}

package signaling_test

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/webrtc/v4"
)

// TestMixedVideoCodecs: in one group, a camera sending VP8 and one sending
// H.264 each reach the others in their own codec, keyframes and all, on
// the same connection: each subscription's media section carries the
// publisher's codec.
func TestMixedVideoCodecs(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	var clients []*client.Client
	for _, o := range []client.Options{
		{Name: "VP8"},
		{Name: "H264", VideoCodec: webrtc.MimeTypeH264},
		{Name: "Viewer"},
	} {
		o.Room, o.Audio, o.Video = "codecs", true, true
		c := dial(t, srv, o)
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	vp8, h264, viewer := clients[0], clients[1], clients[2]
	waitMedia(t, viewer, 20, vp8, h264)
	waitMedia(t, vp8, 20, h264)
	waitMedia(t, h264, 20, vp8)
	for _, c := range []struct {
		sub, pub *client.Client
		mime     string
	}{
		{viewer, vp8, webrtc.MimeTypeVP8}, {viewer, h264, webrtc.MimeTypeH264},
		{vp8, h264, webrtc.MimeTypeH264}, {h264, vp8, webrtc.MimeTypeVP8},
	} {
		s := c.sub.Stream(c.pub.ID(), "video")
		if got := s.MimeType(); !strings.EqualFold(got, c.mime) {
			t.Errorf("%s's video reached %s as %s, want %s", c.pub.ID(), c.sub.ID(), got, c.mime)
		}
		if s.Keyframes.Load() == 0 {
			t.Errorf("%s's %s video reached %s without a keyframe", c.pub.ID(), c.mime, c.sub.ID())
		}
	}
}

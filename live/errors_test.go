package live_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestControlsRefusePlainly: a refused command is a RefusedError with the
// protocol code and a sentence for the sender that quotes nothing it sent,
// and still matches ErrForbidden or ErrInvalid.
func TestControlsRefusePlainly(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	long := strings.Repeat("p", 1000)
	cases := []struct {
		cmd  live.Command
		code room.Code
	}{
		{live.Command{Kind: protocol.CmdMute, By: "m", Participant: "f", Media: protocol.MediaAudio, Muted: true}, room.CodeForbidden},
		{live.Command{Kind: protocol.CmdMute, By: "c", Participant: "f", Media: protocol.MediaAudio, Muted: true}, room.CodeForbidden},
		{live.Command{Kind: protocol.CmdRaiseHand, By: "o"}, room.CodeForbidden},
		{live.Command{Kind: protocol.CmdLowerHand, By: "m", Participant: "t"}, room.CodeForbidden},
		{live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: long}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "o"}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "o"}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdMute, By: "f", Participant: "o", Media: protocol.MediaAudio, Muted: true}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdSkip, By: "f", Participant: long}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdSetTimer, By: "f", Seconds: -1}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdRemove, By: "f", Participant: "f"}, room.CodeBadRequest},
		{live.Command{Kind: protocol.CmdPass, By: long}, room.CodeForbidden},
	}
	for _, tc := range cases {
		_, err := c.Apply(tc.cmd)
		var re *room.RefusedError
		if !errors.As(err, &re) {
			t.Errorf("%+v: %v, want a RefusedError", tc.cmd.Kind, err)
			continue
		}
		want := room.ErrInvalid
		if tc.code == room.CodeForbidden {
			want = room.ErrForbidden
		}
		if re.Code != tc.code || !errors.Is(err, want) {
			t.Errorf("%s: code %q (%v), want %q wrapping %v", tc.cmd.Kind, re.Code, err, tc.code, want)
		}
		m := re.Message
		if m == "" || len(m) > 120 || m[0] < 'A' || m[0] > 'Z' || !strings.HasSuffix(m, ".") ||
			strings.Contains(m, "ppp") || strings.Contains(m, "%!") || strings.Contains(m, "a observer") {
			t.Errorf("%s: message %q is not a short plain sentence", tc.cmd.Kind, m)
		}
	}
	// Authorize alone refuses removing oneself, before anything is done.
	if err := c.Authorize(live.Command{Kind: protocol.CmdRemove, By: "f", Participant: "f"}); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("removing oneself authorized: %v", err)
	}
}

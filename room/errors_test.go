package room_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

func TestErrorCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("outer: %w", err) }
	cases := []struct {
		err  error
		want room.Code
	}{
		{nil, ""},
		{&room.RefusedError{Code: room.CodeDenied, Message: "no"}, room.CodeDenied},
		{wrap(&room.RefusedError{Code: room.CodeNotOnRoster, Err: room.ErrInvalid}), room.CodeNotOnRoster},
		{wrap(room.ErrUnavailable), room.CodeUnavailable},
		{wrap(context.DeadlineExceeded), room.CodeUnavailable},
		{wrap(room.ErrTokenInvalid), room.CodeInvalidToken},
		{wrap(room.ErrTokenExpired), room.CodeTokenExpired},
		{wrap(room.ErrTokenNotYetValid), room.CodeTokenExpired},
		{wrap(room.ErrWrongRoom), room.CodeWrongRoom},
		{wrap(room.ErrForbidden), room.CodeForbidden},
		{wrap(room.ErrRoomFull), room.CodeRoomFull},
		{wrap(room.ErrBlocked), room.CodeBlocked},
		{wrap(room.ErrInvalid), room.CodeBadRequest},
		{wrap(room.ErrNotFound), room.CodeBadRequest},
		{errors.New("boom"), room.CodeInternal},
	}
	for _, c := range cases {
		if got := room.ErrorCode(c.err); got != c.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestControlsRefusePlainly: a refused command is a RefusedError with the
// protocol code and a sentence for the sender that quotes nothing it sent,
// and still matches ErrForbidden or ErrInvalid.
func TestControlsRefusePlainly(t *testing.T) {
	c, _ := group(t, room.Policy{})
	long := strings.Repeat("p", 1000)
	cases := []struct {
		cmd  room.Command
		code room.Code
	}{
		{room.Command{Kind: room.CmdMute, By: "m", Participant: "f", Media: room.MediaAudio, Muted: true}, room.CodeForbidden},
		{room.Command{Kind: room.CmdMute, By: "c", Participant: "f", Media: room.MediaAudio, Muted: true}, room.CodeForbidden},
		{room.Command{Kind: room.CmdRaiseHand, By: "o"}, room.CodeForbidden},
		{room.Command{Kind: room.CmdLowerHand, By: "m", Participant: "t"}, room.CodeForbidden},
		{room.Command{Kind: room.CmdGiveFloor, By: "f", Participant: long}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdGiveFloor, By: "f", Participant: "o"}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdStartAside, By: "f", Participant: "o"}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdMute, By: "f", Participant: "o", Media: room.MediaAudio, Muted: true}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdSkip, By: "f", Participant: long}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdSetTimer, By: "f", Seconds: -1}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdRemove, By: "f", Participant: "f"}, room.CodeBadRequest},
		{room.Command{Kind: room.CmdPass, By: long}, room.CodeForbidden},
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
	if err := c.Authorize(room.Command{Kind: room.CmdRemove, By: "f", Participant: "f"}); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("removing oneself authorized: %v", err)
	}
}

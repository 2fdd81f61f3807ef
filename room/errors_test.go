package room_test

import (
	"context"
	"errors"
	"fmt"
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

package signaling

import (
	"errors"
	"fmt"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// Stable protocol error codes (PROTOCOL.md). Room refusals use room.Code
// strings, which are the same words.
const (
	codeBadJSON     = "bad_json"
	codeUnknownType = "unknown_type"
	codeBadRequest  = "bad_request"
	codeBinary      = "binary_unsupported"
	codeTooLarge    = "too_large"
	codeBadSDP      = "bad_sdp"
	codeNotJoined   = "not_joined"
	codeAlready     = "already_joined"
	codeForbidden   = "forbidden"
	codeRateLimited = "rate_limited"
	codeVersion     = "version"
	codeInternal    = "internal"
)

// protoError is an error that goes back to the client as an error message.
type protoError struct {
	code    string
	message string
	// close: the connection ends after the error is sent.
	close bool
}

func (e *protoError) Error() string { return e.code + ": " + e.message }

func perr(code, format string, args ...any) *protoError {
	return &protoError{code: code, message: fmt.Sprintf(format, args...)}
}

// fatal reports whether a refusal of a join ends the connection: the
// client cannot go on on this socket. In answer to anything else no
// refusal is fatal: whoever sent it keeps their seat (or their place in
// the waiting room), whatever the store says.
func fatal(c room.Code) bool {
	switch c {
	case room.CodeInvalidToken, room.CodeTokenExpired, room.CodeWrongRoom, room.CodeNotOnRoster,
		room.CodeBlocked, room.CodeBadPasscode, room.CodeRoomFull, room.CodeRoomLocked,
		room.CodeDenied, room.CodeUnavailable:
		return true
	}
	return false
}

// toProto maps any handler error to what the client is told in answer to
// a message of type typ. It is the one place where error kinds become
// protocol codes.
func toProto(err error, typ string) *protoError {
	var pe *protoError
	if errors.As(err, &pe) {
		return pe
	}
	switch {
	case errors.Is(err, sfu.ErrBadSDP), errors.Is(err, sfu.ErrUnexpectedAnswer):
		return &protoError{code: codeBadSDP, message: err.Error()}
	case errors.Is(err, sfu.ErrBadCandidate):
		return &protoError{code: codeBadRequest, message: err.Error()}
	}
	code := room.ErrorCode(err)
	msg := err.Error()
	var re *room.RefusedError
	if errors.As(err, &re) && re.Message != "" {
		msg = re.Message
	}
	if code == room.CodeUnavailable {
		msg = "the service is temporarily unavailable, please try again shortly"
	}
	if code == room.CodeInternal {
		return &protoError{code: codeInternal, message: "internal error"}
	}
	return &protoError{code: string(code), message: msg, close: typ == "join" && fatal(code)}
}

// closeCodeFor picks the websocket close code for a fatal protocol error.
func closeCodeFor(code string) int {
	switch code {
	case codeTooLarge:
		return websocket.CloseMessageTooBig
	case string(room.CodeUnavailable):
		return websocket.CloseTryAgainLater
	case codeInternal:
		return websocket.CloseInternalServerErr
	}
	return websocket.ClosePolicyViolation
}

package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// protoError is an error that goes back to the client as an error message.
// Its message is a sentence for people: it names no Go type or library and
// quotes at most an excerpt of what the client sent.
type protoError struct {
	code    protocol.Code
	message string
	// close: the connection ends after the error is sent.
	close bool
}

func (e *protoError) Error() string { return string(e.code) + ": " + e.message }

func perr(code protocol.Code, format string, args ...any) *protoError {
	return &protoError{code: code, message: fmt.Sprintf(format, args...)}
}

// maxExcerpt bounds, in characters, what an error message quotes of a
// client's input.
const maxExcerpt = 64

// excerpt returns s cut to maxExcerpt characters, with an ellipsis when cut.
func excerpt(s string) string {
	if utf8.RuneCountInString(s) <= maxExcerpt {
		return s
	}
	n := 0
	for i := range s {
		if n == maxExcerpt {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// clip cuts s to at most n bytes without splitting a character, for
// machine-read fields such as an error's ref.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sentence makes msg read as a sentence: a capital first letter and a
// closing full stop.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	if r, n := utf8.DecodeRuneInString(msg); unicode.IsLower(r) {
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") && !strings.HasSuffix(msg, "!") {
		msg += "."
	}
	return msg
}

// fatal reports whether a refusal of a join ends the connection: the
// client cannot go on on this socket. In answer to anything else no
// refusal is fatal: whoever sent it keeps their seat (or their place in
// the waiting room), whatever the store says.
func fatal(c room.Code) bool {
	switch c {
	case room.CodeInvalidToken, room.CodeTokenExpired, room.CodeWrongRoom, room.CodeNotOnRoster,
		room.CodeBlocked, room.CodeBadPasscode, room.CodeRoomFull, room.CodeRoomLocked,
		room.CodeDenied, room.CodeUnavailable, room.CodeOutsideSession:
		return true
	}
	return false
}

// roomMessages say a room code plainly when the error carries no message
// of its own.
func roomMessage(c room.Code) string {
	switch c {
	case room.CodeBadRequest:
		return "That request does not fit the session just now, so nothing changed."
	case room.CodeForbidden:
		return "Your role does not allow this."
	case room.CodeInvalidToken:
		return "The invitation is not valid."
	case room.CodeTokenExpired:
		return "The invitation has expired or is not valid yet."
	case room.CodeWrongRoom:
		return "The invitation is for another room."
	case room.CodeNotOnRoster:
		return "This room is by personal invitation only."
	case room.CodeBlocked:
		return "You were removed from this session."
	case room.CodeBadPasscode:
		return "The passcode is wrong or missing."
	case room.CodeRoomFull:
		return "The room is full."
	case room.CodeRoomLocked:
		return "The room is locked."
	case room.CodeDenied:
		return "The facilitator did not admit you to this session."
	case room.CodeUnavailable:
		return "The server could not do this just now; please try again shortly."
	case room.CodeOutsideSession:
		return "This group meets at set times; the invitation works from shortly before each session to its end."
	}
	return "Something went wrong on the server."
}

// toProto maps any handler error to what the client is told in answer to
// a message of type typ. It is the one place where error kinds become
// protocol codes; no error's own text reaches the client unless it was
// written for people (protoError, room.RefusedError).
func toProto(err error, typ string) *protoError {
	var pe *protoError
	if errors.As(err, &pe) {
		return pe
	}
	switch {
	case errors.Is(err, sfu.ErrUnexpectedAnswer):
		return perr(protocol.CodeBadSDP, "There is no offer waiting for an answer.")
	case errors.Is(err, sfu.ErrBadSDP):
		return perr(protocol.CodeBadSDP, "The session description could not be used, so nothing changed.")
	case errors.Is(err, sfu.ErrUnknownSection):
		return perr(protocol.CodeBadCandidate, "The network candidate names a media section this connection does not have.")
	case errors.Is(err, sfu.ErrBadCandidate):
		return perr(protocol.CodeBadCandidate, "The network candidate could not be used.")
	case errors.Is(err, live.ErrNotSeated):
		return perr(protocol.CodeNotJoined, "Join the session first.")
	case errors.Is(err, live.ErrWaiting):
		return perr(protocol.CodeWaiting, "You are in the waiting room; a facilitator will let you in.")
	case errors.Is(err, live.ErrNotHeld):
		return errResumeFailed()
	case errors.Is(err, live.ErrChatTooFast):
		return perr(protocol.CodeRateLimited, "You are sending messages faster than the chat allows; wait a moment and send it again.")
	case errors.Is(err, live.ErrClosed):
		return &protoError{code: protocol.CodeUnavailable, message: roomMessage(room.CodeUnavailable), close: typ == "join"}
	}
	code := room.ErrorCode(err)
	if code == room.CodeInternal {
		return &protoError{code: protocol.CodeInternal, message: roomMessage(code)}
	}
	msg := roomMessage(code)
	var re *room.RefusedError
	if errors.As(err, &re) && re.Message != "" && code != room.CodeUnavailable {
		msg = re.Message
	}
	return &protoError{code: protocol.Code(code), message: msg, close: typ == "join" && fatal(code)}
}

func errResumeFailed() *protoError {
	return perr(protocol.CodeResumeFailed, "That seat is no longer held; join again.")
}

// decodeError says plainly what was wrong with a message's fields.
func decodeError(err error) *protoError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		field := excerpt(te.Field[strings.LastIndexByte(te.Field, '.')+1:])
		want := kindOf(te.Type)
		if want == "a number" && strings.HasPrefix(te.Value, "number") {
			return perr(protocol.CodeBadRequest, "The %q field is out of range.", field)
		}
		return perr(protocol.CodeBadRequest, "The %q field should be %s.", field, want)
	}
	return perr(protocol.CodeBadRequest, "That message could not be read.")
}

// kindOf names what a JSON value of Go type t looks like.
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}

// closeCodeFor picks the websocket close code for a fatal protocol error.
func closeCodeFor(code protocol.Code) int {
	switch code {
	case protocol.CodeTooLarge:
		return websocket.CloseMessageTooBig
	case protocol.CodeUnavailable:
		return websocket.CloseTryAgainLater
	case protocol.CodeInternal:
		return websocket.CloseInternalServerErr
	}
	return websocket.ClosePolicyViolation
}

package room

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Implementations wrap them with %w, so test with errors.Is.
var (
	// ErrNotFound: no such room configuration, participant or session.
	ErrNotFound = errors.New("room: not found")
	// ErrExists: a room (or participant id) with that name already exists.
	ErrExists = errors.New("room: already exists")
	// ErrRoomFull: the capacity (or the waiting-room limit) is reached.
	ErrRoomFull = errors.New("room: full")
	// ErrBlocked: the identity was removed and blocked for this session.
	ErrBlocked = errors.New("room: identity blocked")
	// ErrIdentityPresent: the identity already has a presence in the
	// session (one seat per person); the caller takes that one over.
	ErrIdentityPresent = errors.New("room: identity already present")
	// ErrUnavailable: the store cannot be reached; the caller should report
	// a temporary failure ("unavailable") rather than a refusal.
	ErrUnavailable = errors.New("room: store unavailable")
	// ErrInvalid: a configuration or request field is invalid.
	ErrInvalid = errors.New("room: invalid")
	// ErrForbidden: the caller's role does not allow the action.
	ErrForbidden = errors.New("room: forbidden")

	// ErrTokenInvalid: bad signature, malformed token, unexpected algorithm
	// (including "none") or missing/invalid claims.
	ErrTokenInvalid = errors.New("room: invalid token")
	// ErrTokenExpired: the token's exp has passed.
	ErrTokenExpired = errors.New("room: token expired")
	// ErrTokenNotYetValid: the token's nbf (or iat) is in the future.
	ErrTokenNotYetValid = errors.New("room: token not yet valid")
	// ErrWrongRoom: the token was issued for another room.
	ErrWrongRoom = errors.New("room: token is for another room")
)

// Code is a stable, machine-readable refusal or error code. The values are
// the error codes of the signaling protocol (signaling/PROTOCOL.md).
type Code string

const (
	CodeBadRequest   Code = "bad_request"
	CodeForbidden    Code = "forbidden"
	CodeInvalidToken Code = "invalid_token"
	// CodeTokenExpired covers both an expired and a not-yet-valid token, as
	// the protocol does.
	CodeTokenExpired Code = "token_expired"
	CodeWrongRoom    Code = "wrong_room"
	CodeNotOnRoster  Code = "not_on_roster"
	CodeBlocked      Code = "blocked"
	CodeBadPasscode  Code = "bad_passcode"
	CodeRoomFull     Code = "room_full"
	CodeRoomLocked   Code = "room_locked"
	// CodeOutsideSession: a closed cohort's invitation used outside the
	// window around a session; the message says when the next one is.
	CodeOutsideSession Code = "outside_session"
	CodeDenied         Code = "denied"
	CodeUnavailable    Code = "unavailable"
	CodeInternal       Code = "internal"
)

// RefusedError is a refusal with a message for the person refused: Service.Join
// returns one when the arrival is refused, Controls when a command is
// (bad_request, forbidden). Its Code is the protocol error code to send.
type RefusedError struct {
	Code    Code
	Message string // a sentence for people, quoting nothing they sent
	Err     error  // underlying cause, if any
}

func (e *RefusedError) Error() string {
	if e.Err != nil {
		return "room: refused (" + string(e.Code) + "): " + e.Message + ": " + e.Err.Error()
	}
	return "room: refused (" + string(e.Code) + "): " + e.Message
}

func (e *RefusedError) Unwrap() error { return e.Err }

// Refuse is a refusal with a code, a sentence for the person and the cause.
func Refuse(code Code, msg string, err error) *RefusedError {
	return &RefusedError{Code: code, Message: msg, Err: err}
}

// ErrorCode maps any error returned by this package to a protocol code from
// signaling/PROTOCOL.md, so the signaling layer needs one call. nil maps to
// "".
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var re *RefusedError
	switch {
	case errors.As(err, &re):
		return re.Code
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return CodeUnavailable
	case errors.Is(err, ErrTokenExpired), errors.Is(err, ErrTokenNotYetValid):
		return CodeTokenExpired
	case errors.Is(err, ErrTokenInvalid):
		return CodeInvalidToken
	case errors.Is(err, ErrWrongRoom):
		return CodeWrongRoom
	case errors.Is(err, ErrForbidden):
		return CodeForbidden
	case errors.Is(err, ErrRoomFull):
		return CodeRoomFull
	case errors.Is(err, ErrBlocked):
		return CodeBlocked
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotFound):
		// Not found here means a command named someone who is not there
		// (e.g. admit of a participant no longer waiting).
		return CodeBadRequest
	}
	return CodeInternal
}

var errInvalidRoom = errf("room name must be 1-%d characters of A-Z a-z 0-9 . _ -", MaxNameLen)

// errf builds an error wrapping ErrInvalid.
func errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// CheckRoomName returns an error wrapping ErrInvalid unless ValidRoomName.
func CheckRoomName(name string) error {
	if !ValidRoomName(name) {
		return errInvalidRoom
	}
	return nil
}

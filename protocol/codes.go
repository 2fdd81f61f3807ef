package protocol

// Code is a stable error code, sent in error messages and as the reason a
// connection is refused (PROTOCOL.md, "Errors"). A room's refusals (package
// room's Code) are the same words.
type Code string

// Codes of the messages themselves and of the connection.
const (
	CodeBadJSON       Code = "bad_json"
	CodeUnknownType   Code = "unknown_type"
	CodeBadRequest    Code = "bad_request"
	CodeBinary        Code = "binary_unsupported"
	CodeTooLarge      Code = "too_large"
	CodeBadSDP        Code = "bad_sdp"
	CodeBadCandidate  Code = "bad_candidate"
	CodeNotJoined     Code = "not_joined"
	CodeWaiting       Code = "waiting"
	CodeAlreadyJoined Code = "already_joined"
	CodeForbidden     Code = "forbidden"
	CodeRateLimited   Code = "rate_limited"
	CodeVersion       Code = "version"
	CodeInternal      Code = "internal"
	CodeResumeFailed  Code = "resume_failed"
	CodeTooManyTracks Code = "too_many_tracks"
	CodeJoinTimeout   Code = "join_timeout"
	CodeTooManyConns  Code = "too_many_connections"
	CodeServerBusy    Code = "server_busy"
)

// Codes of a room's refusals (package room).
const (
	CodeInvalidToken Code = "invalid_token"
	CodeTokenExpired Code = "token_expired"
	CodeWrongRoom    Code = "wrong_room"
	CodeNotOnRoster  Code = "not_on_roster"
	CodeBlocked      Code = "blocked"
	CodeBadPasscode  Code = "bad_passcode"
	CodeRoomFull     Code = "room_full"
	CodeRoomLocked   Code = "room_locked"
	CodeDenied       Code = "denied"
	CodeUnavailable  Code = "unavailable"

	CodeOutsideSession Code = "outside_session"
)

// Codes lists every code.
func Codes() []Code {
	return []Code{CodeBadJSON, CodeUnknownType, CodeBadRequest, CodeBinary, CodeTooLarge, CodeBadSDP,
		CodeBadCandidate, CodeNotJoined, CodeWaiting, CodeAlreadyJoined, CodeForbidden, CodeRateLimited,
		CodeVersion, CodeInternal, CodeResumeFailed, CodeTooManyTracks, CodeJoinTimeout, CodeTooManyConns,
		CodeServerBusy, CodeInvalidToken, CodeTokenExpired, CodeWrongRoom, CodeNotOnRoster, CodeBlocked,
		CodeBadPasscode, CodeRoomFull, CodeRoomLocked, CodeDenied, CodeUnavailable, CodeOutsideSession, CodeAgreementChanged}
}

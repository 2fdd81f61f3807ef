package live

import "github.com/hearth-rtc/hearth/room"

// errInvalid and errForbidden are the controls' refusals: they wrap
// room.ErrInvalid and room.ErrForbidden, with a sentence for the sender.
func errInvalid(msg string) error { return room.Refuse(room.CodeBadRequest, msg, room.ErrInvalid) }

func errForbidden(msg string) error { return room.Refuse(room.CodeForbidden, msg, room.ErrForbidden) }

// errNotHere refuses a command naming someone who is not seated.
func errNotHere() error { return errInvalid("That participant is not in the session.") }

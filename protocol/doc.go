// Package protocol is Hearth's signaling protocol as Go types: every
// message a client or the server sends (signaling/PROTOCOL.md), every error
// code, and the vocabulary of the facilitator controls (room state,
// commands, media kinds). The server dispatches on ClientMessages, and the
// Go client and the load tool speak it; signaling's tests keep PROTOCOL.md in
// step with these types.
package protocol

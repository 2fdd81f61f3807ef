package sfu

import "errors"

var (
	// ErrClosed: the peer or router has been closed.
	ErrClosed = errors.New("sfu: closed")
	// ErrBadSDP: a session description could not be parsed or applied.
	ErrBadSDP = errors.New("sfu: bad session description")
	// ErrUnexpectedAnswer: an answer arrived while no offer was outstanding.
	ErrUnexpectedAnswer = errors.New("sfu: answer without an outstanding offer")
	// ErrBadCandidate: an ICE candidate could not be added.
	ErrBadCandidate = errors.New("sfu: bad ICE candidate")
	// ErrUnknownSection: a candidate's sdpMid (or sdpMLineIndex) names no
	// media section of the connection.
	ErrUnknownSection = errors.New("sfu: candidate for an unknown media section")
	// ErrDuplicatePeer: a peer with that id is already in the router.
	ErrDuplicatePeer = errors.New("sfu: duplicate peer id")
	// ErrNotAllowed: the peer may not publish that kind of track.
	ErrNotAllowed = errors.New("sfu: not allowed to publish this kind")
	// ErrTooManyTracks: the peer already publishes its maximum of tracks.
	ErrTooManyTracks = errors.New("sfu: too many tracks")
)

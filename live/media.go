package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/pion/webrtc/v4"
)

// Room's media messages from a seated person: their own mute, which the
// gate enforces, and the negotiation of their peer connection.

// SelfMute records the sender's own mute of its audio or video: the gate
// then forwards nothing of that kind, even if the client keeps sending,
// and everyone sees the participant updated.
func (r *Room) SelfMute(id string, from Conn, kind protocol.MediaKind, muted bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, err := r.senderLocked(id, from)
	if err != nil {
		return err
	}
	perm := room.PermPublishAudio
	if kind == protocol.MediaVideo {
		perm = room.PermPublishVideo
	}
	if !x.p.Role.Can(perm) {
		return room.Refuse(room.CodeForbidden, "Your role does not send "+string(kind)+", so there is nothing to mute.", room.ErrForbidden)
	}
	if r.ctl != nil {
		before := r.ctl.Version()
		r.ctl.SetSelfMute(id, kind, muted)
		r.changedLocked(before)
	}
	r.broadcastLocked(protocol.ParticipantEvent{Type: "participant_updated",
		Participant: x.info(r.selfMutedLocked(id), r.router.Tracks())}, "")
	return nil
}

// peerOf returns the sender's peer connection; ErrNotSeated until it
// exists.
func (r *Room) peerOf(id string, from Conn) (peerConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, err := r.senderLocked(id, from)
	if err != nil {
		return nil, err
	}
	if x.peer == nil {
		return nil, ErrNotSeated
	}
	return x.peer, nil
}

// Offer hands the client's offer to its peer connection; ignored reports
// an offer dropped in a collision with the server's own.
func (r *Room) Offer(id string, from Conn, sdp string) (ignored bool, err error) {
	peer, err := r.peerOf(id, from)
	if err != nil {
		return false, err
	}
	return peer.HandleOffer(sdp)
}

// Answer hands the client's answer to its peer connection.
func (r *Room) Answer(id string, from Conn, sdp string) error {
	peer, err := r.peerOf(id, from)
	if err != nil {
		return err
	}
	return peer.HandleAnswer(sdp)
}

// Candidate hands a trickled ICE candidate to the peer connection.
func (r *Room) Candidate(id string, from Conn, c webrtc.ICECandidateInit) error {
	peer, err := r.peerOf(id, from)
	if err != nil {
		return err
	}
	return peer.AddICECandidate(c)
}

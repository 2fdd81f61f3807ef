package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// Room's seating: a person waits or takes a seat (joined snapshot, the
// others told, the controls, the gate, then the peer connection and its
// first offer), and what a newly seated person is sent.

// handover says how a person came by their seat.
type handover int

const (
	arrival   handover = iota // a new seat
	resumed                   // the same client, back on a new connection
	takenOver                 // the same person, from another window or device
	// yieldedBack: the same client, back with its resume secret from a
	// node that gave the room up (yield_room.go): resumed for it, on a new
	// peer connection; an arrival for the others, who never saw it here.
	yieldedBack
)

// wait tells a person who arrived in the waiting room why, in which room
// (as info describes it) and whether a facilitator is here, and the
// admitters who is waiting.
func (r *Room) wait(ctx context.Context, x *person, info room.Info) {
	r.mu.Lock()
	p := x.p
	r.info = info
	if r.people[p.ID] == x {
		x.conn.Send(r.waitingMsgLocked(x))
	}
	r.mu.Unlock()
	r.log.Info("waiting", "participant", p.ID, "identity", p.Identity, "reason", p.Reason)
	r.sendWaitingList(ctx)
	r.sendRoll(ctx)
}

// seat seats a person who arrived or waited: the joined snapshot and the
// others told, the controls (which apply the join-muted policy) and the
// gate, and only then the peer connection, so that its first
// subscriptions already obey the person's mutes. It runs for a direct join
// and for an admission (then on the admitting facilitator's goroutine).
func (r *Room) seat(ctx context.Context, x *person, info room.Info) error {
	r.mu.Lock()
	if r.people[x.p.ID] != x || x.state != room.StateWaiting {
		r.mu.Unlock()
		return nil // left, or seated meanwhile
	}
	p := x.p
	x.relay = newRelay(x.conn)
	h := r.announceLocked(x, info, arrival, false)
	r.seatControlsLocked(x, info)
	params := r.peerParams(x)
	r.mu.Unlock()

	r.releaseHeld(ctx, x, h)
	if err := r.connectPeer(x, params); err != nil {
		return err
	}
	r.log.Info("joined", "participant", p.ID, "identity", p.Identity, "role", p.Role)
	if p.Role.Can(room.PermAdmit) {
		r.sendWaitingListTo(ctx, x)
	}
	r.sendRoll(ctx)
	return nil
}

// connectPeer makes x's peer connection, which sends its first offer, and
// keeps it unless x left (or got another one) meanwhile.
func (r *Room) connectPeer(x *person, params sfu.PeerParams) error {
	peer, err := r.addPeer(x, params)
	if err != nil {
		return fmt.Errorf("peer connection of %s: %w", params.ID, err)
	}
	r.mu.Lock()
	if r.people[params.ID] != x || x.peer != nil {
		r.mu.Unlock()
		peer.Close()
		return nil
	}
	// A new peer connection's sound is judged afresh, both ways.
	x.peer, x.sendPoor, x.hearPoor = peer, false, false
	r.applyLayoutLocked(x, nil)
	rank(&r.media, r.ctl, r.people, r.active, x)
	r.mu.Unlock()
	return nil
}

// announceLocked makes x active and sends it the room as it is now
// (joined, with a fresh resume secret), and tells the others:
// participant_joined for an arrival, participant_updated for a seat that
// moved. newPeer says a resumed seat gets a new peer connection. Under
// mu, so each event reaches x either in the snapshot or after it, never
// before. A seat that moved publishes the state, so that its new resume
// key is mirrored (an arrival's seating publishes it). x's connection
// holds all that back until the caller, outside mu, has the key written
// (releaseHeld).
func (r *Room) announceLocked(x *person, info room.Info, how handover, newPeer bool) *heldConn {
	h := r.holdLocked(x)
	tracks := r.router.Tracks()
	others := make([]protocol.Participant, 0, len(r.people))
	for id, o := range r.people {
		if o != x && o.seated() {
			others = append(others, o.info(r.selfMutedLocked(id), tracks))
		}
	}
	slices.SortFunc(others, func(a, b protocol.Participant) int { return strings.Compare(a.ID, b.ID) })
	x.state = room.StateActive
	r.info = info
	r.tellWaitingLocked()
	p := x.p
	secret, key := newResumeSecret()
	x.key = key
	x.conn.Send(protocol.Joined{
		Type: "joined", Version: protocol.Version, Room: info,
		Self:         protocol.Self{ID: p.ID, Identity: p.Identity, Name: p.Name, Role: p.Role},
		Participants: others,
		ICEServers:   r.cfg.iceServersFor(p.ID),
		Resume:       secret,
		Resumed:      how == resumed || how == yieldedBack,
		NewPeer:      how == resumed && newPeer || how == yieldedBack,
	})
	me := protocol.ParticipantEvent{Type: "participant_joined", Participant: x.info(r.selfMutedLocked(p.ID), nil)}
	if how != arrival && how != yieldedBack {
		me = protocol.ParticipantEvent{Type: "participant_updated", Participant: x.info(r.selfMutedLocked(p.ID), tracks)}
	}
	r.broadcastLocked(me, p.ID)
	if how != arrival && how != yieldedBack && r.ctl != nil {
		r.ctl.Touch()
		r.publishLocked()
	}
	return h
}

// seatControlsLocked puts x in the controls and publishes the gate and the
// state; it also sends x who is speaking and, to a facilitator, the talk
// time so far. The first seat creates the controls and starts the ticker.
func (r *Room) seatControlsLocked(x *person, info room.Info) {
	if r.ctl == nil || r.ctl.Ended() {
		r.ctl = NewControls(ControlsConfig{Policy: protocol.Policy{JoinMuted: info.MembersJoinMuted, ShareEnd: info.ShareEnd},
			Version: r.version})
		r.active, r.talk = "", nil
	}
	r.ctl.SetPeerLed(info.PeerLed)
	r.startTickerLocked()
	r.ctl.Seat(x.p)
	r.publishLocked()
	r.sendSpeakersLocked(x)
}

// resyncLocked sends a person whose seat moved (announceLocked published
// the state) who is speaking and the talk time.
func (r *Room) resyncLocked(x *person) {
	if r.ctl == nil {
		return
	}
	r.sendSpeakersLocked(x)
}

// sendSpeakersLocked sends x who is speaking and, to a facilitator, the
// talk time so far.
func (r *Room) sendSpeakersLocked(x *person) {
	if r.active != "" {
		a := r.active
		x.conn.Send(protocol.ActiveSpeaker{Type: "active_speaker", Participant: &a})
	}
	if x.p.Role.Can(room.PermModerate) {
		x.conn.Send(protocol.TalkTimeMsg{Type: "talk_time", Entries: r.ctl.TalkTime()})
	}
}

// peerParams describes x's media connection to the SFU: what its role may
// publish, and its relay as the signaler. Under mu.
func (r *Room) peerParams(x *person) sfu.PeerParams {
	role, rl := x.p.Role, x.relay
	return sfu.PeerParams{
		ID:       x.p.ID,
		Signaler: rl,
		CanPublish: func(k sfu.Kind) bool {
			if k == sfu.KindVideo {
				return role.Can(room.PermPublishVideo)
			}
			return role.Can(room.PermPublishAudio)
		},
		OnRefusedTrack: func(k sfu.Kind, err error) {
			if errors.Is(err, sfu.ErrTooManyTracks) {
				rl.send(protocol.Error{Type: "error", Code: protocol.CodeTooManyTracks,
					Message: fmt.Sprintf("At most %d tracks may be published at once; this %s track is not sent to anyone.", sfu.DefaultMaxTracks, k)})
				return
			}
			rl.send(protocol.Error{Type: "error", Code: protocol.CodeForbidden,
				Message: fmt.Sprintf("Your role does not allow publishing %s.", k)})
		},
	}
}

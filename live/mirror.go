package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The controls as a mirror: what a node that takes a room over needs to
// carry the session on (seats with their roles and mutes, the hand queue,
// the floor and its timer, a go-around round, the facilitator role
// handed, the screen-share permissions, the aside and the side room). Talk
// time starts again, and a screen share ends with its sharer's media.

// mirrorFormat is the mirror's format; a mirror of another format is not
// restored.
const mirrorFormat = 1

type mirrorState struct {
	Format  int                       `json:"format"`
	Version uint64                    `json:"version"`
	Ended   bool                      `json:"ended,omitempty"`
	Seq     uint64                    `json:"seq"`
	Policy  protocol.Policy           `json:"policy"`
	Seats   []mirrorSeat              `json:"seats"`
	Sticky  map[string]protocol.Media `json:"sticky,omitempty"`
	Hands   []protocol.Hand           `json:"hands,omitempty"`
	Floor   mirrorFloor               `json:"floor"`
	Round   *mirrorRound              `json:"round,omitempty"`
	Handed  *[2]string                `json:"handed,omitempty"` // to, by
	Aside   *[2]string                `json:"aside,omitempty"`  // host, member
	Side    []string                  `json:"side,omitempty"`   // host, then members
	Screen  []string                  `json:"screen,omitempty"` // members allowed to share
}

type mirrorSeat struct {
	ID        string         `json:"id"`
	Role      room.Role      `json:"role"`
	Own       room.Role      `json:"own"`
	Seq       uint64         `json:"seq"`
	Self      protocol.Media `json:"self"`
	Enforced  protocol.Media `json:"enforced"`
	Requested protocol.Media `json:"requested"`
	// Key is the hash of the seat's resume secret (resumekey.go), which
	// the room keeps beside the controls.
	Key string `json:"key,omitempty"`
}

type mirrorFloor struct {
	Mode     protocol.FloorMode `json:"mode"`
	Holder   string             `json:"holder,omitempty"`
	Seconds  int                `json:"seconds,omitempty"`
	Extra    int                `json:"extra,omitempty"`
	Deadline time.Time          `json:"deadline,omitzero"`
	Up       bool               `json:"up,omitempty"`
}

type mirrorRound struct {
	Order   protocol.RoundOrder `json:"order"`
	Seconds int                 `json:"seconds"`
	Turns   []protocol.Turn     `json:"turns"`
	Current int                 `json:"current"`
}

// Mirror encodes the controls for a node that takes the room over
// (RestoreControls), with each seat's resume key from keys (by
// participant id).
func (c *Controls) Mirror(keys map[string]string) []byte {
	m := mirrorState{Format: mirrorFormat, Version: c.version, Ended: c.ended, Seq: c.seq, Policy: c.policy,
		Seats: []mirrorSeat{}, Sticky: c.sticky, Hands: c.hands,
		Floor: mirrorFloor{Mode: c.floor.mode, Holder: c.floor.holder, Seconds: c.floor.seconds, Extra: c.floor.extra,
			Deadline: c.floor.deadline, Up: c.floor.up}}
	for _, s := range c.participants() {
		m.Seats = append(m.Seats, mirrorSeat{ID: s.p.ID, Role: s.p.Role, Own: s.own, Seq: s.seq, Self: s.self,
			Enforced: s.enforced, Requested: s.requested, Key: keys[s.p.ID]})
	}
	if r := c.round; r != nil {
		m.Round = &mirrorRound{Order: r.order, Seconds: r.seconds, Turns: r.turns, Current: r.current}
	}
	if c.handed != nil {
		m.Handed = &[2]string{c.handed.to, c.handed.by}
	}
	if c.aside != nil {
		m.Aside = &[2]string{c.aside.host, c.aside.member}
	}
	if c.side != nil {
		m.Side = append([]string{c.side.host}, c.side.members...)
	}
	for id := range c.screen.allowed {
		m.Screen = append(m.Screen, id)
	}
	slices.Sort(m.Screen)
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("live: encode the controls: %v", err)) // plain data: cannot fail
	}
	return b
}

// errMirror: a mirror that cannot be restored.
var errMirror = errors.New("live: mirror not restorable")

// mirrorSeats returns the participant ids a mirror seats, in join order,
// and their resume keys by id.
func mirrorSeats(data []byte) ([]string, map[string]string, error) {
	m, err := decodeMirror(data)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(m.Seats))
	keys := make(map[string]string, len(m.Seats))
	for _, s := range m.Seats {
		ids = append(ids, s.ID)
		keys[s.ID] = s.Key
	}
	return ids, keys, nil
}

func decodeMirror(data []byte) (mirrorState, error) {
	var m mirrorState
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: %w", errMirror, err)
	}
	if m.Format != mirrorFormat {
		return m, fmt.Errorf("%w: format %d", errMirror, m.Format)
	}
	if m.Ended {
		return m, fmt.Errorf("%w: the session ended", errMirror)
	}
	return m, nil
}

// RestoreControls rebuilds the controls a mirror describes, with the
// seats of seated (participants still present, by id: the store's
// record, whose role the mirror's replaces while a role is handed) and
// without the others, who leave the hand queue, the floor, the round,
// the aside and the side room as if they had left. The version goes on
// from the mirror's. cfg's Policy and Version are the mirror's.
func RestoreControls(data []byte, cfg ControlsConfig, seated map[string]room.Participant) (*Controls, error) {
	m, err := decodeMirror(data)
	if err != nil {
		return nil, err
	}
	cfg.Policy, cfg.Version = m.Policy, m.Version
	c := NewControls(cfg)
	c.seq = m.Seq
	for _, ms := range m.Seats {
		p, ok := seated[ms.ID]
		if !ok || !ms.Role.Valid() || !ms.Own.Valid() {
			continue
		}
		p.Role = ms.Role
		c.parts[ms.ID] = &seat{p: p, own: ms.Own, seq: ms.Seq, self: ms.Self, enforced: ms.Enforced, requested: ms.Requested}
	}
	for identity, media := range m.Sticky {
		c.sticky[identity] = media
	}
	c.hands = slices.DeleteFunc(slices.Clone(m.Hands), func(h protocol.Hand) bool { return c.parts[h.Participant] == nil })
	c.floor = floor{mode: m.Floor.Mode, holder: m.Floor.Holder, seconds: m.Floor.Seconds, extra: m.Floor.Extra,
		deadline: m.Floor.Deadline, up: m.Floor.Up}
	if c.floor.mode != protocol.FloorModerated {
		c.floor.mode = protocol.FloorOpen
	}
	if r := m.Round; r != nil && r.Current < len(r.Turns) {
		c.round = &round{order: r.Order, seconds: r.Seconds, turns: slices.Clone(r.Turns), current: r.Current}
	}
	if h := m.Handed; h != nil && c.parts[h[0]] != nil {
		c.handed = &handedRole{to: h[0], by: h[1]}
	}
	if a := m.Aside; a != nil && c.parts[a[0]] != nil && c.parts[a[1]] != nil {
		c.aside = &aside{host: a[0], member: a[1]}
	}
	if len(m.Side) > 1 && c.parts[m.Side[0]] != nil {
		c.side = &sideRoom{host: m.Side[0], members: slices.Clone(m.Side[1:])}
	}
	for _, id := range m.Screen {
		if c.parts[id] != nil {
			c.screen.allow(id, true)
		}
	}
	// Whoever did not come back leaves everything else as on leaving.
	for _, ms := range m.Seats {
		if c.parts[ms.ID] == nil {
			c.parts[ms.ID] = &seat{p: room.Participant{ID: ms.ID}, own: ms.Own}
			c.drop(ms.ID)
		}
	}
	if c.floor.holder != "" && c.parts[c.floor.holder] == nil && c.round == nil {
		c.floor.clearHolder()
	}
	return c, nil
}

package membership

import (
	"context"
	"fmt"

	"github.com/hearth-rtc/hearth/room"
)

// The group agreement at the door: a room's agreement is accepted before
// its member enters (seated or waiting), once per series or at every
// session as the room says. Join answers JoinAgreement, with the text to
// accept, to anyone who has not; the person's client then joins again
// naming the version they accepted (JoinRequest.Agreement), which is
// recorded (with attendance) and lets them through. Facilitators and
// co-facilitators are not asked: they hold the group to the agreement
// and give it its text. A presence taken over (another window) or a held
// seat resumed is not asked again: the person already entered.

// AgreementAsk is the agreement a person is asked to accept at the door.
type AgreementAsk struct {
	Agreement room.Agreement
	// Version is the text's (room.Agreement.Version): the person accepts
	// by naming it.
	Version string
	// Changed: the person named another version, accepted while the text
	// was different; they are to read the text again.
	Changed bool
}

// atTheDoor decides whether an arrival with this identity and role is to
// accept cfg's agreement first, and returns what to ask if so. An arrival
// naming the current version has accepted it: that is recorded. It is
// called once the room's rules would let the person in or have them wait.
func (s *Service) atTheDoor(ctx context.Context, cfg room.RoomConfig, req JoinRequest, identity string, role room.Role) (*AgreementAsk, error) {
	ag := cfg.Agreement
	if ag == nil || role.IsFacilitator() {
		return nil, nil
	}
	now := s.now()
	version := ag.Version()
	switch req.Agreement {
	case version:
		acc := room.Acceptance{Identity: identity, Version: version, At: now.UTC()}
		if err := s.store.RecordAcceptance(ctx, cfg.Name, acc); err != nil {
			return nil, fmt.Errorf("accept agreement in %q: %w", cfg.Name, err)
		}
		s.log.InfoContext(ctx, "agreement accepted", "room", cfg.Name, "identity", identity, "version", version)
		return nil, nil
	case "":
		accs, err := s.acceptances(ctx, cfg, now)
		if err != nil {
			return nil, fmt.Errorf("join %q: %w", cfg.Name, err)
		}
		if _, ok := accs[identity]; ok {
			return nil, nil
		}
	}
	return &AgreementAsk{Agreement: *ag, Version: version, Changed: req.Agreement != ""}, nil
}

// Roll returns the room's roll now (room.BuildRoll): its roster, who is
// here or waiting, who is missing and who has accepted the agreement. It
// names people who are not present: it is for facilitators only. A room
// with neither a roster nor an agreement has an empty roll: nobody is
// expected and nothing is accepted.
func (s *Service) Roll(ctx context.Context, roomName string) (room.Roll, error) {
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return room.Roll{}, err
	}
	if len(cfg.Roster) == 0 && cfg.Agreement == nil {
		return room.Roll{}, nil
	}
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Roll{}, fmt.Errorf("roll of %q: %w", roomName, err)
	}
	accs := map[string]room.Acceptance{}
	if cfg.Agreement != nil {
		if accs, err = s.acceptances(ctx, cfg, s.now()); err != nil {
			return room.Roll{}, err
		}
	}
	return room.BuildRoll(cfg, sess, accs), nil
}

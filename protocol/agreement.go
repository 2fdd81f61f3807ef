package protocol

import "github.com/hearth-rtc/hearth/room"

// The group agreement at the door (PROTOCOL.md, "The group agreement"), and
// the facilitator's roll of who is here, missing and has accepted it.

// CodeAgreementChanged refuses an accept_agreement of a version that is
// no longer the room's: the text changed while the person read it.
const CodeAgreementChanged Code = "agreement_changed"

// Agreement asks a person at the door to accept the room's group
// agreement before they enter. Nothing else happens on the connection
// until they answer (accept_agreement or decline_agreement).
type Agreement struct {
	Type string    `json:"type"`
	Room room.Info `json:"room"`
	// Text is the agreement; Version names it, for accept_agreement.
	Text    string `json:"text"`
	Version string `json:"version"`
	// Every says how often it is asked: "series" (once) or "session".
	Every room.AcceptEvery `json:"every"`
	// Contact says how to reach the facilitator (may be empty).
	Contact string `json:"contact"`
	// Message is for the person.
	Message string `json:"message"`
}

// AcceptAgreement accepts the agreement of the version shown.
type AcceptAgreement struct {
	Type    string `json:"type"`
	Version string `json:"version"`
}

// DeclineAgreement declines it: the person does not enter.
type DeclineAgreement struct {
	Type string `json:"type"`
}

// AgreementDeclined answers decline_agreement, before the bye: the person
// has not entered, and how to reach the facilitator.
type AgreementDeclined struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Contact string `json:"contact"`
}

// RollEntry is one person on the roll: the roster's people and whoever is
// here. State is "present", "waiting" or "missing"; AcceptedAt (RFC 3339)
// is when they accepted the agreement, if that lets them in now.
type RollEntry struct {
	Identity    string    `json:"identity"`
	Name        string    `json:"name"`
	Role        room.Role `json:"role"`
	State       string    `json:"state"`
	Participant string    `json:"participant,omitempty"`
	AcceptedAt  string    `json:"acceptedAt,omitempty"`
}

// Roll is sent to facilitators and co-facilitators only, when they are
// seated and whenever someone arrives or leaves: who is expected, here,
// waiting or missing, and who has accepted the agreement. Agreement is
// how often the room asks ("series" or "session"), empty without one.
type Roll struct {
	Type      string           `json:"type"`
	Agreement room.AcceptEvery `json:"agreement"`
	People    []RollEntry      `json:"people"`
}

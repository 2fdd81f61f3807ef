// Package room is Hearth's domain rules: room configuration (open and
// closed rooms, rosters, passcodes, schedules, group agreements), roles and
// their permissions, join tokens, the admission decision (Decide), and
// attendance by session (BuildAttendance). It does no I/O: package
// membership keeps who is present, package live runs a room while people
// are in it, and both apply these rules. Refusals carry a Code from
// signaling/PROTOCOL.md and a sentence for the person (RefusedError).
//
// Documented defaults:
//
//   - An open room with no stored configuration is a drop-in room: it is
//     allowed, and behaves as DefaultRoomConfig (capacity DefaultCapacity, no
//     passcode, no knock, lock sends arrivals to the waiting room).
//   - A closed room only admits identities on its roster, with the roster role
//     (a token may lower it, never raise it). Until a facilitator or
//     co-facilitator is present, members wait with reason
//     waiting_for_facilitator; when one arrives, those already waiting are NOT
//     admitted automatically: a facilitator admits them (one or all). Later
//     arrivals enter directly unless the room uses knock admission.
//   - Facilitators and co-facilitators always get in: they bypass the lock,
//     the knock, the passcode and the capacity (a session must be able to
//     start even in a full room).
//   - Capacity counts seated participants (active and reconnecting); people
//     in the waiting room do not count.
//   - A closed room with a schedule is a closed cohort (cohort.go): its door
//     opens MemberLead (15 minutes) before each session's start,
//     FacilitatorLead (30 minutes) before for facilitators and
//     co-facilitators, and shuts at the session's end (outside_session);
//     its roster closes when the first session ends. An open room's schedule
//     only names its sessions (for attendance).
//   - A group agreement is accepted once per series unless the room asks at
//     every session; a changed text is accepted again.
package room

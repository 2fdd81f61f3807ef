// Package live runs a room while people are in it: the facilitator
// controls and turn-taking state machine (Controls), the media gate built
// from it for the SFU (an sfu.Gate), and talk time. Commands are authorized and applied here; the SFU
// is told who may receive whom, and never learns roles.
package live

// Files, each using only files listed before it (TestFileLayering keeps
// the graph acyclic):
//
//   - errors.go: the refusals.
//   - hands.go, floor.go, round.go, aside.go, talk.go: the state types
//     Controls holds, each with its own methods, knowing nothing of it.
//   - controls.go: Controls, seating, self mute, Tick and the floor and
//     round transitions the commands share.
//   - gate.go (the media rules and the gate), state.go (the snapshot),
//     talktime.go: what Controls reports.
//   - mute_commands.go, floor_commands.go, round_commands.go,
//     aside_commands.go: the commands.
//   - commands.go: Command, Authorize and Apply, which dispatches.

// Package live runs a room while people are in it on this node (Room, one
// per room, held by Rooms): its people keyed by participant id, seated or
// waiting, each with their peer connection and the connection they speak
// through (Conn); the facilitator controls and turn-taking state machine
// (Controls); the media gate built from it, which the room's SFU router
// evaluates (an sfu.Gate); and the ticker behind talk time and the active
// speaker. Every command is authorized and applied here; membership (Door)
// only writes what was decided. The SFU is told who may receive whom and
// never learns roles; clients are told what changed through their Conn.
package live

// Files, each using only files listed before it (TestFileLayering keeps
// the graph acyclic):
//
//   - errors.go: the refusals.
//   - hands.go, floor.go, round.go, aside.go, sideroom.go, handed.go,
//     talk.go, screen.go: the state types Controls holds, each with its
//     own methods, knowing nothing of it.
//   - chat.go: chat's rules (who writes to whom, the text, the pace, the
//     log of recent ids), knowing nothing of Controls or Room.
//   - controls.go: Controls, seating, self mute, Tick and the floor and
//     round transitions the commands share.
//   - gate.go (the media rules and the gate), state.go (the snapshot),
//     talktime.go, mirror.go (the controls written for another node, and
//     restored from that): what Controls reports.
//   - layout.go: a client's tiles as the most of each camera it receives
//     and the order in which cameras give way.
//   - mute_commands.go, floor_commands.go, round_commands.go,
//     aside_commands.go, timer_commands.go, screen_commands.go,
//     sideroom_commands.go, peerled_commands.go: the commands.
//   - commands.go: Command, Authorize and Apply, which dispatches.
//   - conn.go (Conn, Door: what the room needs of a connection and of
//     membership), heldconn.go (a connection holding back what it is
//     sent until a seat's resume key is stored), resumekey.go (a seat's resume secret and the hash
//     kept of it), person.go (one person's seat), config.go, sampler.go
//     (audio levels into talk samples), ranking.go (the order in which
//     each subscriber's cameras give way, given to the router).
//   - room.go: Room, its lock and the publication of a change (gate, then
//     room_state).
//   - waiting.go: what the people waiting are told; roll_room.go: the
//     facilitators' roll of who is here, missing and has accepted.
//   - mirror_room.go: the controls written to the store as they change.
//   - ticker.go, seating.go, leaving.go, media.go, moves.go (hold, resume,
//     take over), handover_room.go, restore_room.go (what another node
//     mirrored, carried on here with its seats held), yield_room.go (the
//     room given up to the node that holds it, and the seats given up
//     taken back there), commands_room.go,
//     chat_room.go (chat, delivered and forgotten), layout_room.go
//     (layouts and video layers): what a Room does.
//   - rooms.go: Rooms, the rooms of this node.

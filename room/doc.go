// Package room is Hearth's domain for rooms, roles and admission.
//
// It decides who may enter a room and with which role, and keeps track of who
// is present, through a small Store interface with two implementations: an
// in-memory one (NewMemStore, the default when no Redis is configured) and a
// Redis one (package room/redisstore). It holds no network or media code: the
// signaling layer calls Service and maps errors to protocol codes with
// ErrorCode.
//
// Documented defaults:
//
//   - An open room with no stored configuration is a drop-in room: it is
//     allowed, and behaves as DefaultRoomConfig (capacity DefaultCapacity, no
//     passcode, no knock, lock sends arrivals to the waiting room). Nothing is
//     written to the store for it.
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
//   - Lock state and blocked identities belong to the live session: they are
//     cleared when the last participant (active, waiting or reconnecting)
//     leaves or expires.
//   - Presence is kept alive by heartbeats: an entry not refreshed within the
//     store's TTL (default DefaultPresenceTTL) disappears, so participants of
//     a crashed process vanish within the TTL.
package room

// Package membership keeps who is in which room, and the room
// configurations, in a Store: in memory (NewMemStore, the default when no
// Redis is configured) or in Redis (package membership/redisstore); both
// pass the contract suite in membership/storetest. Service is the door:
// it verifies a join token, applies room.Decide against the stored session
// and records the presence atomically (one seat per identity), and it
// writes admissions, removals, blocks and the lock, which the live room
// (package live) authorized.
//
// While the store is unreachable, the node keeps its rooms running on what
// it knows and writes the changes once the store answers, attendance
// included; after an outage longer than the presence TTL it writes its
// rooms back (recovery.go, pending.go, pendingattendance.go).
//
// Documented defaults:
//
//   - Nothing is written to the store for a drop-in room's configuration.
//   - Lock state and blocked identities belong to the live session: they are
//     cleared when the last participant (active, waiting or reconnecting)
//     leaves or expires.
//   - Presence is kept alive by heartbeats: an entry not refreshed within the
//     store's TTL (default DefaultPresenceTTL) disappears, so participants of
//     a crashed process vanish within the TTL.
//   - Attendance (attendance.go) is metadata only: when each seat was taken
//     and let go, and when the group agreement was accepted. It is kept for
//     rooms with a stored configuration, for DefaultAttendanceRetention
//     (180 days) unless the store is told otherwise, and deleted with the
//     room. What happens during a store outage is kept on the node that
//     saw it (bounded) and written when the store answers
//     (pendingattendance.go); nobody loses a seat over it.
//   - A room's group agreement is accepted at the door (agreement.go) by
//     members and observers, not by facilitators and co-facilitators;
//     taking one's own presence over is not asked again.
package membership

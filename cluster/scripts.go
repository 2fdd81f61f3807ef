package cluster

import "github.com/redis/go-redis/v9"

// claimScript returns the owner of a room, claiming it when it has none
// (or its owner's record is gone) for the candidate with the lowest load
// score, whose score then grows by a room at once.
//
// KEYS[1] owner key, KEYS[2] load set; ARGV[1] lease in ms, ARGV[2] node
// record key prefix, ARGV[3] a room's weight, ARGV[4..] candidate ids.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and redis.call('EXISTS', ARGV[2] .. cur) == 1 then
  return cur
end
local best, bestScore
for i = 4, #ARGV do
  local s = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[i]) or 0)
  if best == nil or s < bestScore then
    best, bestScore = ARGV[i], s
  end
end
if best == nil then
  return false
end
redis.call('SET', KEYS[1], best, 'PX', ARGV[1])
redis.call('ZINCRBY', KEYS[2], ARGV[3], best)
return best
`)

// renewScript extends this node's lease on a room, or takes a lease that
// has lapsed; it returns 0 when another node holds the room.
//
// KEYS[1] owner key; ARGV[1] node id, ARGV[2] lease in ms.
var renewScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// releaseScript deletes a room's lease if this node holds it.
//
// KEYS[1] owner key; ARGV[1] node id.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

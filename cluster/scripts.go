package cluster

import "github.com/redis/go-redis/v9"

// claimScript returns the owner of a room, claiming it when it has none
// (or its owner's record is gone) for the candidate with the lowest load
// score, whose score then grows by a room at once; the room is pending on
// that node (P claimed:<id>, by claim time) until the node reports it
// live.
//
// KEYS[1] owner key, KEYS[2] load set; ARGV[1] lease in ms, ARGV[2] node
// record key prefix, ARGV[3] a room's weight, ARGV[4] the claimed-set
// prefix, ARGV[5] the room, ARGV[6..] candidate ids.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and redis.call('EXISTS', ARGV[2] .. cur) == 1 then
  return cur
end
local best, bestScore
for i = 6, #ARGV do
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
local t = redis.call('TIME')
redis.call('ZADD', ARGV[4] .. best, t[1] * 1000 + math.floor(t[2] / 1000), ARGV[5])
redis.call('PEXPIRE', ARGV[4] .. best, ARGV[1])
return best
`)

// ownerScript returns the record of a room's owner when its lease and
// the owner's record both exist (the room need not be claimed), or false:
// one round trip for the common case, a room already running.
//
// KEYS[1] owner key; ARGV[1] node record key prefix.
var ownerScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
  return false
end
return redis.call('GET', ARGV[1] .. cur)
`)

// refreshScript writes a node's record and its load score: what it
// reports, plus the rooms claimed for it that are not live there yet
// (claims older than a lease are dropped: those rooms never came).
//
// KEYS[1] node key, KEYS[2] node set, KEYS[3] load set, KEYS[4] the
// node's claimed set; ARGV[1] id, ARGV[2] record, ARGV[3] TTL in ms,
// ARGV[4] reported score, ARGV[5] a room's weight, ARGV[6] lease in ms,
// ARGV[7..] rooms live on the node.
var refreshScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[6]))
for i = 7, #ARGV do
  redis.call('ZREM', KEYS[4], ARGV[i])
end
local pending = redis.call('ZCARD', KEYS[4])
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]) + tonumber(ARGV[5]) * pending, ARGV[1])
return pending
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

// goneScript drops a room's lease and its owner's record when the owner's
// record still gives the URL that refused a connection (or is gone).
//
// KEYS[1] owner key; ARGV[1] node record key prefix, ARGV[2] the URL.
var goneScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
  return 0
end
local rec = redis.call('GET', ARGV[1] .. cur)
if rec then
  local ok, r = pcall(cjson.decode, rec)
  if not ok or r.url ~= ARGV[2] then
    return 0
  end
  redis.call('DEL', ARGV[1] .. cur)
end
redis.call('DEL', KEYS[1])
return 1
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

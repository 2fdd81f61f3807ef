package redisstore

import "github.com/redis/go-redis/v9"

// Session scripts all take the seven keys of one room's session:
//
//	KEYS[1] presence  hash  id -> participant JSON
//	KEYS[2] expiry    zset  id scored by expiry (ms, Redis clock)
//	KEYS[3] seated    set   ids active or reconnecting (capacity class)
//	KEYS[4] waiting   set   ids in the waiting room
//	KEYS[5] locked    string "1" while locked
//	KEYS[6] blocked   set   blocked identities
//	KEYS[7] mirror    hash  term, version, node, data: the controls mirrored;
//	                        y:<key> -> participant id: seats given up
//
// Times come from the Redis server's clock (TIME), so nodes with skewed
// clocks agree on expiry. Every script first drops expired entries; when
// nobody is left the session's keys are deleted (lock, blocks and mirror
// end with the session). Every write also sets a key lifetime of twice the TTL,
// refreshed by heartbeats, so rooms nobody reads again do not linger.
const sessionPrelude = `
local KP, KX, KS, KW, KL, KB, KM = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function purge(now)
  local dead = redis.call('ZRANGEBYSCORE', KX, '-inf', now)
  for _, id in ipairs(dead) do
    redis.call('ZREM', KX, id)
    redis.call('HDEL', KP, id)
    redis.call('SREM', KS, id)
    redis.call('SREM', KW, id)
  end
  if redis.call('HLEN', KP) == 0 then
    redis.call('DEL', KP, KX, KS, KW, KL, KB, KM)
    return false
  end
  return true
end
local function keep(ttl)
  for _, k in ipairs({KP, KX, KS, KW, KL, KB, KM}) do
    redis.call('PEXPIRE', k, ttl * 2)
  end
end
`

// ARGV: id, json, class ("s" seated | "w" waiting), limit, ttl ms, identity
var addScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[5])
local now = now_ms()
purge(now)
if redis.call('SISMEMBER', KB, ARGV[6]) == 1 then return 'blocked' end
if redis.call('HEXISTS', KP, ARGV[1]) == 1 then return 'exists' end
for _, raw in ipairs(redis.call('HVALS', KP)) do
  if cjson.decode(raw)['identity'] == ARGV[6] then return 'identity' end
end
local cls = KS
if ARGV[3] == 'w' then cls = KW end
local limit = tonumber(ARGV[4])
if limit > 0 and redis.call('SCARD', cls) >= limit then return 'full' end
redis.call('HSET', KP, ARGV[1], ARGV[2])
redis.call('ZADD', KX, now + ttl, ARGV[1])
redis.call('SADD', cls, ARGV[1])
keep(ttl)
return 'ok'
`)

// ARGV: id, state, reason, class, limit, ttl ms
var setStateScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[6])
local now = now_ms()
purge(now)
local raw = redis.call('HGET', KP, ARGV[1])
if not raw then return {'notfound'} end
local cls, other = KS, KW
if ARGV[4] == 'w' then cls, other = KW, KS end
if redis.call('SISMEMBER', cls, ARGV[1]) == 0 then
  local limit = tonumber(ARGV[5])
  if limit > 0 and redis.call('SCARD', cls) >= limit then return {'full'} end
  redis.call('SREM', other, ARGV[1])
  redis.call('SADD', cls, ARGV[1])
end
local p = cjson.decode(raw)
p['state'] = ARGV[2]
if ARGV[3] == '' then p['reason'] = nil else p['reason'] = ARGV[3] end
raw = cjson.encode(p)
redis.call('HSET', KP, ARGV[1], raw)
redis.call('ZADD', KX, now + ttl, ARGV[1])
keep(ttl)
return {'ok', raw}
`)

// ARGV: id
var removeScript = redis.NewScript(sessionPrelude + `
purge(now_ms())
local raw = redis.call('HGET', KP, ARGV[1])
if not raw then return {'notfound'} end
redis.call('HDEL', KP, ARGV[1])
redis.call('ZREM', KX, ARGV[1])
redis.call('SREM', KS, ARGV[1])
redis.call('SREM', KW, ARGV[1])
if redis.call('HLEN', KP) == 0 then
  redis.call('DEL', KP, KX, KS, KW, KL, KB, KM)
end
return {'ok', raw}
`)

// ARGV: ttl ms, ids...  Returns the ids no longer present.
var heartbeatScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[1])
local now = now_ms()
local alive = purge(now)
local gone = {}
for i = 2, #ARGV do
  if redis.call('HEXISTS', KP, ARGV[i]) == 1 then
    redis.call('ZADD', KX, 'XX', now + ttl, ARGV[i])
  else
    gone[#gone + 1] = ARGV[i]
  end
end
if alive then keep(ttl) end
return gone
`)

// Returns {participant JSONs, locked 0|1, blocked identities}.
var sessionScript = redis.NewScript(sessionPrelude + `
purge(now_ms())
return {redis.call('HVALS', KP), redis.call('EXISTS', KL), redis.call('SMEMBERS', KB)}
`)

// ARGV: "1"|"0", ttl ms
var setLockedScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[2])
if not purge(now_ms()) then return 'nosession' end
if ARGV[1] == '1' then
  redis.call('SET', KL, '1')
else
  redis.call('DEL', KL)
end
keep(ttl)
return 'ok'
`)

// ARGV: identity, "1"|"0", ttl ms
var setBlockedScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[3])
if not purge(now_ms()) then return 'nosession' end
if ARGV[2] == '1' then
  redis.call('SADD', KB, ARGV[1])
else
  redis.call('SREM', KB, ARGV[1])
end
keep(ttl)
return 'ok'
`)

// ARGV: version, node, data, ttl ms, term. Terms and versions are
// compared as decimal strings of equal length, not as Lua numbers (which
// lose precision past 2^53).
var setMirrorScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[4])
if not purge(now_ms()) then return 'nosession' end
local function num(s)
  s = s or '0'
  return string.rep('0', 20 - #s) .. s
end
local cur = redis.call('HMGET', KM, 'term', 'version', 'written')
local t = num(ARGV[5])
if t < num(cur[1]) then return 'older' end
if cur[3] and t == num(cur[3]) and num(cur[2]) >= num(ARGV[1]) then return 'older' end
redis.call('HSET', KM, 'term', ARGV[5], 'written', ARGV[5], 'version', ARGV[1], 'node', ARGV[2], 'data', ARGV[3])
keep(ttl)
return 'ok'
`)

// Returns {version, node, data, term}, each false when there is no
// mirror (a term started and nothing written in it keeps the mirror of
// the term before).
var mirrorScript = redis.NewScript(sessionPrelude + `
purge(now_ms())
return redis.call('HMGET', KM, 'version', 'node', 'data', 'written')
`)

// ARGV: ttl ms, the most seats given up, then field and id pairs.
var yieldSeatsScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[1])
if not purge(now_ms()) then return 'nosession' end
local n = 0
for _, f in ipairs(redis.call('HKEYS', KM)) do
  if string.sub(f, 1, 2) == 'y:' then n = n + 1 end
end
for i = 3, #ARGV, 2 do
  if redis.call('HEXISTS', KM, ARGV[i]) == 0 then n = n + 1 end
end
if n > tonumber(ARGV[2]) then return 'full' end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KM, ARGV[i], ARGV[i + 1])
end
keep(ttl)
return 'ok'
`)

// ARGV: field. Returns the id and forgets it, or nil.
var takeYieldedScript = redis.NewScript(sessionPrelude + `
if not purge(now_ms()) then return false end
local id = redis.call('HGET', KM, ARGV[1])
if id then redis.call('HDEL', KM, ARGV[1]) end
return id
`)

// ARGV: ttl ms. Starts the mirror's next term: above the one stored and
// at least the Redis clock in ms; returned as a decimal string.
var mirrorTermScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[1])
local now = now_ms()
local t = now
if purge(now) then
  local cur = tonumber(redis.call('HGET', KM, 'term') or '0')
  if cur >= t then t = cur + 1 end
  redis.call('HSET', KM, 'term', string.format('%d', t))
  keep(ttl)
end
return string.format('%d', t)
`)

// ARGV: id, node, ttl ms. Returns {'ok', participant JSON, its expiry
// before (ms)} or {'notfound'}.
var adoptScript = redis.NewScript(sessionPrelude + `
local ttl = tonumber(ARGV[3])
local now = now_ms()
purge(now)
local raw = redis.call('HGET', KP, ARGV[1])
if not raw then return {'notfound'} end
local expires = redis.call('ZSCORE', KX, ARGV[1]) or tostring(now + ttl)
local p = cjson.decode(raw)
p['node'] = ARGV[2]
raw = cjson.encode(p)
redis.call('HSET', KP, ARGV[1], raw)
redis.call('ZADD', KX, now + ttl, ARGV[1])
keep(ttl)
return {'ok', raw, expires}
`)

// KEYS: config, index. ARGV: json, name
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`)

// KEYS: config, index, then the room's attendance keys. ARGV: name
var deleteScript = redis.NewScript(`
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
`)

-- Ends a silence now (KEYS[1] = "gc:{@}"): its end becomes now, so that its
-- end is handled like any other (a county still firing hears once); one that
-- had not begun never silenced anything, so it has no end to handle. The
-- record stays, with deleted_by and deleted_at, until pruned. A silence that
-- has already ended is answered as it is, unchanged.
-- A: {id, now, by, audit}
local key = P .. ':sil:' .. A.id
local s = redis.call('HMGET', key, 'county', 'starts_at', 'ends_at')
if not s[1] then
  return reply({err = 'not_found'})
end
if tonumber(s[3]) <= A.now then
  return reply({err = 'already_ended', audit_object = A.id, silence = hgetall(key)})
end
local now = string.format('%d', A.now)
if tonumber(s[2]) > A.now then
  redis.call('HSET', key, 'starts_at', now)
  redis.call('ZREM', P .. ':silence_ends', A.id)
else
  redis.call('ZADD', P .. ':silence_ends', now, A.id)
end
redis.call('HSET', key, 'ends_at', now, 'deleted_by', A.by, 'deleted_at', now)
redis.call('ZADD', P .. ':silences', now, A.id)
redis.call('ZADD', P .. ':silc:' .. s[1], now, A.id)
return reply({ok = true, audit_object = A.id, silence = hgetall(key)})

-- Creates a silence (KEYS[1] = "gc:{@}": silences are shared by every server,
-- docs/alerts.md): the record P:sil:<id>, and its place (scored by its end)
-- in P:silences (every silence kept), P:silc:<county or *> (what
-- silence_check reads) and P:silence_ends (ends still to be handled by the
-- delivery side), in the same atomic step as the audit entry. Silences that
-- ended more than keep_ms ago are pruned first, a few per call.
-- A: {id, county, starts_at, ends_at, reason, by, now, keep_ms, audit}
local PRUNE_PER_CALL = 100
local old = redis.call('ZRANGEBYSCORE', P .. ':silences', '-inf',
                       string.format('(%d', A.now - A.keep_ms), 'LIMIT', 0, PRUNE_PER_CALL)
for _, id in ipairs(old) do
  local county = redis.call('HGET', P .. ':sil:' .. id, 'county')
  if county then
    redis.call('ZREM', P .. ':silc:' .. county, id)
  end
  redis.call('DEL', P .. ':sil:' .. id)
  redis.call('ZREM', P .. ':silences', id)
  redis.call('ZREM', P .. ':silence_ends', id)
end
local key = P .. ':sil:' .. A.id
if redis.call('EXISTS', key) == 1 then
  return reply({err = 'id_taken'})
end
local ends = string.format('%d', A.ends_at)
redis.call('HSET', key, 'id', A.id, 'county', A.county, 'starts_at',
           string.format('%d', A.starts_at), 'ends_at', ends, 'reason', A.reason,
           'created_by', A.by, 'created_at', string.format('%d', A.now))
redis.call('ZADD', P .. ':silences', ends, A.id)
redis.call('ZADD', P .. ':silc:' .. A.county, ends, A.id)
redis.call('ZADD', P .. ':silence_ends', ends, A.id)
return reply({ok = true, audit_object = A.id})

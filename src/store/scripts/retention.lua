-- Retention (KEYS[1] = "gc:{<county>}"): graduates that left `seeking` before
-- A.cutoff (ms) lose their name and phone; counts and contact aggregates stay.
-- P:left indexes graduates by when they left seeking (status.lua). Each
-- erasure is one audit entry. At most A.limit per call; returns how many were
-- erased and whether more are due. A: {cutoff, now, limit, audit}
local left = P .. ':left'
local ids = redis.call('ZRANGEBYSCORE', left, '-inf', string.format('%d', A.cutoff),
                       'LIMIT', 0, A.limit)
local erased = 0
for _, id in ipairs(ids) do
  local g = P .. ':g:' .. id
  local status = redis.call('HGET', g, 'status')
  if status and status ~= 'seeking' then
    ix_set(g, id, {})
    redis.call('HDEL', g, 'name', 'phone')
    redis.call('HSET', g, 'pii_expired_at', string.format('%d', A.now))
    audit({audit_object = id})
    erased = erased + 1
  end
  redis.call('ZREM', left, id)
end
-- The summary is not audited again: each erasure already was.
A.audit = nil
return reply({ok = true, erased = erased, more = #ids == A.limit})

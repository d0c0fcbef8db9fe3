-- Transfer, step 1 of 4, in the source county (KEYS[1] = "gc:{<from>}"),
-- SPEC §12 / docs/design.md "Transfers": a seeking graduate leaves this
-- county's current period (registered, served, queue, seeking) in one atomic
-- step, and the record is marked with the durable intent
-- xfer = "<xid>|<to>|<served 0/1>|<actor>"; the county's index P:xfer_out
-- (score: when) lets the repair job finish a transfer left half-done.
-- Until step 4 deletes the record here, every other write to the graduate is
-- refused (transfer_pending). Re-run with the same destination (a retry, or
-- the repair job with A.resume) it changes nothing and answers the same
-- payload, so the later steps can be run again.
-- A: {id, to, xid, reason?, actor, now, cur, off, alert?, resume?, audit,
--     pk? (the service package's items: a graduate who completed it this
--     period leaves this county's count of them)}
-- Answers {ok, xid, xn (the graduate's transfer number), from, to, served,
-- graduate (the hash), contacts (the
-- list, newest first), registered, served_count} or {ok, already} when the
-- graduate is in A.to already, or {err}.
local g = P .. ':g:' .. A.id
local status, xfer, erased, county, iv_s =
  unpack(redis.call('HMGET', g, 'status', 'xfer', 'erased_at', 'county', 'iv'))
if not status then
  if A.resume then
    -- The repair job's index entry outlived its transfer: drop it.
    A.audit = nil
    redis.call('ZREM', P .. ':xfer_out', A.id)
  end
  return reply({err = 'not_found'})
end
local function payload(xid, to, served)
  return {ok = true, xid = xid, xn = tonumber(redis.call('HGET', g, 'xn')), from = county,
          to = to, served = served == '1',
          graduate = hgetall(g), contacts = redis.call('LRANGE', P .. ':contacts:' .. A.id, 0, -1)}
end
if xfer then
  local xid, to, served = string.match(xfer, '^([^|]+)|([^|]+)|([01])|')
  if A.resume or to == A.to then
    -- The same move again: nothing changes (its audit entry says so; the
    -- repair job's reads are not audited).
    if A.resume then
      A.audit = nil
    end
    local p = payload(xid, to, served)
    p.audit_result = 'resumed'
    return reply(p)
  end
  return reply({err = 'transfer_pending'})
end
if A.resume then
  A.audit = nil
  redis.call('ZREM', P .. ':xfer_out', A.id)
  return reply({err = 'not_found'})
end
if county == A.to then
  return reply({ok = true, already = true, graduate = hgetall(g)})
end
if status ~= 'seeking' then
  return reply({err = 'not_seeking'})
end
if erased then
  return reply({err = 'erased'})
end
local cur = roll(A.cur)
local reg_before, srv_before = counts(cur)
local served = redis.call('SISMEMBER', P .. ':srv:' .. cur, A.id) == 1
-- Out of this county's current period; earlier periods keep the graduate
-- where they were counted (the history is not rewritten).
drop_from_period(A.id, cur)
if A.pk and package_done(hgetall(g), cur, A.pk) then
  cnt_incr('pk:' .. cur, -1)
end
redis.call('SREM', P .. ':flagged', A.id)
redis.call('ZREM', P .. ':seeking', A.id)
redis.call('ZREM', P .. ':queue', A.id)
redis.call('HSET', g, 'xfer',
           string.format('%s|%s|%d|%s', A.xid, A.to, served and 1 or 0, A.actor))
-- The graduate's own count of transfers, carried with the record: orders
-- them for the global step (transfer_index.lua) with no clock involved.
redis.call('HINCRBY', g, 'xn', 1)
if A.reason then
  redis.call('HSET', g, 'transfer_reason', A.reason)
end
redis.call('ZADD', P .. ':xfer_out', A.now, A.id)
local registered, srv = counts(cur)
local transition = alert_eval(cur)
local p = payload(A.xid, A.to, served and '1' or '0')
p.registered, p.served_count, p.transition = registered, srv, transition
p.audit_changes = {county = {old = county, new = A.to},
                   registered = {old = reg_before, new = registered, period = tostring(cur)},
                   served = {old = srv_before, new = srv, period = tostring(cur)}}
return reply(p)

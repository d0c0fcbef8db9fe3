-- Status change of one graduate (KEYS[1] = "gc:{<county>}"). Keeps every
-- period's registered/served sets true to SPEC §3: leaving `seeking` keeps the
-- graduate in the periods they were seeking in and drops them from later ones;
-- `withdrawn` removes them from every period; returning to `seeking` opens a
-- new interval. A: {id, status, at, reason?, actor, now, cur, off, claim?
-- (the national-ID claim token, required to return to seeking), alert?,
-- pk? (with withdrawn: the service package's items, [[field, count], ...])}
local g = P .. ':g:' .. A.id
if redis.call('EXISTS', g) == 0 then
  return reply({err = 'not_found'})
end
local cur_status, status_at, last_contact, iv_s, xfer = unpack(redis.call('HMGET', g,
  'status', 'status_at', 'last_contact_at', 'iv', 'xfer'))
-- Being moved to another county (transfer_out.lua): counted nowhere until
-- the move is done, so nothing may change here.
if xfer then
  return reply({err = 'transfer_pending'})
end
if cur_status == 'withdrawn' then
  return reply({err = 'withdrawn'})
end
if cur_status == A.status then
  return reply({ok = true, changed = false, graduate = hgetall(g)})
end
if A.at < tonumber(status_at) then
  return reply({err = 'at_before_last_change'})
end
local leaving = cur_status == 'seeking'
if leaving and last_contact and A.at < tonumber(last_contact) then
  return reply({err = 'at_before_last_contact'})
end
-- A return to seeking is only allowed with the national-ID claim this request
-- took; without one (the status changed under the request) it must retry.
if A.status == 'seeking' and not A.claim then
  return reply({err = 'needs_claim'})
end
local cur = roll(math.max(A.cur, period_of(A.at)))
local iv = parse_intervals(iv_s)
local released_claim
if leaving then
  released_claim = redis.call('HGET', g, 'nid_claim')
  redis.call('HDEL', g, 'nid_claim')
elseif A.status == 'seeking' then
  redis.call('HSET', g, 'nid_claim', A.claim)
end
if A.status == 'withdrawn' then
  redis.call('ZREM', P .. ':seeking', A.id)
  redis.call('ZREM', P .. ':queue', A.id)
  local h = A.pk and hgetall(g)
  for y = period_of(iv[1][1]), cur do
    drop_from_period(A.id, y)
    -- Nor among the period's completed service packages (contact.lua).
    if h and package_done(h, y, A.pk) then
      cnt_incr('pk:' .. y, -1)
    end
  end
  if leaving then iv[#iv][2] = A.at end
elseif leaving then
  iv[#iv][2] = A.at
  end_seeking(A.id, A.at, cur)
elseif A.status == 'seeking' then
  iv[#iv + 1] = {A.at, nil}
  add_seeking(A.id, A.at, cur)
end
-- P:left: when graduates left seeking, for the retention job (retention.lua).
if A.status == 'seeking' then
  redis.call('ZREM', P .. ':left', A.id)
elseif leaving then
  redis.call('ZADD', P .. ':left', A.at, A.id)
end
redis.call('HSET', g, 'status', A.status, 'status_at', string.format('%d', A.at),
           'status_reason', A.reason or '', 'iv', format_intervals(iv),
           'updated_by', A.actor, 'updated_at', string.format('%d', A.now))
local transition = alert_eval(cur)
return reply({ok = true, changed = true, previous = cur_status, graduate = hgetall(g),
              transition = transition, released_claim = released_claim})

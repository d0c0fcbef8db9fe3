-- Voiding one contact (KEYS[1] = "gc:{<county>}"), SPEC §12: the record is
-- kept, marked voided (when, by whom, why), and stops counting: the
-- graduate's counts, and, when it was the graduate's last reached contact
-- not voided in its period, the served set and counter of that period (and
-- the queue and the alert state follow), in one atomic step.
-- A: {gid, cid (the contact's own id), reason, actor, now, cur, off,
--     window_ms? (a counselor's: only contacts recorded within it),
--     services (the API's list, by index), alert?, audit, pk? (the service
--     package's items, [[field, count], ...])}
-- Answers {ok, contact (the record's text), already?, period, registered,
-- served, transition?} or {err}.
local g = P .. ':g:' .. A.gid
local status, iv_s, xfer = unpack(redis.call('HMGET', g, 'status', 'iv', 'xfer'))
if not status then
  return reply({err = 'contact_not_found'})
end
if xfer then
  return reply({err = 'transfer_pending'})
end
-- The graduate's records, once: the one voided is found by its id, and the
-- same pass says whether another reached contact stays in its period and
-- which contact is now the latest. O(contacts of this graduate), on the
-- rare correction instead of a per-period counter on every contact.
local ck = P .. ':contacts:' .. A.gid
local list = redis.call('LRANGE', ck, 0, -1)
local recs, at = {}, nil
for i, text in ipairs(list) do
  local c = contact_parse(text)
  recs[i] = c
  if c and c.id == A.cid and not at then
    at = i
  end
end
if not at then
  return reply({err = 'contact_not_found'})
end
local c = recs[at]
local q = c.period
if c.voided_at then
  local registered, served = counts(q)
  return reply({ok = true, already = true, contact = list[at], period = q,
                registered = registered, served = served, audit_result = 'already_voided'})
end
if A.window_ms and A.now - (c.occ + c.delta) > A.window_ms then
  return reply({err = 'void_window_passed'})
end
local cur = roll(A.cur)
local reg_before, served_before = counts(q)
c.voided_at, c.voided_by, c.reason = A.now, A.actor, A.reason
local text = contact_format(c)
redis.call('LSET', ck, at - 1, text)
-- What remains: another reached contact of the period, the latest contact.
local still_served, last = false, nil
for i, x in ipairs(recs) do
  if x and i ~= at and not x.voided_at then
    if x.o == 0 and x.period == q then
      still_served = true
    end
    if x.occ and (not last or x.occ > last) then
      last = x.occ
    end
  end
end
local service = c.service or A.services[c.svc + 1]
local outcome = ({[1] = 'unreachable', [2] = 'declined'})[c.o]
redis.call('HINCRBY', g, 'contacts', -1)
-- The service package (contact.lua): the contact's item counts one less;
-- when that takes it below its count and the package was complete, the
-- county's count of completed packages of the period goes down.
local function package_uncount()
  local si = c.svc
  if not si then
    for i, name in ipairs(A.services) do
      if name == service then
        si = i - 1
      end
    end
  end
  local item
  for _, it in ipairs(A.pk) do
    for d in string.gmatch(it[1], '%d+') do
      if tonumber(d) == si then
        item = it
      end
    end
  end
  if not item then
    return
  end
  local f = 'k' .. q .. ':' .. item[1]
  local n = tonumber(redis.call('HGET', g, f)) or 0
  if n <= 0 then
    return -- counted before the package was configured
  end
  redis.call('HINCRBY', g, f, -1)
  if n == item[2] then
    local h = {}
    for _, it in ipairs(A.pk) do
      h['k' .. q .. ':' .. it[1]] = redis.call('HGET', g, 'k' .. q .. ':' .. it[1])
    end
    h[f] = n
    if package_done(h, q, A.pk) then
      cnt_incr('pk:' .. q, -1)
    end
  end
end
if c.o == 0 then
  redis.call('HINCRBY', g, 'svc:' .. service, -1)
  if A.pk then
    package_uncount()
  end
else
  redis.call('HINCRBY', g, 'att:' .. outcome, -1)
end
-- The days the graduate was unreachable (contact.lua's uad), without it.
if c.o == 1 then
  local days, seen = {}, {}
  for i, x in ipairs(recs) do
    if x and i ~= at and not x.voided_at and x.o == 1 then
      local d = string.format('%d', day_of(x.occ))
      if not seen[d] then
        seen[d] = true
        days[#days + 1] = d
      end
    end
  end
  if #days > 0 then
    redis.call('HSET', g, 'uad', table.concat(days, ','))
  else
    redis.call('HDEL', g, 'uad')
  end
end
if last then
  redis.call('HSET', g, 'last_contact_at', string.format('%d', last))
else
  redis.call('HDEL', g, 'last_contact_at')
end
-- Served: the graduate leaves the period's served set only when no reached
-- contact of theirs is left in it; back into the queue if that period is
-- the current one and they are still seeking (waiting since their current
-- interval began, as registration queues them).
if c.o == 0 and not still_served then
  if redis.call('SREM', P .. ':srv:' .. q, A.gid) == 1 then
    cnt_incr('s:' .. q, -1)
    hist_touch(q)
    if q == cur and status == 'seeking' then
      local iv = parse_intervals(iv_s)
      redis.call('ZADD', P .. ':queue', iv[#iv][1], A.gid)
    end
  end
end
-- Contacts voided, per county (/metrics: the recorded counters never go down).
cnt_incr('v', 1)
-- The counselor's activity of that day, while it is kept (contact.lua).
local act = P .. ':act:' .. string.format('%d', day_of(c.occ))
local n = tonumber(redis.call('HGET', act, c.counselor))
if n and n > 1 then
  redis.call('HINCRBY', act, c.counselor, -1)
elseif n then
  redis.call('HDEL', act, c.counselor)
end
local registered, served = counts(q)
local transition = alert_eval(cur)
-- The audit entry's old and new values: the contact's state, the county's
-- served count of the period and the graduate's part in it. Never the
-- reason (free text, kept with the record and erased with it).
local changes = {voided = {old = false, new = true}}
if served ~= served_before then
  changes.served = {old = served_before, new = served, period = tostring(q)}
end
return reply({ok = true, contact = text, period = q, registered = registered, served = served,
              transition = transition, audit_changes = changes})

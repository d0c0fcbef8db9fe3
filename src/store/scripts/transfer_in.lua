-- Transfer, step 2 of 4, in the destination county (KEYS[1] = "gc:{<to>}"):
-- the record of step 1 (with its contacts) is written here and counted in
-- this county's current period (registered, and served if it was served
-- there this period; else the queue), in one atomic step. Idempotent: a
-- record already here from this transfer (xfer_in = xid) changes nothing,
-- and a transfer older than the one that took the graduate out of this
-- county again (P:xgone:<id>, transfer_done.lua) is refused (superseded).
-- A: {id, from, xid, graduate (the source's hash), contacts (newest first),
--     served, now, cur, off, alert?, audit, pk? (the service package's
--     items: a graduate who completed it this period counts here now)}
-- Answers {ok, graduate, registered, served, transition?} or {err}.
local g = P .. ':g:' .. A.id
local existing = redis.call('HGET', g, 'xfer_in')
if existing == A.xid then
  return reply({ok = true, replayed = true, graduate = hgetall(g)})
end
-- The graduate left this county by a later transfer than this one (a late
-- repair): nothing to do here any more.
local gone = tonumber(redis.call('GET', P .. ':xgone:' .. A.id)) or 0
if gone > 0 and gone >= (tonumber(A.graduate.xn) or 0) then
  return reply({err = 'superseded'})
end
if redis.call('EXISTS', g) == 1 then
  return reply({err = 'id_taken'})
end
local cur = roll(A.cur)
local reg_before, srv_before = counts(cur)
local fields = {}
for k, v in pairs(A.graduate) do
  -- The source's intent and its own transfer marks stay behind, and so
  -- does the assignment: the source's counselors do not work here.
  if k ~= 'xfer' and k ~= 'xfer_in' and k ~= 'assigned_to' then
    fields[#fields + 1] = k
    fields[#fields + 1] = v
  end
end
redis.call('HSET', g, unpack(fields))
redis.call('HSET', g, 'county', string.sub(P, 5, -2), 'xfer_in', A.xid,
           'transferred_from', A.from, 'transferred_at', string.format('%d', A.now),
           'transferred_by', A.audit and A.audit.who or '')
-- Its search entries as the source had them (ixm came with the record).
local bases = {}
for e in string.gmatch(A.graduate.ixm or '', '[^,]+') do
  if string.sub(e, 1, 2) ~= 'i:' then
    bases[#bases + 1] = string.match(e, '^([^|]*)')
  end
end
redis.call('HDEL', g, 'ixm')
ix_set(g, A.id, bases)
local ck = P .. ':contacts:' .. A.id
redis.call('DEL', ck)
-- Newest first, as in the source: LPUSH of the oldest first.
local rev = {}
for i = #A.contacts, 1, -1 do
  rev[#rev + 1] = A.contacts[i]
end
for i = 1, #rev, 1000 do
  redis.call('LPUSH', ck, unpack(rev, i, math.min(i + 999, #rev)))
end
-- Counted here from now on: this period, waiting since its seeking began.
local iv = parse_intervals(A.graduate.iv)
local since = iv[#iv] and iv[#iv][1] or A.now
if redis.call('SADD', P .. ':reg:' .. cur, A.id) == 1 then
  cnt_incr('r:' .. cur, 1)
  hist_touch(cur)
end
redis.call('ZADD', P .. ':seeking', since, A.id)
if A.served then
  if redis.call('SADD', P .. ':srv:' .. cur, A.id) == 1 then
    cnt_incr('s:' .. cur, 1)
    hist_touch(cur)
  end
else
  redis.call('ZADD', P .. ':queue', since, A.id)
end
if package_done(A.graduate, cur, A.pk) then
  cnt_incr('pk:' .. cur, 1)
end
if A.graduate.flags and A.graduate.flags ~= '' then
  redis.call('SADD', P .. ':flagged', A.id)
end
local registered, served = counts(cur)
local transition = alert_eval(cur)
return reply({ok = true, graduate = hgetall(g), registered = registered, served = served,
              transition = transition,
              audit_changes = {county = {old = A.from, new = string.sub(P, 5, -2)},
                               registered = {old = reg_before, new = registered,
                                             period = tostring(cur)},
                               served = {old = srv_before, new = served,
                                         period = tostring(cur)}}})

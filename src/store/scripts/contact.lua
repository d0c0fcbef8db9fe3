-- One service contact (KEYS[1] = "gc:{<county>}"): the idempotency check, the
-- contact record, the served set and all counters commit together.
-- A: {id, graduate_id, service, svc, channel, ch, o?, outcome?, occurred_at,
--     note?, counselor, now, cur, off, threshold_bp, idem?, body_hash?,
--     idem_ttl, alert?, pk?} (svc, ch, o: the service's, channel's and
-- outcome's index in the API's lists; o and outcome only for an attempt,
-- o > 0; pk: {f, n, all} for a reached contact whose service is in the
-- service package, see package_count below)
-- Answers {err} as JSON when refused; otherwise the flat array
-- {"ok", replayed, id, period, first_in_period, registered, served,
--  threshold_bp, transition or ""} (0/1 for the flags; id the API's
-- "<graduate id>~<own part>"; the transition the write made to the
-- county's alert, as every script names it).
local function answer(replayed, resp, transition)
  return reply_flat({replayed = replayed},
                    {'ok', replayed and 1 or 0, resp.id, resp.period,
                     resp.first_in_period and 1 or 0, resp.registered, resp.served,
                     resp.threshold_bp, transition or ''})
end
-- The idempotency record: "<body_hash>|~<own id>|<period>|<first 0/1>|
-- <registered>|<served>|<threshold_bp>" (the graduate is the body's, which
-- the hash pins). Records of earlier versions: the id without "~" (it was
-- the whole id then, and is answered as it was), or JSON {body_hash, resp}.
local function idem_read(rec)
  if string.sub(rec, 1, 1) == '{' then
    local r = cjson.decode(rec)
    return r.body_hash, r.resp
  end
  local bh, tilde, id, period, first, reg, srv, bp =
    string.match(rec, '^(%x+)|(~?)(%w+)|(%d+)|(%d)|(%d+)|(%d+)|(%d+)$')
  return bh, {id = tilde == '~' and (A.graduate_id .. '~' .. id) or id, period = tonumber(period),
              first_in_period = first == '1', registered = tonumber(reg),
              served = tonumber(srv), threshold_bp = tonumber(bp)}
end
local idem_key
if A.idem then
  idem_key = P .. ':idem:' .. A.idem
  local rec = redis.call('GET', idem_key)
  if rec then
    local body_hash, resp = idem_read(rec)
    if body_hash ~= A.body_hash then
      return reply({err = 'idempotency_key_reused'})
    end
    return answer(true, resp, nil)
  end
end
local g = P .. ':g:' .. A.graduate_id
local status, registered_at, iv_s, last, xfer =
  unpack(redis.call('HMGET', g, 'status', 'registered_at', 'iv', 'last_contact_at', 'xfer'))
if not status then
  return reply({err = 'graduate_not_found'})
end
if status == 'withdrawn' then
  return reply({err = 'withdrawn'})
end
-- Being moved to another county (transfer.lua): counted nowhere until the
-- move is finished, so nothing may be added here.
if xfer then
  return reply({err = 'transfer_pending'})
end
if A.occurred_at < tonumber(registered_at) then
  return reply({err = 'before_registration'})
end
local inside = false
for _, v in ipairs(parse_intervals(iv_s)) do
  if A.occurred_at >= v[1] and (v[2] == nil or A.occurred_at <= v[2]) then
    inside = true
  end
end
if not inside then
  return reply({err = 'not_seeking'})
end
local q = period_of(A.occurred_at)
local cur = roll(math.max(A.cur, q))
-- SPEC §12's service package: the reached contacts of the period with the
-- services of one item count in the graduate's hash, "k<period>:<item>",
-- one HINCRBY (nothing for a service outside the package or an attempt).
-- Only when this contact brings its item to the count it needs are the
-- other items read (one HMGET, at most once per item and period); when all
-- have theirs the graduate just completed the package, and the county's
-- "pk:<period>" counter goes up: once per graduate and period, as an item
-- reaches its count once unless a void takes it back below (void.lua).
local function package_count()
  local pk = A.pk
  if redis.call('HINCRBY', g, 'k' .. q .. ':' .. pk.f, 1) ~= pk.n then
    return
  end
  local f = {}
  for i, it in ipairs(pk.all) do
    f[i] = 'k' .. q .. ':' .. it[1]
  end
  local v = redis.call('HMGET', g, unpack(f))
  for i, it in ipairs(pk.all) do
    if (tonumber(v[i]) or 0) < it[2] then
      return
    end
  end
  cnt_incr('pk:' .. q, 1)
end
local o = A.o or 0
-- The record (contact_parse in the prelude reads it). A reached contact,
-- the common one, has no ext field.
local rec = string.format('%s|%d|%d|%d|%d|%d|%s%d|%s%s', A.id, A.svc, A.ch, A.occurred_at,
                          A.now - A.occurred_at, q, o > 0 and string.format('o%d|', o) or '',
                          #A.counselor, A.counselor, A.note or '')
redis.call('LPUSH', P .. ':contacts:' .. A.graduate_id, rec)
-- The graduate's counts: every contact not voided, reached ones by service
-- (the services it received), attempts by outcome.
redis.call('HINCRBY', g, 'contacts', 1)
if o == 0 then
  redis.call('HINCRBY', g, 'svc:' .. A.service, 1)
  if A.pk then
    package_count()
  end
else
  redis.call('HINCRBY', g, 'att:' .. A.outcome, 1)
end
-- SPEC §12: the queue flags graduates unreachable on different days: the
-- local days of their unreachable attempts, "d,d,...", in uad (attempts
-- only: nothing more on the common, reached path).
if o == 1 then
  local days = redis.call('HGET', g, 'uad')
  local d = string.format('%d', day_of(A.occurred_at))
  if not string.find(',' .. (days or '') .. ',', ',' .. d .. ',', 1, true) then
    redis.call('HSET', g, 'uad', days and (days .. ',' .. d) or d)
  end
end
if not last or A.occurred_at > tonumber(last) then
  redis.call('HSET', g, 'last_contact_at', string.format('%d', A.occurred_at))
end
-- The county's counters of contacts recorded (/metrics): by service, every
-- outcome; attempts by outcome too (reached = the sum of c:* minus them).
cnt_incr('c:' .. A.service, 1)
if o > 0 then
  cnt_incr('o:' .. A.outcome, 1)
end
-- Counselors' activity (docs/design.md, "History"): contacts per counselor
-- (the token's name) and local day of occurred_at, in P:act:<day>, kept
-- while the day can be in a reader's last 30 days (ACT_DAYS) and a little
-- longer for clocks that disagree (ACT_KEEP_DAYS); an older back-dated
-- contact is in no window, so it is not counted. Attempts are work too.
local ACT_DAYS, ACT_KEEP_DAYS = 30, 32
local day = day_of(A.occurred_at)
if day > day_of(A.now) - ACT_DAYS then
  local act = P .. ':act:' .. string.format('%d', day)
  -- The key's first field on a new key is 1 too: the TTL is set whenever a
  -- counselor's count for the day starts, which includes the key's creation.
  if redis.call('HINCRBY', act, A.counselor, 1) == 1 then
    local expires = (day + ACT_KEEP_DAYS) * DAY_MS - A.off * 60000
    redis.call('EXPIRE', act, math.max(1, math.ceil((expires - A.now) / 1000)))
  end
end
-- SPEC §12: only a reached contact serves the graduate.
local first = false
if o == 0 then
  first = redis.call('SADD', P .. ':srv:' .. q, A.graduate_id) == 1
  if first then
    cnt_incr('s:' .. q, 1)
    hist_touch(q)
    if q == cur then
      redis.call('ZREM', P .. ':queue', A.graduate_id)
    end
  end
end
local registered, served = counts(q)
local resp = {id = A.graduate_id .. '~' .. A.id, period = q, first_in_period = first,
              registered = registered, served = served, threshold_bp = A.threshold_bp}
if idem_key then
  redis.call('SET', idem_key,
             string.format('%s|~%s|%d|%d|%d|%d|%d', A.body_hash, A.id, resp.period,
                           first and 1 or 0, registered, served, A.threshold_bp),
             'EX', A.idem_ttl)
end
return answer(false, resp, alert_eval(cur))

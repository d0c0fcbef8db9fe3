-- One service contact (KEYS[1] = "gc:{<county>}"): the idempotency check, the
-- contact record, the served set and all counters commit together.
-- A: {id, graduate_id, service, svc, channel, ch, occurred_at, note?,
--     counselor, now, cur, off, threshold_bp, idem?, body_hash?, idem_ttl,
--     alert?} (svc, ch: the service's and channel's index in the API's lists)
-- Answers {err} as JSON when refused; otherwise the flat array
-- {"ok", replayed, id, graduate_id, period, first_in_period, registered,
--  served, threshold_bp, transition or ""} (0/1 for the flags; the transition
-- the write made to the county's alert, as every script names it).
local function answer(replayed, resp, transition)
  return reply_flat({replayed = replayed},
                    {'ok', replayed and 1 or 0, resp.id, resp.graduate_id, resp.period,
                     resp.first_in_period and 1 or 0, resp.registered, resp.served,
                     resp.threshold_bp, transition or ''})
end
-- The idempotency record: "<body_hash>|<id>|<period>|<first 0/1>|<registered>|
-- <served>|<threshold_bp>" (the graduate is the body's, which the hash pins).
-- Older versions stored JSON {body_hash, resp}: read for their 48 h.
local function idem_read(rec)
  if string.sub(rec, 1, 1) == '{' then
    local r = cjson.decode(rec)
    return r.body_hash, r.resp
  end
  local bh, id, period, first, reg, srv, bp =
    string.match(rec, '^(%x+)|(%w+)|(%d+)|(%d)|(%d+)|(%d+)|(%d+)$')
  return bh, {id = id, graduate_id = A.graduate_id, period = tonumber(period),
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
local status, registered_at, iv_s = unpack(redis.call('HMGET', g, 'status', 'registered_at', 'iv'))
if not status then
  return reply({err = 'graduate_not_found'})
end
if status == 'withdrawn' then
  return reply({err = 'withdrawn'})
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
-- The record, positional (api_contacts.c reads it): id|svc|ch|occurred_at|
-- recorded_at - occurred_at|period|#counselor|counselor..note. The counselor's
-- byte length lets a name or a note hold any character.
local rec = string.format('%s|%d|%d|%d|%d|%d|%d|%s%s', A.id, A.svc, A.ch, A.occurred_at,
                          A.now - A.occurred_at, q, #A.counselor, A.counselor, A.note or '')
redis.call('LPUSH', P .. ':contacts:' .. A.graduate_id, rec)
redis.call('HINCRBY', g, 'contacts', 1)
redis.call('HINCRBY', g, 'svc:' .. A.service, 1)
local last = tonumber(redis.call('HGET', g, 'last_contact_at'))
if not last or A.occurred_at > last then
  redis.call('HSET', g, 'last_contact_at', string.format('%d', A.occurred_at))
end
cnt_incr('c:' .. A.service, 1)
-- Counselors' activity (docs/design.md, "History"): contacts per counselor
-- (the token's name) and local day of occurred_at, in P:act:<day>, kept
-- while the day can be in a reader's last 30 days (ACT_DAYS) and a little
-- longer for clocks that disagree (ACT_KEEP_DAYS); an older back-dated
-- contact is in no window, so it is not counted.
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
local first = redis.call('SADD', P .. ':srv:' .. q, A.graduate_id) == 1
if first then
  cnt_incr('s:' .. q, 1)
  hist_touch(q)
  if q == cur then
    redis.call('ZREM', P .. ':queue', A.graduate_id)
  end
end
local registered, served = counts(q)
local resp = {id = A.id, graduate_id = A.graduate_id, period = q, first_in_period = first,
              registered = registered, served = served, threshold_bp = A.threshold_bp}
if idem_key then
  redis.call('SET', idem_key,
             string.format('%s|%s|%d|%d|%d|%d|%d', A.body_hash, resp.id, resp.period,
                           first and 1 or 0, registered, served, A.threshold_bp),
             'EX', A.idem_ttl)
end
return answer(false, resp, alert_eval(cur))

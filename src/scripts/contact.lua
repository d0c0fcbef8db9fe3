-- One service contact (KEYS[1] = "gc:{<county>}"): the idempotency check, the
-- contact record, the served set and all counters commit together.
-- A: {id, graduate_id, service, channel, occurred_at, note?, counselor, now,
--     cur, off, threshold_bp, idem?, body_hash?, idem_ttl, alert?}
-- Answers {err} as JSON when refused; otherwise the flat array
-- {"ok", replayed, id, graduate_id, period, first_in_period, registered,
--  served, threshold_bp, alert transition or ""} (0/1 for the flags).
local function answer(replayed, resp, alert)
  return reply_flat({replayed = replayed},
                    {'ok', replayed and 1 or 0, resp.id, resp.graduate_id, resp.period,
                     resp.first_in_period and 1 or 0, resp.registered, resp.served,
                     resp.threshold_bp, alert or ''})
end
local idem_key
if A.idem then
  idem_key = P .. ':idem:' .. A.idem
  local rec = redis.call('GET', idem_key)
  if rec then
    local r = cjson.decode(rec)
    if r.body_hash ~= A.body_hash then
      return reply({err = 'idempotency_key_reused'})
    end
    return answer(true, r.resp, nil)
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
local rec = {id = A.id, service = A.service, channel = A.channel, occurred_at = A.occurred_at,
             counselor = A.counselor, recorded_at = A.now, period = q, note = A.note}
redis.call('LPUSH', P .. ':contacts:' .. A.graduate_id, cjson.encode(rec))
redis.call('HINCRBY', g, 'contacts', 1)
redis.call('HINCRBY', g, 'svc:' .. A.service, 1)
local last = tonumber(redis.call('HGET', g, 'last_contact_at'))
if not last or A.occurred_at > last then
  redis.call('HSET', g, 'last_contact_at', string.format('%d', A.occurred_at))
end
cnt_incr('c:' .. A.service, 1)
local first = redis.call('SADD', P .. ':srv:' .. q, A.graduate_id) == 1
if first then
  cnt_incr('s:' .. q, 1)
  if q == cur then
    redis.call('ZREM', P .. ':queue', A.graduate_id)
  end
end
local registered, served = counts(q)
local resp = {id = A.id, graduate_id = A.graduate_id, period = q, first_in_period = first,
              registered = registered, served = served, threshold_bp = A.threshold_bp}
if idem_key then
  redis.call('SET', idem_key, cjson.encode({body_hash = A.body_hash, resp = resp}),
             'EX', A.idem_ttl)
end
return answer(false, resp, alert_eval(cur))

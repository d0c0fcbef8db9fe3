-- Claims the repeat and the escalation due for the county's firing episode
-- (KEYS[1] = "gc:{<county>}"), exactly once across every server: whichever
-- server runs this first records it on the episode (rep_at and rep_n, esc_at)
-- and, in the same atomic step, appends the message to the county's outbox
-- (event <episode>:repeat:<n>, <episode>:escalation; status firing, kind
-- repeat or escalation, the current counts), which the notifier delivers
-- like any other event. Another server (or a retry) finds nothing due.
-- A: {now, ep, remind = {repeat_ms, escalate_ms}}
local v = redis.call('HMGET', P .. ':cnt', 'alert', 'a_ep')
if v[1] ~= 'firing' or v[2] ~= A.ep then
  return reply({events = {}})
end
local ek = P .. ':ep:' .. A.ep
local due = remind_due(remind_fields(A.ep), A.now, A.remind)
local e = redis.call('HMGET', ek, 'period', 'threshold_bp', 'started_at')
local reg, srv = counts(e[1])
local outbox = P .. ':outbox'
local now = string.format('%d', A.now)
local events = {}
local function add(event_id, kind, extra)
  redis.pcall('XGROUP', 'CREATE', outbox, 'delivery', '0', 'MKSTREAM')
  local f = {'event_id', event_id, 'episode', A.ep, 'status', 'firing', 'kind', kind,
             'period', e[1], 'registered', reg, 'served', srv, 'threshold_bp', e[2],
             'started_at', e[3]}
  for i = 1, #extra do
    f[#f + 1] = extra[i]
  end
  redis.call('XADD', outbox, 'MAXLEN', '~', OUTBOX_MAXLEN, '*', unpack(f))
  events[#events + 1] = event_id
end
if due.escalation then
  redis.call('HSET', ek, 'esc_at', now)
  add(A.ep .. ':escalation', 'escalation', {})
end
if due['repeat'] then
  local n = redis.call('HINCRBY', ek, 'rep_n', 1)
  redis.call('HSET', ek, 'rep_at', now)
  add(A.ep .. ':repeat:' .. n, 'repeat', {'repeat', n})
end
return reply({events = events})

-- Claims the end of silence `sid` for this county (KEYS[1] = "gc:{<county>}"),
-- exactly once across every server: the first caller gets claimed = true, any
-- other (another server, a retry) claimed = false. If the county is firing,
-- the claim appends, in the same atomic step, one event to the county's
-- outbox: <episode>:unsilenced:<sid>, status firing with the current counts,
-- kind "unsilenced", which the notifier delivers like any other (at least
-- once, stable event_id). The claim mark is kept 30 days, longer than a
-- silence is kept after its end (silence_ends_due prunes at 7 days). The
-- message counts as the episode's latest reminder (rep_at): the next repeat
-- comes a repeat interval after it, not at once beside it.
-- A: {sid, now}
local MARK_TTL_S = 30 * 86400
local mark = P .. ':silend:' .. A.sid
if not redis.call('SET', mark, string.format('%d', A.now), 'NX', 'EX', MARK_TTL_S) then
  return reply({claimed = false})
end
local v = redis.call('HMGET', P .. ':cnt', 'alert', 'a_ep')
if v[1] ~= 'firing' or not v[2] then
  return reply({claimed = true, firing = false})
end
local ep = v[2]
local e = redis.call('HMGET', P .. ':ep:' .. ep, 'period', 'threshold_bp', 'started_at')
if not e[1] then
  return reply({claimed = true, firing = false})
end
local reg, srv = counts(e[1])
local outbox = P .. ':outbox'
local event_id = ep .. ':unsilenced:' .. A.sid
redis.call('HSET', P .. ':ep:' .. ep, 'rep_at', string.format('%d', A.now))
redis.pcall('XGROUP', 'CREATE', outbox, 'delivery', '0', 'MKSTREAM')
redis.call('XADD', outbox, 'MAXLEN', '~', OUTBOX_MAXLEN, '*', 'event_id', event_id,
           'episode', ep, 'status', 'firing', 'kind', 'unsilenced', 'silence', A.sid,
           'period', e[1], 'registered', reg, 'served', srv, 'threshold_bp', e[2],
           'started_at', e[3])
return reply({claimed = true, firing = true, episode = ep, event_id = event_id})

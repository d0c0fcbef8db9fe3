-- Records one delivery attempt's outcome (KEYS[1] = "gc:{<county>}") and, when
-- every receiver of the event is done, acknowledges the outbox entry so that
-- no process delivers it again. The episode's index P:dlvx:<episode> lists
-- its events (first record first), so that GET /api/v1/alerts finds the
-- records of its repeats, escalation and silence ends too. A: {event_id,
-- entry, episode?, receiver?, record? (JSON text), done (bool: all receivers
-- finished)}
-- Kept about as long as the episodes that list them matter.
local KEEP_S = 400 * 86400
if A.receiver then
  local key = P .. ':dlv:' .. A.event_id
  redis.call('HSET', key, A.receiver, A.record)
  redis.call('EXPIRE', key, KEEP_S)
  if A.episode then
    local t = redis.call('TIME')
    local idx = P .. ':dlvx:' .. A.episode
    redis.call('ZADD', idx, 'NX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000),
               A.event_id)
    redis.call('EXPIRE', idx, KEEP_S)
  end
end
if A.done then
  redis.call('XACK', P .. ':outbox', 'delivery', A.entry)
end
return reply({ok = true})

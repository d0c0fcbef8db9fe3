-- Records one delivery attempt's outcome (KEYS[1] = "gc:{<county>}") and, when
-- every receiver of the event is done, acknowledges the outbox entry so that
-- no process delivers it again. A: {event_id, entry, receiver?, record? (JSON
-- text), done (bool: all receivers finished)}
if A.receiver then
  local key = P .. ':dlv:' .. A.event_id
  redis.call('HSET', key, A.receiver, A.record)
  -- Kept about as long as the episodes that list them matter.
  redis.call('EXPIRE', key, 400 * 86400)
end
if A.done then
  redis.call('XACK', P .. ':outbox', 'delivery', A.entry)
end
return reply({ok = true})

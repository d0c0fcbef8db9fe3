-- Silences that ended at or before `now` whose end the delivery side has not
-- yet handled (KEYS[1] = "gc:{@}"), oldest first, at most `limit`: each with
-- its county ("*" for every county) and end. Silences that ended more than
-- keep_ms ago are pruned first (then their end is never handled: a delivery
-- side that late has nothing timely to say).
-- A: {now, keep_ms, limit}
local PRUNE_PER_CALL = 100
local old = redis.call('ZRANGEBYSCORE', P .. ':silences', '-inf',
                       string.format('(%d', A.now - A.keep_ms), 'LIMIT', 0, PRUNE_PER_CALL)
for _, id in ipairs(old) do
  local county = redis.call('HGET', P .. ':sil:' .. id, 'county')
  if county then
    redis.call('ZREM', P .. ':silc:' .. county, id)
  end
  redis.call('DEL', P .. ':sil:' .. id)
  redis.call('ZREM', P .. ':silences', id)
  redis.call('ZREM', P .. ':silence_ends', id)
end
local due = redis.call('ZRANGEBYSCORE', P .. ':silence_ends', '-inf',
                       string.format('%d', A.now), 'WITHSCORES', 'LIMIT', 0, A.limit)
local out = {}
for i = 1, #due, 2 do
  local county = redis.call('HGET', P .. ':sil:' .. due[i], 'county')
  if county then
    out[#out + 1] = {id = due[i], county = county, ends_at = tonumber(due[i + 1])}
  else
    redis.call('ZREM', P .. ':silence_ends', due[i])
  end
end
return reply({ends = out})

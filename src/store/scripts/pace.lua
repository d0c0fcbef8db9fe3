-- Paces the messages to one receiver across every server (KEYS[1] = "gc:{@}"):
-- a chat robot takes so many messages a minute from everyone together, so
-- the turns are kept in Redis, by Redis's clock (the servers' may differ).
-- Answers wait = 0 and takes the turn (the next one is spacing_ms later), or
-- the ms to wait before asking again. A: {name, spacing_ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = P .. ':pace:' .. A.name
local next_at = tonumber(redis.call('GET', key))
if next_at and next_at > now then
  return reply({wait = next_at - now})
end
-- Kept a little past the turn, so that the key never outlives its use.
redis.call('SET', key, string.format('%d', now + A.spacing_ms), 'PX', A.spacing_ms + 1000)
return reply({wait = 0})

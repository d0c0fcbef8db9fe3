-- One county's line of the daily digest (KEYS[1] = "gc:{<county>}"), rolling
-- it into the current period first: its counts, whether it fires and the
-- episode was acknowledged, the contacts recorded on the local day
-- `yesterday` (contact.lua's per-day counters), and the graduates waiting
-- (seeking, not served this period) with the longest one's start.
-- Only commands deploy/redis-users.acl allows. A: {cur, off, yesterday}
local cur = roll(A.cur)
local registered, served = counts(cur)
local v = redis.call('HMGET', P .. ':cnt', 'alert', 'a_ep')
local firing = v[1] == 'firing' and v[2] ~= false
local acked = firing and redis.call('HGET', P .. ':ep:' .. v[2], 'acked_at') ~= false
local yesterday = 0
local act = redis.call('HGETALL', P .. ':act:' .. string.format('%d', A.yesterday))
for i = 2, #act, 2 do
  yesterday = yesterday + (tonumber(act[i]) or 0)
end
local oldest = redis.call('ZRANGE', P .. ':queue', 0, 0, 'WITHSCORES')
return reply({registered = registered, served = served, firing = firing, acked = acked,
              episode = firing and v[2] or nil, yesterday = yesterday,
              waiting = redis.call('ZCARD', P .. ':queue'), oldest = tonumber(oldest[2]) or 0})

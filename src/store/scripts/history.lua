-- One county's counts of one period with its stored daily points (KEYS[1] =
-- "gc:{<county>}"), rolling the county into the current period first (the
-- roll writes the new year's first point). One read, so that the points and
-- the live counts agree. Used by GET .../history and, for the projection, by
-- the county's coverage. A: {cur, period, points (bool)}
-- Answers the flat array {registered, served, alert or "", then, when
-- points, day, "<registered>:<served>", day, ... in no order}.
roll(A.cur)
local v = redis.call('HMGET', P .. ':cnt', 'r:' .. A.period, 's:' .. A.period, 'alert')
local out = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, v[3] or ''}
if A.points then
  local flat = redis.call('HGETALL', P .. ':hist:' .. A.period)
  for i = 1, #flat do
    out[#out + 1] = flat[i]
  end
end
return reply_flat({}, out)

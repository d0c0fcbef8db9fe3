-- One county's counts of one period with its stored daily points (KEYS[1] =
-- "gc:{<county>}"), rolling the county into the current period first (the
-- roll writes the new year's first point). One read, so that the points and
-- the live counts agree. Used by GET .../history (every point) and, for the
-- projection, by the county's coverage (A.from: the one point the window
-- starts from, see below). A: {cur, period, points (bool), from?}
-- Answers the flat array {registered, served, alert or "", completed service
-- packages (SPEC §12), {day,
-- "<registered>:<served>", day, ...}} (the points in no order; none unless
-- asked).
roll(A.cur)
local cnt = P .. ':cnt'
local v = redis.call('HMGET', cnt, 'r:' .. A.period, 's:' .. A.period, 'alert', 'hf:' .. A.period,
                     'hl:' .. A.period, 'pk:' .. A.period)
local points = {}
if A.points and not A.from then
  points = redis.call('HGETALL', P .. ':hist:' .. A.period)
elseif A.points and v[4] then
  -- The window's first point: the day A.from itself, or the period's first
  -- point when it comes later, or its last one when that comes before (it
  -- carries into the window). The hash holds every day from its first to its
  -- last point, so that is one HGET, not a walk of the year.
  local day = math.min(math.max(A.from, tonumber(v[4])), tonumber(v[5]))
  local f = string.format('%d', day)
  local p = redis.call('HGET', P .. ':hist:' .. A.period, f)
  if p then
    points = {f, p}
  end
end
return reply_flat({}, {tonumber(v[1]) or 0, tonumber(v[2]) or 0, v[3] or '', tonumber(v[6]) or 0,
                      points})

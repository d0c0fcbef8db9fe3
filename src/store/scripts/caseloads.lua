-- Caseloads of a county's current period (KEYS[1] = "gc:{<county>}"), SPEC
-- §12: per counselor (the graduates' assigned_to), the registered this
-- period assigned to them, how many of those were served and how many wait
-- in the queue; those assigned to nobody apart. O(registered) per read: a
-- leader's page, not a hot path. A: {cur}
local cur = roll(A.cur)
local by, names = {}, {}
for _, id in ipairs(redis.call('SDIFF', P .. ':reg:' .. cur)) do
  local who, status = unpack(redis.call('HMGET', P .. ':g:' .. id, 'assigned_to', 'status'))
  local k = who or ''
  local e = by[k]
  if not e then
    e = {counselor = k, registered = 0, served = 0, waiting = 0}
    by[k] = e
    if k ~= '' then
      names[#names + 1] = k
    end
  end
  e.registered = e.registered + 1
  if redis.call('SISMEMBER', P .. ':srv:' .. cur, id) == 1 then
    e.served = e.served + 1
  elseif status == 'seeking' then
    e.waiting = e.waiting + 1
  end
end
table.sort(names)
local list = {}
for i, k in ipairs(names) do
  list[i] = by[k]
end
local none = by[''] or {registered = 0, served = 0, waiting = 0}
none.counselor = nil
return reply({period = cur, counselors = list, unassigned = none})

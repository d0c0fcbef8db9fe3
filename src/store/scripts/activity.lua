-- Counselors' activity in one county (KEYS[1] = "gc:{<county>}"): contacts
-- per counselor in the last 7 and the last 30 local days, today included,
-- from the per-day counters contact.lua keeps (P:act:<day>). Reads at most
-- 30 small hashes. A: {today (local day number)}
-- Answers the flat array {name, last 7 days, last 30 days, name, ...}.
local SHORT, LONG = 7, 30 -- SPEC §11: "contacts in the last 7 and 30 days"
local by, names = {}, {}
for day = A.today - LONG + 1, A.today do
  local flat = redis.call('HGETALL', P .. ':act:' .. string.format('%d', day))
  for i = 1, #flat, 2 do
    local e = by[flat[i]]
    if not e then
      e = {0, 0}
      by[flat[i]] = e
      names[#names + 1] = flat[i]
    end
    local n = tonumber(flat[i + 1]) or 0
    e[2] = e[2] + n
    if day > A.today - SHORT then
      e[1] = e[1] + n
    end
  end
end
local out = {}
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = by[name][1]
  out[#out + 1] = by[name][2]
end
return reply_flat({}, out)

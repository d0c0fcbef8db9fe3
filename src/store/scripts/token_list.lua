-- Every API token's facts, without secrets (KEYS[1] = "gc:{@}"). A: {}
local names = redis.call('HGETALL', P .. ':tokens')
local out = {}
for i = 1, #names, 2 do
  local t = hgetall(P .. ':tok:' .. names[i + 1])
  if t.name then
    out[#out + 1] = t
  end
end
return reply({ok = true, tokens = out})

-- Every silence kept (KEYS[1] = "gc:{@}"): those that ended less than
-- keep_ms ago, are under way or are to come, soonest end first. Reads only.
-- A: {now, keep_ms}
local ids = redis.call('ZRANGEBYSCORE', P .. ':silences',
                       string.format('%d', A.now - A.keep_ms), '+inf')
local out = {}
for _, id in ipairs(ids) do
  local s = hgetall(P .. ':sil:' .. id)
  if s.id then
    out[#out + 1] = s
  end
end
return reply({silences = out})

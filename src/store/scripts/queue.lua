-- The county's seeking graduates not yet served in the current period, longest
-- waiting first (KEYS[1] = "gc:{<county>}"). A: {cur, off, limit}
local cur = roll(A.cur)
local ids = redis.call('ZRANGE', P .. ':queue', 0, A.limit - 1, 'WITHSCORES')
local items = {}
for i = 1, #ids, 2 do
  local v = redis.call('HMGET', P .. ':g:' .. ids[i], 'name', 'phone', 'school', 'major',
                       'registered_at', 'contacts', 'last_contact_at')
  items[#items + 1] = {id = ids[i], since = tonumber(ids[i + 1]), name = v[1], phone = v[2],
                       school = v[3], major = v[4], registered_at = tonumber(v[5]),
                       contacts = tonumber(v[6]) or 0, last_contact_at = tonumber(v[7])}
end
return reply({period = cur, total = redis.call('ZCARD', P .. ':queue'), items = items})

-- Global step after a graduate stops seeking, or after a registration whose
-- county step failed (KEYS[1] = "gc:{@}"): frees the national-ID claim if this
-- graduate still holds it. A: {id, hmac, forget?}
local nidk = P .. ':nid:' .. A.hmac
local holder = redis.call('GET', nidk)
local released = false
if holder and string.match(holder, '^(.*)|%d+$') == A.id then
  redis.call('DEL', nidk)
  released = true
end
if A.forget then
  redis.call('HDEL', P .. ':nids:' .. A.hmac, A.id)
end
return reply({ok = true, released = released})

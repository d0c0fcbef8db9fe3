-- Global step after a graduate stops seeking, or after a registration whose
-- county step failed (KEYS[1] = "gc:{@}"): frees the national-ID claim if this
-- graduate still holds it with the very token this request knows (a claim
-- renewed by a concurrent return to seeking is left alone).
-- A: {id, hmac, token, forget?}
local nidk = P .. ':nid:' .. A.hmac
local holder = redis.call('GET', nidk)
local released = false
if holder and holder == A.token then
  redis.call('DEL', nidk)
  released = true
end
if A.forget then
  redis.call('HDEL', P .. ':nids:' .. A.hmac, A.id)
end
return reply({ok = true, released = released})

-- Global step of erasing a graduate (KEYS[1] = "gc:{@}"), before the county
-- step: the national-ID HMAC no longer leads to this graduate. The id -> county
-- key stays (an id is not personal data, and the tombstone must stay findable).
-- A: {id, hmac}
local nidk = P .. ':nid:' .. A.hmac
local holder = redis.call('GET', nidk)
if holder and string.match(holder, '^([^|]*)|') == A.id then
  redis.call('DEL', nidk)
end
redis.call('HDEL', P .. ':nids:' .. A.hmac, A.id)
return reply({ok = true})

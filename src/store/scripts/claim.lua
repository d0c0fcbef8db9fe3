-- Global step of a registration or a return to seeking (KEYS[1] = "gc:{@}").
-- Claims the graduate id for its county and the national-ID HMAC for this
-- graduate, so that one person is `seeking` in at most one place. A claim left
-- by an attempt that never finished is replaced only when the caller has
-- checked it is stale and names its exact value in A.takeover (so a claim
-- renewed meanwhile is never overwritten). Returns the claim's token, which
-- the county step stores with the graduate and release.lua later compares.
-- A: {id, county, hmac, now, nonce, mode = "register"|"reseek", takeover?}
local gidk = P .. ':gid:' .. A.id
local owner = redis.call('GET', gidk)
-- An id that is another county's, or this county's for another person (the
-- national-ID index does not list it under this HMAC), is refused here, in
-- this one step, either way: the answer, its trace and its timing must not
-- tell the caller which county an id is in. (A re-sent registration of the
-- same person passes, and the county step answers the stored graduate.)
if A.mode == 'register' and owner and
   (owner ~= A.county or not redis.call('HGET', P .. ':nids:' .. A.hmac, A.id)) then
  return reply({err = 'id_taken'})
end
local nidk = P .. ':nid:' .. A.hmac
local holder = redis.call('GET', nidk)
if holder then
  local hid, since = string.match(holder, '^([^|]*)|(%d+)')
  if hid ~= A.id and holder ~= A.takeover then
    return reply({err = 'nid_seeking', holder = hid, holder_value = holder,
                  since = tonumber(since),
                  holder_county = redis.call('GET', P .. ':gid:' .. hid)})
  end
end
-- "<id>|<ms>|<nonce>": unique even for two claims of one graduate within the
-- same millisecond, so a late release of the older one never frees the newer.
local token = A.id .. '|' .. string.format('%d', A.now) .. '|' .. A.nonce
redis.call('SET', gidk, A.county)
redis.call('SET', nidk, token)
redis.call('HSET', P .. ':nids:' .. A.hmac, A.id, A.county)
return reply({ok = true, token = token})

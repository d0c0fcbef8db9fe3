-- Transfer, step 3 of 4, in the global keys (KEYS[1] = "gc:{@}"): the id's
-- county and the national-ID index name the destination. Applied only when
-- the id is still the source's (or the destination's) and the transfer is
-- later than the last one applied: xn is the graduate's own count of
-- transfers, kept in its record (transfer_out.lua), so the order needs no
-- clock, and a late repair of an old transfer never moves the graduate back.
-- A: {id, from, to, xn, hmac?}
local gidk = P .. ':gid:' .. A.id
local last = tonumber(redis.call('GET', P .. ':xf:' .. A.id)) or 0
if last >= A.xn then
  return reply({ok = true, applied = last == A.xn})
end
local owner = redis.call('GET', gidk)
if owner ~= A.from and owner ~= A.to then
  return reply({err = 'moved'})
end
redis.call('SET', gidk, A.to)
redis.call('SET', P .. ':xf:' .. A.id, string.format('%d', A.xn))
if A.hmac and redis.call('HGET', P .. ':nids:' .. A.hmac, A.id) then
  redis.call('HSET', P .. ':nids:' .. A.hmac, A.id, A.to)
end
return reply({ok = true, applied = true})

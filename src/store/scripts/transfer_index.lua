-- Transfer, step 3 of 4, in the global keys (KEYS[1] = "gc:{@}"): the id's
-- county and the national-ID index name the destination. Applied only when
-- the id is still the source's and the transfer is newer than the last one
-- applied (xids begin with their time, zero-padded), so a late repair of an
-- old transfer never moves the graduate back. A: {id, from, to, xid, hmac?}
local gidk = P .. ':gid:' .. A.id
local last = redis.call('GET', P .. ':xf:' .. A.id)
if last and last >= A.xid then
  return reply({ok = true, applied = last == A.xid})
end
local owner = redis.call('GET', gidk)
if owner ~= A.from and owner ~= A.to then
  return reply({err = 'moved'})
end
redis.call('SET', gidk, A.to)
redis.call('SET', P .. ':xf:' .. A.id, A.xid)
if A.hmac and redis.call('HGET', P .. ':nids:' .. A.hmac, A.id) then
  redis.call('HSET', P .. ':nids:' .. A.hmac, A.id, A.to)
end
return reply({ok = true, applied = true})

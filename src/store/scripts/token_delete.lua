-- Revokes an API token by name (KEYS[1] = "gc:{@}"): every server checks the
-- token's key on each request, so it stops working at once everywhere.
-- A: {name}
local sha = redis.call('HGET', P .. ':tokens', A.name)
if not sha then
  return reply({err = 'not_found'})
end
redis.call('DEL', P .. ':tok:' .. sha)
redis.call('HDEL', P .. ':tokens', A.name)
return reply({ok = true})

-- Search index entries of graduates written before the index existed
-- (KEYS[1] = "gc:{<county>}"; search.lua asks for them): each graduate
-- still without ixm gets the entries the server computed.
-- A: {items = [{id, ix = [base...]}]}
for _, it in ipairs(A.items) do
  local g = P .. ':g:' .. it.id
  local status, ixm = unpack(redis.call('HMGET', g, 'status', 'ixm'))
  if status and not ixm then
    ix_set(g, it.id, it.ix)
  end
end
return reply({ok = true})

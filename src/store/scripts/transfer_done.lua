-- Transfer, step 4 of 4, in the source county (KEYS[1] = "gc:{<from>}"): the
-- record left by step 1 and its contacts go (they are in the destination
-- now) and the intent is done. Only the record of this transfer (xfer's xid)
-- is removed; anything else is left alone. A: {id, xid}
local g = P .. ':g:' .. A.id
local xfer = redis.call('HGET', g, 'xfer')
redis.call('ZREM', P .. ':xfer_out', A.id)
if xfer and string.sub(xfer, 1, #A.xid + 1) == A.xid .. '|' then
  -- The number of this transfer stays: a late repair of an earlier
  -- transfer into this county must not bring the record back
  -- (transfer_in.lua).
  redis.call('SET', P .. ':xgone:' .. A.id, redis.call('HGET', g, 'xn') or '0')
  ix_remove(g, A.id)
  redis.call('DEL', g, P .. ':contacts:' .. A.id)
  return reply({ok = true, removed = true})
end
return reply({ok = true, removed = false})

-- The daily digest's turns (KEYS[1] = "gc:{@}"): one per receiver and local
-- day, P:digest:<day>:<receiver>, held by one server at a time. op "claim":
-- a free turn is taken for lease_ms, the holder's own is renewed (it asks
-- before every attempt); "done" or "failed" (the robot took the digest, or
-- refused it for good) closes it for the day, unless another server holds
-- it. Answers each receiver's turn: "claimed", "busy" (another server's),
-- "done" (closed). A: {op, day, owner, lease_ms, names = [receiver, ...]}
-- Closed turns are kept past the day they name (and a clock a day off).
local CLOSED_TTL_S = 3 * 86400
local states = {}
for i, name in ipairs(A.names) do
  local key = P .. ':digest:' .. string.format('%d', A.day) .. ':' .. name
  local v = redis.call('GET', key)
  if v == 'done' or v == 'failed' then
    states[i] = 'done'
  elseif v and v ~= A.owner then
    states[i] = 'busy'
  elseif A.op == 'claim' then
    redis.call('SET', key, A.owner, 'PX', A.lease_ms)
    states[i] = 'claimed'
  else
    redis.call('SET', key, A.op, 'EX', CLOSED_TTL_S)
    states[i] = 'done'
  end
end
return reply({states = states})

-- A correction of a graduate's record (KEYS[1] = "gc:{<county>}"), SPEC §12:
-- name, phone, school, major, graduation_year, flags set or cleared in one
-- step, audited with the names of the changed fields and, for the
-- non-personal ones (graduation_year, flags), their old and new values.
-- Nothing counted changes: no status, time or interval is patched.
-- A: {id, set = {field = value}, clear = [field], ixn?, ixp? (the search
--     index entries of a new name, a new or cleared phone), actor, now, audit}
-- Answers {ok, changed = [fields], graduate} or {err}.
local g = P .. ':g:' .. A.id
local status, erased, xfer = unpack(redis.call('HMGET', g, 'status', 'erased_at', 'xfer'))
if not status then
  return reply({err = 'not_found'})
end
-- Erased personal data is not written again (the person registers anew).
if erased then
  return reply({err = 'erased'})
end
if xfer then
  return reply({err = 'transfer_pending'})
end
-- Fields whose values may go into the audit trail: not personal data.
local PUBLIC = {graduation_year = true, flags = true, assigned_to = true}
local changed, changes, hset, hdel = {}, {}, {}, {}
local function note(field, old, new)
  changed[#changed + 1] = field
  if PUBLIC[field] then
    changes[field] = {old = old or cjson.null, new = new or cjson.null}
  else
    changes[field] = {changed = true}
  end
end
local order = {'name', 'phone', 'school', 'major', 'graduation_year', 'flags', 'assigned_to'}
local clear = {}
for _, f in ipairs(A.clear or {}) do
  clear[f] = true
end
for _, f in ipairs(order) do
  local old = redis.call('HGET', g, f)
  if old == false then
    old = nil
  end
  local new = A.set[f]
  if new ~= nil and new ~= old then
    note(f, old, new)
    hset[#hset + 1] = f
    hset[#hset + 1] = new
  elseif clear[f] and old ~= nil then
    note(f, old, nil)
    hdel[#hdel + 1] = f
  end
end
if #changed == 0 then
  return reply({ok = true, changed = {}, graduate = hgetall(g), audit_result = 'unchanged'})
end
hset[#hset + 1] = 'updated_by'
hset[#hset + 1] = A.actor
hset[#hset + 1] = 'updated_at'
hset[#hset + 1] = string.format('%d', A.now)
redis.call('HSET', g, unpack(hset))
if #hdel > 0 then
  redis.call('HDEL', g, unpack(hdel))
end
-- The ranked queue's index of flagged graduates (queue.lua) follows flags.
if changes.flags then
  local fl = redis.call('HGET', g, 'flags')
  redis.call(fl and fl ~= '' and 'SADD' or 'SREM', P .. ':flagged', A.id)
end
-- The search index follows the name and the phone (A.ixn, A.ixp: their new
-- entries, given when they were patched).
if A.ixn or A.ixp then
  local bases = {}
  for _, b in ipairs(A.ixn or {}) do
    bases[#bases + 1] = b
  end
  for _, b in ipairs(A.ixp or {}) do
    bases[#bases + 1] = b
  end
  ix_set(g, A.id, bases, {n = not A.ixn, p = not A.ixp})
end
return reply({ok = true, changed = changed, graduate = hgetall(g), audit_changes = changes})

-- The county's queue in the current period (KEYS[1] = "gc:{<county>}"):
-- A.view "seeking" (default): the seeking graduates not yet served, longest
-- waiting first; A.view "left_unserved": those registered in the period who
-- left seeking (employed, not_seeking) without being served in it, who
-- still count in the denominator (SPEC §3), earliest departure first.
-- Both answer the period's registered and served and the two sizes, so that
-- total + left_unserved = registered - served always holds on the page.
-- With A.assigned_to, only the graduates assigned to that counselor are
-- listed, and assigned_waiting says how many of the view's there are.
-- A: {cur, off, limit, view?, assigned_to?}
local cur = roll(A.cur)
local registered, served = counts(cur)
local total = redis.call('ZCARD', P .. ':queue')
local function item(id, since)
  local v = redis.call('HMGET', P .. ':g:' .. id, 'name', 'phone', 'school', 'major',
                       'registered_at', 'contacts', 'last_contact_at', 'status', 'status_at',
                       'uad')
  return {id = id, since = since, name = v[1], phone = v[2], school = v[3], major = v[4],
          registered_at = tonumber(v[5]), contacts = tonumber(v[6]) or 0,
          last_contact_at = tonumber(v[7]), status = v[8], status_at = tonumber(v[9]),
          -- days with an unreachable attempt (SPEC §12's flag)
          unreachable_days = v[10] and select(2, string.gsub(v[10], '[^,]+', '')) or 0}
end
local items = {}
local function assigned(id)
  return not A.assigned_to or redis.call('HGET', P .. ':g:' .. id, 'assigned_to') == A.assigned_to
end
if A.view == 'left_unserved' then
  -- O(registered - served) per read: a counselor's occasional list, not the
  -- hot path, and no extra index to keep on every status change.
  local unserved = redis.call('SDIFF', P .. ':reg:' .. cur, P .. ':srv:' .. cur)
  local left = {}
  for _, id in ipairs(unserved) do
    local st, at = unpack(redis.call('HMGET', P .. ':g:' .. id, 'status', 'status_at'))
    if st and st ~= 'seeking' and assigned(id) then
      left[#left + 1] = {id, tonumber(at) or 0}
    end
  end
  table.sort(left, function(a, b)
    return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
  end)
  for i = 1, math.min(#left, A.limit) do
    items[#items + 1] = item(left[i][1], nil)
  end
  if A.assigned_to then
    -- The county's count, as without the filter (total + left_unserved =
    -- registered - served); the counselor's in assigned_waiting.
    return reply({period = cur, total = total,
                  left_unserved = math.max(0, registered - served - total),
                  registered = registered, served = served, items = items,
                  assigned_to = A.assigned_to, assigned_waiting = #left})
  end
  return reply({period = cur, total = total, left_unserved = #left, registered = registered,
                served = served, items = items})
end
if A.assigned_to then
  -- O(queue) per read: the filter reads each waiting graduate's assignee.
  local ids = redis.call('ZRANGE', P .. ':queue', 0, -1, 'WITHSCORES')
  local n = 0
  for i = 1, #ids, 2 do
    if assigned(ids[i]) then
      n = n + 1
      if #items < A.limit then
        items[#items + 1] = item(ids[i], tonumber(ids[i + 1]))
      end
    end
  end
  return reply({period = cur, total = total,
                left_unserved = math.max(0, registered - served - total),
                registered = registered, served = served, items = items,
                assigned_to = A.assigned_to, assigned_waiting = n})
end
local ids = redis.call('ZRANGE', P .. ':queue', 0, A.limit - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  items[#items + 1] = item(ids[i], tonumber(ids[i + 1]))
end
return reply({period = cur, total = total,
              left_unserved = math.max(0, registered - served - total),
              registered = registered, served = served, items = items})

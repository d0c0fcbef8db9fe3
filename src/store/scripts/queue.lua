-- The county's queue in the current period (KEYS[1] = "gc:{<county>}"):
-- A.view "seeking" (default): the seeking graduates not yet served, longest
-- waiting first; A.view "left_unserved": those registered in the period who
-- left seeking (employed, not_seeking) without being served in it, who
-- still count in the denominator (SPEC §3), earliest departure first.
-- Both answer the period's registered and served and the two sizes, so that
-- total + left_unserved = registered - served always holds on the page.
-- With A.assigned_to, only the graduates assigned to that counselor are
-- listed, and assigned_waiting says how many of the view's there are.
-- A.sort "priority" (SPEC §12, the ranked queue): in the seeking view the
-- order is by segment, then waiting since, then id: 0 waiting since at or
-- before A.cut (unserved past queue.sla_days) and flagged, 1 past it, 2
-- flagged, 3 the others; in the left_unserved view flagged ones first.
-- Paging: A.after = {s, t, id}, the last item's key of the page before (a
-- cursor); the page holds the next A.limit items after it and `next` the
-- last one's key when more follow. The key is total, so a walk through the
-- pages lists every graduate waiting throughout it once (docs/design.md).
-- A: {cur, off, limit, view?, assigned_to?, sort?, cut?, after?}
local cur = roll(A.cur)
local registered, served = counts(cur)
local total = redis.call('ZCARD', P .. ':queue')
local priority = A.sort == 'priority'
local function item(it)
  local v = redis.call('HMGET', P .. ':g:' .. it.id, 'name', 'phone', 'school', 'major',
                       'registered_at', 'contacts', 'last_contact_at', 'status', 'status_at',
                       'uad', 'flags')
  return {id = it.id, since = it.t, name = v[1], phone = v[2], school = v[3], major = v[4],
          registered_at = tonumber(v[5]), contacts = tonumber(v[6]) or 0,
          last_contact_at = tonumber(v[7]), status = v[8], status_at = tonumber(v[9]),
          -- days with an unreachable attempt (SPEC §12's flag)
          unreachable_days = v[10] and select(2, string.gsub(v[10], '[^,]+', '')) or 0,
          flags = v[11] or nil, seg = it.s}
end
local function assigned(id)
  return not A.assigned_to or redis.call('HGET', P .. ':g:' .. id, 'assigned_to') == A.assigned_to
end
-- Ids compared byte by byte, as Redis orders members of equal score (Lua's
-- own < follows the server's locale).
local function id_lt(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end
local function key_lt(a, b)
  if a.s ~= b.s then
    return a.s < b.s
  end
  if a.t ~= b.t then
    return a.t < b.t
  end
  return id_lt(a.id, b.id)
end
local after = A.after
local function past_cursor(k)
  return not after or key_lt(after, k)
end
local want = A.limit + 1
-- The page from keys (sorted): A.limit items and the cursor to the next.
local function page(keys)
  local items = {}
  for i = 1, math.min(#keys, A.limit) do
    items[i] = item(keys[i])
  end
  local nxt = nil
  if #keys > A.limit then
    local k = keys[A.limit]
    nxt = {s = k.s, t = k.t, id = k.id}
  end
  return items, nxt
end
-- Whether the graduate carries a hardship flag: P:flagged holds those that
-- do (patch.lua, the transfer scripts). Graduates flagged before the index
-- existed are put in it once per county (marker "fx" in P:cnt).
local function flagged_ids()
  local cnt = P .. ':cnt'
  if not redis.call('HGET', cnt, 'fx') then
    local all = redis.call('ZRANGEBYLEX', P .. ':ix', '[i:', '(i;')
    for _, e in ipairs(all) do
      local id = string.sub(e, 3)
      local fl = redis.call('HGET', P .. ':g:' .. id, 'flags')
      if fl and fl ~= '' then
        redis.call('SADD', P .. ':flagged', id)
      end
    end
    redis.call('HSET', cnt, 'fx', 1)
  end
  return redis.call('SMEMBERS', P .. ':flagged')
end
if A.view == 'left_unserved' then
  -- O(registered - served) per read: a counselor's occasional list, not the
  -- hot path, and no extra index to keep on every status change.
  local unserved = redis.call('SDIFF', P .. ':reg:' .. cur, P .. ':srv:' .. cur)
  local left = {}
  for _, id in ipairs(unserved) do
    local st, at, fl = unpack(redis.call('HMGET', P .. ':g:' .. id, 'status', 'status_at', 'flags'))
    if st and st ~= 'seeking' and assigned(id) then
      local s = (priority and not (fl and fl ~= '')) and 1 or 0
      left[#left + 1] = {s = s, t = tonumber(at) or 0, id = id}
    end
  end
  table.sort(left, key_lt)
  local keys = {}
  for _, k in ipairs(left) do
    if #keys >= want then
      break
    end
    if past_cursor(k) then
      keys[#keys + 1] = k
    end
  end
  local items, nxt = page(keys)
  if A.assigned_to then
    -- The county's count, as without the filter (total + left_unserved =
    -- registered - served); the counselor's in assigned_waiting.
    return reply({period = cur, total = total,
                  left_unserved = math.max(0, registered - served - total),
                  registered = registered, served = served, items = items, next = nxt,
                  assigned_to = A.assigned_to, assigned_waiting = #left})
  end
  return reply({period = cur, total = total, left_unserved = #left, registered = registered,
                served = served, items = items, next = nxt})
end
-- Appends to keys the waiting graduates of segment seg, in queue order
-- (waiting since, then id), with since in [lo, hi] (ZRANGEBYSCORE bounds),
-- past the cursor and passing keep(id), until keys holds `want`. Reads
-- O(page + skipped) members: those skipped are the cursor's ties, flagged
-- ones (listed in their own segment) and, with assigned_to, others'.
local function scan(seg, lo, hi, keep, keys)
  if after and after.s == seg then
    lo = string.format('%d', after.t)
  elseif after and after.s > seg then
    return
  end
  local off, batch = 0, math.max(64, 2 * want)
  while #keys < want do
    local r = redis.call('ZRANGEBYSCORE', P .. ':queue', lo, hi, 'WITHSCORES', 'LIMIT', off, batch)
    for i = 1, #r, 2 do
      local k = {s = seg, t = tonumber(r[i + 1]), id = r[i]}
      if past_cursor(k) and keep(k.id) then
        keys[#keys + 1] = k
        if #keys >= want then
          return
        end
      end
    end
    if #r < 2 * batch then
      return
    end
    off = off + batch
  end
end
local keys = {}
if priority then
  -- O(flagged + page): the county's flagged graduates are read whole (one
  -- ZMSCORE: which still wait, since when), the others page by page from
  -- the queue.
  local cut = string.format('%d', A.cut)
  local isflag, fwait = {}, {}
  local ids = flagged_ids()
  local scores = {}
  for i = 1, #ids, 1000 do
    local part = redis.call('ZMSCORE', P .. ':queue', unpack(ids, i, math.min(i + 999, #ids)))
    for k = 1, #part do
      scores[i + k - 1] = part[k]
    end
  end
  for i, id in ipairs(ids) do
    isflag[id] = true
    local t = tonumber(scores[i])
    if t and assigned(id) then
      local k = {s = t <= A.cut and 0 or 2, t = t, id = id}
      if past_cursor(k) then
        fwait[#fwait + 1] = k
      end
    end
  end
  table.sort(fwait, key_lt)
  local function plain(id)
    return not isflag[id] and assigned(id)
  end
  local fi = 1
  local function take_flagged(seg)
    while #keys < want and fwait[fi] and fwait[fi].s == seg do
      keys[#keys + 1] = fwait[fi]
      fi = fi + 1
    end
  end
  take_flagged(0)
  scan(1, '-inf', cut, plain, keys)
  take_flagged(2)
  scan(3, '(' .. cut, '+inf', plain, keys)
else
  scan(0, '-inf', '+inf', assigned, keys)
end
local items, nxt = page(keys)
local out = {period = cur, total = total,
             left_unserved = math.max(0, registered - served - total),
             registered = registered, served = served, items = items, next = nxt}
if A.assigned_to then
  -- O(queue) per read: how many of the queue are the counselor's.
  local ids = redis.call('ZRANGE', P .. ':queue', 0, -1)
  local n = 0
  for _, id in ipairs(ids) do
    if assigned(id) then
      n = n + 1
    end
  end
  out.assigned_to, out.assigned_waiting = A.assigned_to, n
end
return reply(out)

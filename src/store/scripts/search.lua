-- Finding a county's graduates (KEYS[1] = "gc:{<county>}"), SPEC §12, by
-- the index P:ix (prelude, "The search index"): q matches an id exactly
-- (A.q), a name prefix (A.qn, the entry of q's first 8 characters; A.q
-- filters when longer) or, four digits, a phone's last four (A.qp). No q
-- lists everyone. Matches are read in index order, which writes do not
-- disturb: the cursor is the last entry read, so no graduate present the
-- whole time is repeated or skipped. A graduate matching two ways is given
-- once (by the first range: "i" < "n" < "p").
-- Graduates written before the index existed have no ixm: the first search
-- of the county answers {backfill = [{id, name, phone}]} (up to
-- A.backfill_max) for the server to compute their entries (ix_fill.lua) and
-- ask again; when none is left the county is marked indexed (cnt ixv).
-- A: {q?, qn?, qp?, status?, assigned_to?, cursor?, limit, scan_max,
--     backfill_max, cur}
-- Answers {graduates = [hash...], next = entry or false} or {backfill}.
local ix = P .. ':ix'
if redis.call('HGET', P .. ':cnt', 'ixv') ~= '1' then
  local todo = {}
  -- Every graduate counted in the last ten periods (withdrawn ones, in no
  -- period, are found again once written to).
  for y = A.cur - 10, A.cur do
    for _, id in ipairs(redis.call('SDIFF', P .. ':reg:' .. y)) do
      if #todo >= A.backfill_max then
        break
      end
      local name, phone, ixm =
        unpack(redis.call('HMGET', P .. ':g:' .. id, 'name', 'phone', 'ixm'))
      if not ixm and not todo[id] then
        todo[id] = true
        todo[#todo + 1] = {id = id, name = name or nil, phone = phone or nil}
      end
    end
  end
  if #todo > 0 then
    local list = {}
    for i = 1, #todo do
      list[i] = todo[i]
    end
    return reply({backfill = list})
  end
  redis.call('HSET', P .. ':cnt', 'ixv', '1')
end
local ranges = {}
local q = A.q
if not q then
  ranges[1] = {'i:', 'i;'}
else
  ranges[#ranges + 1] = {'i:' .. q, 'i:' .. q .. '\0'}
  ranges[#ranges + 1] = {A.qn .. '|', A.qn .. '}'}
  if A.qp then
    ranges[#ranges + 1] = {A.qp .. '|', A.qp .. '}'}
  end
end
local function id_of(entry)
  if string.sub(entry, 1, 1) == 'i' then
    return string.sub(entry, 3)
  end
  return string.match(entry, '|(.*)$')
end
local function name_matches(g)
  local name = redis.call('HGET', g, 'name')
  return name and string.sub(name, 1, #q) == q
end
-- Whether the entry is a match to give: the graduate exists, has the status
-- asked, its name really starts with a long q, and no earlier range gave it.
local function wanted(kind, id, g)
  local status = redis.call('HGET', g, 'status')
  if not status or (A.status and A.status ~= status) then
    return false
  end
  if A.assigned_to and redis.call('HGET', g, 'assigned_to') ~= A.assigned_to then
    return false
  end
  if not q then
    return true
  end
  if kind == 'n' then
    return id ~= q and (A.qn_exact or name_matches(g))
  elseif kind == 'p' then
    return id ~= q and not name_matches(g)
  end
  return true
end
local out, last, scanned, exhausted = {}, false, 0, true
local after = A.cursor
for _, rg in ipairs(ranges) do
  if #out >= A.limit or scanned >= A.scan_max then
    exhausted = false
    break
  end
  if not after or after < rg[2] then
    local from = (after and after >= rg[1]) and ('(' .. after) or ('[' .. rg[1])
    after = nil
    while true do
      local want = math.min(A.limit - #out, A.scan_max - scanned)
      if want <= 0 then
        exhausted = false
        break
      end
      local batch = redis.call('ZRANGEBYLEX', ix, from, '(' .. rg[2], 'LIMIT', 0, want)
      for _, e in ipairs(batch) do
        scanned = scanned + 1
        last = e
        from = '(' .. e
        local id = id_of(e)
        local g = P .. ':g:' .. (id or '')
        if id and wanted(string.sub(e, 1, 1), id, g) then
          out[#out + 1] = hgetall(g)
        end
      end
      if #batch < want then
        break
      end
    end
  end
end
return reply({graduates = out, next = (not exhausted) and last or false})

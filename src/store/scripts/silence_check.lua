-- Which of the counties are silenced at instant `at`, or at any instant from
-- `since` to `at` when since is given (KEYS[1] = "gc:{@}"): per county, the
-- latest end of the silences that cover it then (its own and "*"), 0 when
-- none, and the id of that silence. O(silences that have not ended by
-- `since`, of those counties and of "*"); reads only.
-- A: {counties = [code, ...], at, since?}
local since = A.since or A.at
local function covering(c)
  local best, best_id = 0, ''
  local hits = redis.call('ZRANGEBYSCORE', P .. ':silc:' .. c,
                          string.format('(%d', since), '+inf', 'WITHSCORES')
  for i = 1, #hits, 2 do
    local starts = tonumber(redis.call('HGET', P .. ':sil:' .. hits[i], 'starts_at'))
    local ends = tonumber(hits[i + 1])
    if starts and starts <= A.at and ends > best then
      best, best_id = ends, hits[i]
    end
  end
  return best, best_id
end
local all_until, all_id = covering('*')
local untils, ids = {}, {}
for i, c in ipairs(A.counties) do
  local u, id = covering(c)
  if all_until > u then
    u, id = all_until, all_id
  end
  untils[i] = u
  ids[i] = id
end
return reply({['until'] = untils, ids = ids})

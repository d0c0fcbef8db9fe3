-- County step of erasing a graduate's personal data (KEYS[1] = "gc:{<county>}"),
-- the right to deletion (PIPL Art. 47): name, phone, national ID (HMAC and
-- masked form), school, major, free-text status reason and contact notes go;
-- status, seeking intervals and every count stay, so coverage is unchanged.
-- Erasing twice is harmless. A: {id, now, actor}
local g = P .. ':g:' .. A.id
if redis.call('EXISTS', g) == 0 then
  return reply({err = 'not_found'})
end
redis.call('HDEL', g, 'name', 'phone', 'nid_hmac', 'nid_masked', 'nid_claim', 'school', 'major',
           'status_reason')
redis.call('HSET', g, 'erased_at', string.format('%d', A.now), 'erased_by', A.actor)
local ck = P .. ':contacts:' .. A.id
local list = redis.call('LRANGE', ck, 0, -1)
for i, text in ipairs(list) do
  if string.sub(text, 1, 1) == '{' then
    -- A record as older versions stored it: JSON.
    local c = cjson.decode(text)
    if c.note then
      c.note = nil
      redis.call('LSET', ck, i - 1, cjson.encode(c))
    end
  else
    -- contact.lua's record: the note is what follows the counselor's name.
    local head, clen, rest = string.match(text, '^(%w*|%d+|%d+|%d+|%-?%d+|%d+|)(%d+)|(.*)$')
    if head and #rest > tonumber(clen) then
      redis.call('LSET', ck, i - 1, head .. clen .. '|' .. string.sub(rest, 1, tonumber(clen)))
    end
  end
end
redis.call('ZREM', P .. ':left', A.id)
return reply({ok = true, graduate = hgetall(g)})

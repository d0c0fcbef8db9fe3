-- County step of erasing a graduate's personal data (KEYS[1] = "gc:{<county>}"),
-- the right to deletion (PIPL Art. 47): name, phone, national ID (HMAC and
-- masked form), school, major, free-text status and transfer reasons, contact
-- notes and void reasons go;
-- status, seeking intervals and every count stay, so coverage is unchanged.
-- Erasing twice is harmless. A: {id, now, actor}
local g = P .. ':g:' .. A.id
if redis.call('EXISTS', g) == 0 then
  return reply({err = 'not_found'})
end
-- Mid-transfer the record is about to be copied to the destination: erase
-- after the move (retry), or the copy would bring the data back.
if redis.call('HGET', g, 'xfer') then
  return reply({err = 'transfer_pending'})
end
-- Found by id only from now on.
ix_set(g, A.id, {})
redis.call('HDEL', g, 'name', 'phone', 'nid_hmac', 'nid_masked', 'nid_claim', 'school', 'major',
           'status_reason', 'transfer_reason')
redis.call('HSET', g, 'erased_at', string.format('%d', A.now), 'erased_by', A.actor)
local ck = P .. ':contacts:' .. A.id
local list = redis.call('LRANGE', ck, 0, -1)
for i, text in ipairs(list) do
  -- The note and a void's reason are free text: both go (contact_format
  -- keeps each record in the format it was written in).
  local c = contact_parse(text)
  if c and (c.note ~= '' or c.reason ~= '') then
    c.note, c.reason = '', ''
    redis.call('LSET', ck, i - 1, contact_format(c))
  end
end
redis.call('ZREM', P .. ':left', A.id)
return reply({ok = true, graduate = hgetall(g)})

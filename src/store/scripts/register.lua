-- County step of a registration (KEYS[1] = "gc:{<county>}"), after claim.lua.
-- Creates the graduate as `seeking` from A.registered_at and counts it in every
-- period from then to now. Re-sending the same registration (same id, same
-- national ID, same fields) returns the stored graduate instead of a
-- conflict; the same person with other fields is refused with the names of
-- the fields that differ (a correction is a PATCH, SPEC §12).
-- A: {id, county, name, phone?, school?, major?, graduation_year?, nid_hmac,
--     nid_masked, registered_at, registered_at_given, now, cur, off, actor,
--     claim, ix (the search index entries of name and phone), alert?}
local g = P .. ':g:' .. A.id
if redis.call('EXISTS', g) == 1 then
  if redis.call('HGET', g, 'nid_hmac') == A.nid_hmac then
    -- A retry: its claim step renewed the token; keep the graduate's in step.
    if redis.call('HGET', g, 'status') == 'seeking' then
      redis.call('HSET', g, 'nid_claim', A.claim)
    end
    local name, phone, school, major, gy, rat = unpack(redis.call('HMGET', g, 'name', 'phone',
      'school', 'major', 'graduation_year', 'registered_at'))
    local differ = {}
    local function cmp(field, stored, sent)
      if (stored or false) ~= (sent or false) then
        differ[#differ + 1] = field
      end
    end
    cmp('name', name, A.name)
    cmp('phone', phone, A.phone)
    cmp('school', school, A.school)
    cmp('major', major, A.major)
    cmp('graduation_year', gy, A.graduation_year and string.format('%d', A.graduation_year))
    if A.registered_at_given then
      cmp('registered_at', rat, string.format('%d', A.registered_at))
    end
    if #differ > 0 then
      return reply({err = 'differs', fields = differ})
    end
    return reply({ok = true, existed = true, graduate = hgetall(g)})
  end
  return reply({err = 'id_taken'})
end
local cur = roll(math.max(A.cur, period_of(A.registered_at)))
local fields = {
  'id', A.id, 'county', A.county, 'name', A.name, 'nid_hmac', A.nid_hmac,
  'nid_masked', A.nid_masked, 'status', 'seeking',
  'status_at', string.format('%d', A.registered_at),
  'registered_at', string.format('%d', A.registered_at),
  'iv', string.format('%d:', A.registered_at),
  'created_by', A.actor, 'created_at', string.format('%d', A.now), 'contacts', 0,
  'nid_claim', A.claim,
}
for _, k in ipairs({'phone', 'school', 'major', 'assigned_to'}) do
  if A[k] then
    fields[#fields + 1] = k
    fields[#fields + 1] = A[k]
  end
end
if A.graduation_year then
  fields[#fields + 1] = 'graduation_year'
  fields[#fields + 1] = string.format('%d', A.graduation_year)
end
redis.call('HSET', g, unpack(fields))
ix_set(g, A.id, A.ix)
add_seeking(A.id, A.registered_at, cur)
local transition = alert_eval(cur)
return reply({ok = true, existed = false, graduate = hgetall(g), transition = transition})

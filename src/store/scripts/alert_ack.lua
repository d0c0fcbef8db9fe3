-- Acknowledges the county's current alert episode (KEYS[1] = "gc:{<county>}"):
-- who and when (and a comment) are stored on the episode P:ep:<id>, in the
-- same atomic step as the audit entry (object: the episode). An episode is
-- acknowledged once; a second acknowledgement changes nothing and answers
-- the first. A link acknowledges only the episode it was made for, and only
-- while that episode is the county's firing one.
-- A: {now, by, via ("api" | "link"), comment?, ep? (a link's episode), audit}
-- Answers {ok, episode, started_at, acked_at, acked_by, comment?}, or err
-- already_acked (with the first acknowledgement's members), not_firing, or
-- episode_over (a link's episode is not the county's firing one).
local v = redis.call('HMGET', P .. ':cnt', 'alert', 'a_ep')
local current = v[1] == 'firing' and v[2] or nil
if A.ep and A.ep ~= current then
  return reply({err = 'episode_over', audit_object = A.ep, current = current})
end
if not current then
  return reply({err = 'not_firing'})
end
local e = P .. ':ep:' .. current
local prev = redis.call('HMGET', e, 'acked_at', 'acked_by', 'ack_comment', 'started_at')
local started = tonumber(prev[4])
if prev[1] then
  return reply({err = 'already_acked', audit_object = current, episode = current,
                started_at = started, acked_at = tonumber(prev[1]), acked_by = prev[2] or nil,
                comment = prev[3] or nil})
end
local f = {'acked_at', string.format('%d', A.now), 'acked_by', A.by, 'acked_via', A.via}
opt(f, 'ack_comment', A.comment)
redis.call('HSET', e, unpack(f))
return reply({ok = true, audit_object = current, episode = current, started_at = started,
              acked_at = A.now, acked_by = A.by, comment = A.comment})

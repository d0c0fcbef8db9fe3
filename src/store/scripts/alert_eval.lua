-- Timer evaluation of one county's alert (KEYS[1] = "gc:{<county>}"): moves a
-- pending alert to firing once for_seconds have passed, and keeps the state
-- true after a year rollover. With A.remind = {repeat_ms, escalate_ms} it
-- also says whether the firing episode has a repeat or its escalation due
-- (remind = true, episode): the server then checks silences and claims them
-- with alert_remind.lua. A: {cur, off, now, alert, remind?}
local cur = roll(A.cur)
local transition = alert_eval(cur)
local v = redis.call('HMGET', P .. ':cnt', 'alert', 'a_ep')
local state = v[1] or 'ok'
local remind, episode = false, nil
if A.remind and state == 'firing' and v[2] then
  local due = remind_due(remind_fields(v[2]), A.now, A.remind)
  if due['repeat'] or due.escalation then
    remind, episode = true, v[2]
  end
end
return reply({state = state, transition = transition, remind = remind, episode = episode})

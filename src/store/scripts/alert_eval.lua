-- Timer evaluation of one county's alert (KEYS[1] = "gc:{<county>}"): moves a
-- pending alert to firing once for_seconds have passed, and keeps the state
-- true after a year rollover. A: {cur, off, now, alert}
local cur = roll(A.cur)
return reply({state = redis.call('HGET', P .. ':cnt', 'alert') or 'ok',
              transition = alert_eval(cur)})

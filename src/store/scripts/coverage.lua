-- Counts of one county for one period (KEYS[1] = "gc:{<county>}"), rolling the
-- county into the current period first. Used by reads only when the cheap
-- pipelined HMGET saw a county not yet rolled. A: {cur, period, off}
local cur = roll(A.cur)
local registered, served = counts(A.period)
return reply({rolled = cur, registered = registered, served = served})

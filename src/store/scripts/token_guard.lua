-- Liveness of an API token for a request that may not write (KEYS[1] =
-- "gc:{@}"): the prelude already answered token_revoked when A.tok is gone.
-- A: {tok, touch?}: touch (ms) refreshes last_used_at, at most once a minute
-- per token and server, so that reads stay cheap. A Redis that refuses writes
-- (OOM, READONLY, MISCONF) refuses the touch, not the read: it is skipped.
if A.touch then
  redis.pcall('HSET', A.tok, 'last_used_at', string.format('%d', A.touch))
end
return reply({ok = true})

-- Liveness of an API token for a request that may not write (KEYS[1] =
-- "gc:{@}"): the prelude already answered token_revoked when A.tok is gone.
-- A: {tok, touch?}: touch (ms) refreshes last_used_at, at most once a minute
-- per token and server, so that reads stay cheap.
if A.touch then
  redis.call('HSET', A.tok, 'last_used_at', string.format('%d', A.touch))
end
return reply({ok = true})

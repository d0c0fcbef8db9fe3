-- Creates an API token (KEYS[1] = "gc:{@}"). Only its SHA-256 is stored:
-- P:tok:<sha256 hex> holds the token's facts, P:tokens maps name -> sha256.
-- A: {name, sha, role, county?, expires_at?, now, created_by}
if redis.call('HSETNX', P .. ':tokens', A.name, A.sha) == 0 then
  return reply({err = 'name_taken'})
end
local f = {'name', A.name, 'role', A.role, 'created_at', string.format('%d', A.now),
           'created_by', A.created_by}
opt(f, 'county', A.county)
opt(f, 'expires_at', A.expires_at and string.format('%d', A.expires_at))
redis.call('HSET', P .. ':tok:' .. A.sha, unpack(f))
return reply({ok = true})

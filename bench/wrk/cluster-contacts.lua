-- wrk script for bench/cluster-http: POST /api/v1/contacts, every request a
-- new Idempotency-Key, consecutive requests in consecutive counties (so that
-- a cluster's three masters share the load), each with its county's
-- counselor token ("<BENCH_TOKEN_PREFIX>-<code>"), graduates rotating within
-- the county. Counties are BENCH_CODE_BASE+1 .. +BENCH_COUNTIES, graduates
-- "G<code>-<j>" for j < BENCH_PER (what bench/cluster-http registered).
package.path = os.getenv('BENCH_DIR') .. '/wrk/?.lua;' .. package.path
local C = require('common')

local next_tid = 0
function setup(thread)
  thread:set('tid', next_tid)
  next_tid = next_tid + 1
end

local run, prefix, base, counties, per
n = 0

function init(args)
  run = C.env('BENCH_RUN')
  prefix = C.env('BENCH_TOKEN_PREFIX')
  base = tonumber(C.env('BENCH_CODE_BASE'))
  counties = tonumber(C.env('BENCH_COUNTIES'))
  per = tonumber(C.env('BENCH_PER'))
end

function request()
  local k = n
  n = n + 1
  local code = string.format('%06d', base + 1 + k % counties)
  local gid = string.format('G%s-%06d', code, math.floor(k / counties) % per)
  local body = string.format(
    '{"graduate_id":"%s","service":"%s","channel":"%s","note":"%s"}',
    gid, C.services[k % 10 + 1], C.channels[k % 5 + 1], C.note)
  return wrk.format('POST', '/api/v1/contacts', {
    ['Authorization'] = 'Bearer ' .. prefix .. '-' .. code,
    ['Content-Type'] = 'application/json',
    ['Idempotency-Key'] = string.format('%s-%d-%d', run, tid, k),
  }, body)
end

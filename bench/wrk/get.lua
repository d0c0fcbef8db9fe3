-- wrk script: GET BENCH_PATH with BENCH_TOKEN (coverage, /metrics).
package.path = os.getenv('BENCH_DIR') .. '/wrk/?.lua;' .. package.path
local C = require('common')
local req
function init(args)
  req = wrk.format('GET', C.env('BENCH_PATH'), {['Authorization'] = 'Bearer ' .. C.env('BENCH_TOKEN')})
end
function request()
  return req
end

-- BENCH_DELAY_MS: each connection waits this long between requests (a
-- dashboard polling at a fixed interval instead of a closed loop).
local delay_ms = tonumber(os.getenv('BENCH_DELAY_MS') or '')
if delay_ms then
  function delay()
    return delay_ms
  end
end

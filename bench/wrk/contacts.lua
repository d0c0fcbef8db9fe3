-- wrk script: POST /api/v1/contacts to gradcoverd.
--   BENCH_MODE=new     every request a new Idempotency-Key, rotating graduates
--   BENCH_MODE=replay  the keys (and identical bodies) of the last "new" run
--   BENCH_MODE=mixed   95% new contacts, 5% GET BENCH_POLL_PATH (dashboards)
-- Keys are "<BENCH_RUN>-<thread>-<n>"; the body is a function of n, so a
-- replay sends exactly the bytes of the first request. The "new" run writes
-- each thread's count to BENCH_COUNTS for the replay run.
package.path = os.getenv('BENCH_DIR') .. '/wrk/?.lua;' .. package.path
local C = require('common')

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set('tid', next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local mode, run, token, occurred, poll_path, limit
n = 0

function init(args)
  mode = C.env('BENCH_MODE')
  run = C.env('BENCH_RUN')
  token = C.env('BENCH_TOKEN')
  occurred = C.env('BENCH_OCCURRED')
  poll_path = C.env('BENCH_POLL_PATH', '/api/v1/coverage')
  poll_token = C.env('BENCH_POLL_TOKEN', token)
  if mode == 'replay' then
    local f = assert(io.open(C.env('BENCH_COUNTS'), 'r'))
    local counts = {}
    for line in f:lines() do
      local t, c = line:match('^(%d+) (%d+)$')
      counts[tonumber(t)] = tonumber(c)
    end
    f:close()
    limit = counts[tid]
    assert(limit and limit > 0, 'bench: no counts for thread ' .. tid)
    -- Replay at most this many distinct keys per thread (all acknowledged).
    limit = math.min(limit, tonumber(C.env('BENCH_REPLAY_WINDOW', '5000')))
  end
end

local function contact(k)
  local _, gid = C.graduate(k * 7919 + tid) -- spread threads over graduates
  local body = string.format(
    '{"graduate_id":"%s","service":"%s","channel":"%s","occurred_at":"%s","note":"%s"}',
    gid, C.services[k % 10 + 1], C.channels[k % 5 + 1], occurred, C.note)
  return wrk.format('POST', '/api/v1/contacts', {
    ['Authorization'] = 'Bearer ' .. token,
    ['Content-Type'] = 'application/json',
    ['Idempotency-Key'] = string.format('%s-%d-%d', run, tid, k),
  }, body)
end

function request()
  local k = n
  n = n + 1
  if mode == 'replay' then
    return contact(k % limit)
  end
  if mode == 'mixed' and k % 20 == 19 then
    return wrk.format('GET', poll_path, {['Authorization'] = 'Bearer ' .. poll_token})
  end
  return contact(k)
end

function done(summary, latency, requests)
  if C.env('BENCH_MODE') == 'new' then
    local f = assert(io.open(C.env('BENCH_COUNTS'), 'w'))
    for _, t in ipairs(threads) do
      -- n counts requests built; the last one per connection may be unanswered,
      -- so leave a margin of the connections' worth.
      local made = tonumber(t:get('n')) - tonumber(C.env('BENCH_CONNECTIONS'))
      f:write(string.format('%d %d\n', t:get('tid'), made))
    end
    f:close()
  end
end

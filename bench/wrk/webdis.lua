-- wrk script: the same contact through webdis: POST / with the body
-- "EVALSHA/<sha>/1/gc:{<county>}/<arguments>", the argument object being the
-- one gradcoverd sends for a counselor contact (new id and idempotency key per
-- request, graduates rotating within BENCH_COUNTY), with the audit entry
-- gradcoverd attaches. "/" would be a webdis separator; the arguments have none.
package.path = os.getenv('BENCH_DIR') .. '/wrk/?.lua;' .. package.path
local C = require('common')

local next_tid = 0
function setup(thread)
  thread:set('tid', next_tid)
  next_tid = next_tid + 1
end

local sha, run, now, cur, off, occurred_ms, keep_ms
n = 0

function init(args)
  sha = C.env('BENCH_SHA')
  run = C.env('BENCH_RUN')
  now = C.env('BENCH_NOW_MS')
  cur = C.env('BENCH_CUR')
  off = C.env('BENCH_OFF')
  occurred_ms = C.env('BENCH_OCCURRED_MS')
  keep_ms = C.env('BENCH_AUDIT_KEEP_MS')
end

function request()
  local k = n
  n = n + 1
  local county, gid = C.graduate(k * 7919 + tid)
  local args = string.format(
    '{"id":"W%015d","graduate_id":"%s","service":"%s","channel":"%s","occurred_at":%s,' ..
    '"counselor":"bench.counselor","now":%s,"cur":%s,"off":%s,"idem_ttl":172800,' ..
    '"note":"%s","idem":"%s-%d-%d","body_hash":' ..
    '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",' ..
    '"threshold_bp":9000,"alert":{"threshold_bp":9000,"clear_bp":0,"for_ms":0},' ..
    '"audit":{"who":"bench.counselor","role":"counselor","action":"contact.create",' ..
    '"object":"%s","rid":"W%07d-%x","keep_ms":%s}}',
    k, gid, C.services[k % 10 + 1], C.channels[k % 5 + 1], occurred_ms, now, cur, off,
    C.note, run, tid, k, gid, tid, k, keep_ms)
  return wrk.format('POST', '/', {['Content-Type'] = 'text/plain'},
                    'EVALSHA/' .. sha .. '/1/gc:{' .. county .. '}/' .. args)
end

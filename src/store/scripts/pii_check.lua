-- Guards against a server running with another PII key than the one this
-- Redis was written with (KEYS[1] = "gc:{@}"): national-ID look-ups and
-- duplicate detection would silently stop matching. The first server records
-- its key's fingerprint; every later one compares. A: {fp}
-- It is also the store's probe (store_set_probe), run every second: the SET
-- comes first, so that a Redis refusing writes (OOM, READONLY, MISCONF)
-- refuses the whole check, and a fingerprint lost to FLUSHALL or a restore is
-- written again. SET NX of a key that exists changes nothing (no AOF entry).
local k = P .. ':pii_key_check'
redis.call('SET', k, A.fp, 'NX')
return reply({ok = redis.call('GET', k) == A.fp})

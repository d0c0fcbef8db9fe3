-- Guards against a server running with another PII key than the one this
-- Redis was written with (KEYS[1] = "gc:{@}"): national-ID look-ups and
-- duplicate detection would silently stop matching. The first server records
-- its key's fingerprint; every later one compares. A: {fp}
local k = P .. ':pii_key_check'
redis.call('SET', k, A.fp, 'NX')
return reply({ok = redis.call('GET', k) == A.fp})

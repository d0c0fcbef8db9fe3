-- The transfers of this source county (KEYS[1] = "gc:{<county>}") whose
-- step 1 is older than A.before (ms) and not done: for the repair job to
-- finish (docs/design.md, "Transfers"). A: {before, limit}
return reply({ids = redis.call('ZRANGEBYSCORE', P .. ':xfer_out', '-inf',
                               string.format('%d', A.before), 'LIMIT', 0, A.limit)})

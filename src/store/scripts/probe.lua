-- A Redis Cluster master's own probe (cluster.c, one per master): KEYS[1] is
-- "gc:{@p<n>}", the first such prefix whose slot that master serves. It must
-- write, so that a master refusing writes (OOM, READONLY, MISCONF) refuses
-- it, and its answer is how that master's store learns that writes are
-- accepted again (store.c, store_set_probe). SET NX of a key that exists
-- changes nothing (no AOF entry). A: {}
redis.call('SET', P .. ':probe', '1', 'NX')
return reply({ok = true})

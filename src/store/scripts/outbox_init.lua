-- Makes sure the county's outbox stream and its consumer group "delivery"
-- exist (KEYS[1] = "gc:{<county>}"), so that XREADGROUP over every county never
-- meets a missing group. Idempotent. A: {}
redis.pcall('XGROUP', 'CREATE', P .. ':outbox', 'delivery', '0', 'MKSTREAM')
return reply({ok = true})

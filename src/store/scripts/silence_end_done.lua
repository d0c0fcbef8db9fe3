-- The end of silence `id` has been handled for every county it covered
-- (KEYS[1] = "gc:{@}"): silence_ends_due lists it no more. A: {id}
return reply({ok = true, removed = redis.call('ZREM', P .. ':silence_ends', A.id)})

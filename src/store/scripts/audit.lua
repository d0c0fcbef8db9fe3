-- One audit entry for a read of personal data (KEYS[1] = "gc:{<county>}" or
-- "gc:{@}"): the prelude's reply() appends A.audit with A.audit.result.
return reply({ok = true})

-- gradcover: helpers prepended to every script at build time (cmake/embed.cmake).
-- Each script gets its key prefix in KEYS[1] ("gc:{<county>}" or "gc:{@}") and
-- one JSON object of arguments in ARGV[1]; it answers one JSON text. Every key a
-- script touches is derived from KEYS[1] and so shares its Cluster slot.
-- Key layout: docs/design.md.

local P = KEYS[1]
local A = cjson.decode(ARGV[1])
local DAY_MS = 86400000

-- Appends field k and its value v to the flat list f (for HSET, XADD) when v
-- is set: the optional members of a record.
local function opt(f, k, v)
  if v then
    f[#f + 1] = k
    f[#f + 1] = v
  end
end

-- Requests made with an API-issued token (not a config one) pass the token's
-- key in A.tok: a token revoked on any server changes nothing, checked in the
-- same atomic step as the write it would have made.
if A.tok and redis.call('EXISTS', A.tok) == 0 then
  return cjson.encode({err = 'token_revoked'})
end

-- The audit trail (docs/security.md): with A.audit = {who, role, action,
-- object, rid, keep_ms, result?, crid?, from?}, every answer a script gives is
-- appended to the append-only stream P:audit in the same atomic step: who did
-- what to which object and with what outcome, never a personal data value.
-- rid is the server's request id; crid, when present, the client's own
-- X-Request-Id, kept beside it; from, the county a request came from when it
-- concerned this county's graduate from another one. Entries older than
-- keep_ms (by Redis's clock)
-- are trimmed as new ones arrive. t.audit_changes, when set, is kept as the
-- entry's "chg" (JSON): a correction's old and new non-personal values;
-- t.audit_result names a success that changed nothing (already_voided).
local function audit(t)
  local au = A.audit
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local result = t.err or (t.replayed and 'replayed') or t.audit_result or au.result or 'ok'
  local f = {'who', au.who, 'role', au.role, 'action', au.action,
             'object', t.audit_object or au.object or '', 'result', result, 'rid', au.rid}
  opt(f, 'crid', au.crid)
  opt(f, 'from', au.from)
  -- A correction's old and new values (never personal data: the scripts
  -- put only ids, codes, counts and the names of changed fields here).
  opt(f, 'chg', t.audit_changes and cjson.encode(t.audit_changes))
  redis.call('XADD', P .. ':audit', 'MINID', '~', string.format('%d', ms - au.keep_ms), '*',
             unpack(f))
end

-- ---- Daily points (docs/design.md, "History") ----
-- P:hist:<Y> is a hash of the county's counts of period Y by local day:
-- field <day> (days since 1970-01-01 in the configured offset), value
-- "<registered>:<served>". A day's point is written by the scripts that
-- change the period's counts, in the same atomic step, so it holds the
-- counts as they were at the end of that day. The hash holds every day from
-- its first point to its last (hf:<Y> and hl:<Y> in P:cnt): the days between
-- two changes are filled in when the second is written, so that a reader
-- finds any day's point with one HGET (the hash is a listpack: HGETALL or
-- many HMGET fields are a walk of the whole year). Days after the last point
-- are carried forward by readers.

local function day_of(ms)
  return math.floor((ms + A.off * 60000) / DAY_MS)
end

-- Days since 1970-01-01 of 1 January of year y (Hinnant's days_from_civil).
local function year_first_day(y)
  y = y - 1 -- January counts with the year before, from March
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + 306
  return era * 146097 + doe - 719468
end

-- Writes the point of period y on `day` from its current counters, and the
-- days since the period's last point with that point's values (nothing
-- changed the counts in between, or a point would have been written then).
local function hist_write(y, day)
  local cnt, h = P .. ':cnt', P .. ':hist:' .. y
  local v = redis.call('HMGET', cnt, 'r:' .. y, 's:' .. y, 'hf:' .. y, 'hl:' .. y)
  local first, last = tonumber(v[3]), tonumber(v[4])
  local f = {}
  local carried = last and last < day - 1 and redis.call('HGET', h, string.format('%d', last))
  if carried then
    for d = last + 1, day - 1 do
      f[#f + 1] = string.format('%d', d)
      f[#f + 1] = carried
    end
  end
  f[#f + 1] = string.format('%d', day)
  f[#f + 1] = string.format('%d:%d', tonumber(v[1]) or 0, tonumber(v[2]) or 0)
  redis.call('HSET', h, unpack(f))
  if not first or day < first then
    redis.call('HSET', cnt, 'hf:' .. y, string.format('%d', day))
  end
  if not last or day > last then
    redis.call('HSET', cnt, 'hl:' .. y, string.format('%d', day))
  end
end

-- Periods whose counts this script changed; their points are written once,
-- as the script answers (hist_flush), from the counts it leaves.
local hist_touched = {}
local function hist_touch(y)
  hist_touched[y] = true
end

-- Today's point of every touched period. A period other than today's gets
-- its nearest day: 31 December for a past one (a back-dated change: the
-- year's last point is its final value), 1 January for a later one (a
-- server whose clock is behind the county's rolled year).
local function hist_flush()
  if not next(hist_touched) then
    return
  end
  local today = day_of(A.now)
  for y in pairs(hist_touched) do
    local first, next_first = year_first_day(y), year_first_day(y + 1)
    hist_write(y, math.max(first, math.min(today, next_first - 1)))
  end
  hist_touched = {}
end

local function reply(t)
  hist_flush()
  if A.audit then
    audit(t)
  end
  t.audit_object, t.audit_changes, t.audit_result = nil, nil, nil
  return cjson.encode(t)
end

-- reply(t) for a hot path whose answer the server reads as a flat array
-- (no JSON to encode here nor to parse there): t is audited, `flat` returned.
-- Only numbers and strings in `flat` (false would end the array).
local function reply_flat(t, flat)
  hist_flush()
  if A.audit then
    audit(t)
  end
  return flat
end

-- Year of a day count since 1970-01-01 (Hinnant's civil_from_days, as in timeutil.c).
local function year_of_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
                          - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local y = yoe + era * 400
  if mp >= 10 then y = y + 1 end
  return y
end

-- The period (calendar year in the configured UTC offset) of an instant in ms.
local function period_of(ms)
  return year_of_days(math.floor((ms + A.off * 60000) / DAY_MS))
end

-- Seeking intervals are stored as "start:end,start:end,start:" (ms; the last
-- one open while the graduate is seeking).
local function parse_intervals(s)
  local out = {}
  for a, b in string.gmatch(s or '', '(%d+):(%d*)') do
    out[#out + 1] = {tonumber(a), tonumber(b)}
  end
  return out
end

local function format_intervals(iv)
  local parts = {}
  for i, v in ipairs(iv) do
    parts[i] = string.format('%d:%s', v[1], v[2] and string.format('%d', v[2]) or '')
  end
  return table.concat(parts, ',')
end

local function cnt_incr(field, by)
  redis.call('HINCRBY', P .. ':cnt', field, by)
end

-- Brings the county's materialised periods up to `cur` (at least): everyone
-- still seeking joins each new year's registered set, and the queue is rebuilt
-- for the new current period. Runs once per county per year, inside whichever
-- script first touches the county in the new year, so several servers and
-- restarts agree. Returns the county's current period.
local function roll(cur)
  local cnt = P .. ':cnt'
  local rolled = tonumber(redis.call('HGET', cnt, 'rolled'))
  if rolled == nil then
    redis.call('HSET', cnt, 'rolled', cur)
    return cur
  end
  if rolled >= cur then
    return rolled
  end
  local seeking = redis.call('ZRANGE', P .. ':seeking', 0, -1)
  for y = rolled + 1, cur do
    local reg = P .. ':reg:' .. y
    for i = 1, #seeking, 1000 do
      redis.call('SADD', reg, unpack(seeking, i, math.min(i + 999, #seeking)))
    end
    redis.call('HSET', cnt, 'r:' .. y, redis.call('SCARD', reg))
    -- The new year's first point: everyone still seeking, nobody served yet
    -- (1 January's counts, whichever day the roll runs: nothing changed the
    -- county in between, or it would have rolled then).
    hist_write(y, year_first_day(y))
  end
  redis.call('DEL', P .. ':queue')
  if #seeking > 0 then
    redis.call('ZUNIONSTORE', P .. ':queue', 1, P .. ':seeking')
  end
  redis.call('HSET', cnt, 'rolled', cur)
  return cur
end

-- A seeking interval starting at `start` (ms): the graduate counts in every
-- period from the start's to `cur`, and waits in the queue unless served now.
local function add_seeking(id, start, cur)
  for y = period_of(start), cur do
    if redis.call('SADD', P .. ':reg:' .. y, id) == 1 then
      cnt_incr('r:' .. y, 1)
      hist_touch(y)
    end
  end
  redis.call('ZADD', P .. ':seeking', start, id)
  if redis.call('SISMEMBER', P .. ':srv:' .. cur, id) == 0 then
    redis.call('ZADD', P .. ':queue', start, id)
  end
end

local function drop_from_period(id, y)
  if redis.call('SREM', P .. ':reg:' .. y, id) == 1 then
    cnt_incr('r:' .. y, -1)
    hist_touch(y)
  end
  if redis.call('SREM', P .. ':srv:' .. y, id) == 1 then
    cnt_incr('s:' .. y, -1)
    hist_touch(y)
  end
end

-- The interval closes at `stop`: periods after the stop's no longer count it
-- (it is the latest interval, so no earlier one reaches them).
local function end_seeking(id, stop, cur)
  redis.call('ZREM', P .. ':seeking', id)
  redis.call('ZREM', P .. ':queue', id)
  for y = period_of(stop) + 1, cur do
    drop_from_period(id, y)
  end
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do
    t[flat[i]] = flat[i + 1]
  end
  return t
end

-- SPEC §12's service package: whether the graduate's counters h (its hash
-- as a table) complete every item of `all` ([[field, count], ...], the
-- server's package) in period y (contact.lua's "k<y>:<field>").
local function package_done(h, y, all)
  if not all or #all == 0 then
    return false
  end
  for _, it in ipairs(all) do
    if (tonumber(h['k' .. y .. ':' .. it[1]]) or 0) < it[2] then
      return false
    end
  end
  return true
end

local function counts(y)
  local v = redis.call('HMGET', P .. ':cnt', 'r:' .. y, 's:' .. y)
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0
end

-- ---- Alerts (SPEC §7) ----
-- State in the county's counters hash: alert = ok|pending|firing, a_since (ms:
-- when pending or firing began), a_ep (the open episode), a_seq (episodes so
-- far). Episodes: hash P:ep:<id>, indexed by start in zset P:episodes.
-- Transitions append an event to the stream P:outbox (consumer group
-- "delivery") in the same atomic step as the write that caused them.
local OUTBOX_MAXLEN = 10000

local function emit(status, ep, period, reg, srv, started, resolved)
  local outbox = P .. ':outbox'
  redis.pcall('XGROUP', 'CREATE', outbox, 'delivery', '0', 'MKSTREAM')
  local f = {'event_id', ep .. ':' .. status, 'episode', ep, 'status', status,
             'period', period, 'registered', reg, 'served', srv,
             'threshold_bp', A.alert.threshold_bp, 'started_at', string.format('%d', started)}
  opt(f, 'resolved_at', resolved and string.format('%d', resolved))
  redis.call('XADD', outbox, 'MAXLEN', '~', OUTBOX_MAXLEN, '*', unpack(f))
end

-- Evaluates the county's alert on its current-period counts. A.alert =
-- {threshold_bp, clear_bp, for_ms}; A.now. Returns the transition made
-- ("pending", "firing", "resolved", "cancelled") or nil.
local function alert_eval(cur)
  local al = A.alert
  if not al then
    return nil
  end
  local now = A.now
  local cnt = P .. ':cnt'
  local v = redis.call('HMGET', cnt, 'alert', 'a_since', 'a_ep', 'r:' .. cur, 's:' .. cur)
  local state, since, ep = v[1] or 'ok', tonumber(v[2]), v[3]
  local reg, srv = tonumber(v[4]) or 0, tonumber(v[5]) or 0
  local below = reg > 0 and srv * 10000 < al.threshold_bp * reg
  local clear_bp = math.min(10000, al.threshold_bp + al.clear_bp)
  local recovered = reg == 0 or srv * 10000 >= clear_bp * reg
  local rate_bp = reg > 0 and math.floor(srv * 10000 / reg) or 10000
  if state == 'firing' then
    local e = P .. ':ep:' .. ep
    if recovered then
      redis.call('HSET', e, 'status', 'resolved', 'resolved_at', string.format('%d', now),
                 'end_registered', reg, 'end_served', srv)
      redis.call('HSET', cnt, 'alert', 'ok')
      redis.call('HDEL', cnt, 'a_since', 'a_ep')
      emit('resolved', ep, cur, reg, srv, tonumber(redis.call('HGET', e, 'started_at')), now)
      return 'resolved'
    end
    if rate_bp < (tonumber(redis.call('HGET', e, 'low_bp')) or 10000) then
      redis.call('HSET', e, 'low_bp', rate_bp, 'low_registered', reg, 'low_served', srv)
    end
    return nil
  end
  if not below then
    if state == 'pending' then
      redis.call('HSET', cnt, 'alert', 'ok')
      redis.call('HDEL', cnt, 'a_since')
      return 'cancelled'
    end
    return nil
  end
  if state ~= 'pending' and al.for_ms > 0 then
    redis.call('HSET', cnt, 'alert', 'pending', 'a_since', string.format('%d', now))
    return 'pending'
  end
  if state == 'pending' and now - since < al.for_ms then
    return nil
  end
  local seq = redis.call('HINCRBY', cnt, 'a_seq', 1)
  local code = string.match(P, '{(.*)}')
  local id = code .. '-' .. cur .. '-' .. seq
  local started = state == 'pending' and since or now
  redis.call('HSET', P .. ':ep:' .. id, 'id', id, 'county', code, 'period', cur,
             'status', 'firing', 'started_at', string.format('%d', started),
             'fired_at', string.format('%d', now),
             'threshold_bp', al.threshold_bp, 'start_registered', reg, 'start_served', srv,
             'start_bp', rate_bp, 'low_bp', rate_bp, 'low_registered', reg, 'low_served', srv)
  redis.call('ZADD', P .. ':episodes', started, id)
  redis.call('HSET', cnt, 'alert', 'firing', 'a_since', string.format('%d', started), 'a_ep', id)
  emit('firing', id, cur, reg, srv, started, nil)
  return 'firing'
end

-- ---- Contact records (docs/design.md, "Contact records") ----
-- "<id>|<svc>|<ch>|<occurred_at>|<recorded_at - occurred_at>|<period>|[<ext>|]
-- <n>|<counselor><note><voider><reason>": service, channel and outcome as
-- their index in the API's lists (src/domain/services.c), n the byte length
-- of the counselor's name. ext is written only when one of its items is:
-- o<k> the outcome (1 unreachable, 2 declined; none: reached), v<ms> voided
-- at, b<bytes> and r<bytes> the lengths of the voider's name and of the
-- reason, which follow the note. Every record written before outcomes has
-- no ext: reached, not voided. The first versions wrote JSON objects
-- ({id, service, channel, occurred_at, recorded_at, period, counselor,
-- note?}, and voided_at, voided_by, void_reason? once voided).
-- contact.lua writes the common record itself (the hot path);
-- src/domain/contact_record.c reads them for the API.
local function contact_parse(text)
  if string.sub(text, 1, 1) == '{' then
    local j = cjson.decode(text)
    return {json = j, id = j.id, service = j.service, occ = tonumber(j.occurred_at),
            delta = (tonumber(j.recorded_at) or 0) - (tonumber(j.occurred_at) or 0),
            period = tonumber(j.period), o = 0, voided_at = tonumber(j.voided_at),
            counselor = j.counselor or '', note = j.note or '', voided_by = j.voided_by or '',
            reason = j.void_reason or ''}
  end
  local id, svc, ch, occ, delta, period, rest =
    string.match(text, '^(%w*)|(%d+)|(%d+)|(%d+)|(%-?%d+)|(%d+)|(.*)$')
  if not id then
    return nil
  end
  local ext, n, tail = string.match(rest, '^(%l[%w,]*)|(%d+)|(.*)$')
  if not ext then
    n, tail = string.match(rest, '^(%d+)|(.*)$')
    if not n then
      return nil
    end
  end
  local c = {id = id, svc = tonumber(svc), ch = tonumber(ch), occ = tonumber(occ),
             delta = tonumber(delta), period = tonumber(period), o = 0}
  local vb, rl = 0, 0
  for k, v in string.gmatch(ext or '', '(%l)(%d+)') do
    if k == 'o' then c.o = tonumber(v)
    elseif k == 'v' then c.voided_at = tonumber(v)
    elseif k == 'b' then vb = tonumber(v)
    elseif k == 'r' then rl = tonumber(v)
    end
  end
  n = tonumber(n)
  local note_end = #tail - vb - rl
  c.counselor = string.sub(tail, 1, n)
  c.note = string.sub(tail, n + 1, note_end)
  c.voided_by = string.sub(tail, note_end + 1, note_end + vb)
  c.reason = string.sub(tail, note_end + vb + 1)
  return c
end

-- The text of a record read by contact_parse (JSON stays JSON).
local function contact_format(c)
  if c.json then
    local j = c.json
    j.voided_at = c.voided_at
    j.voided_by = c.voided_at and c.voided_by or nil
    j.void_reason = c.reason ~= '' and c.reason or nil
    j.note = c.note ~= '' and c.note or nil
    return cjson.encode(j)
  end
  local ext = {}
  if c.o > 0 then
    ext[#ext + 1] = string.format('o%d', c.o)
  end
  if c.voided_at then
    ext[#ext + 1] = string.format('v%d', c.voided_at)
    ext[#ext + 1] = string.format('b%d', #c.voided_by)
    if #c.reason > 0 then
      ext[#ext + 1] = string.format('r%d', #c.reason)
    end
  end
  local e = #ext > 0 and (table.concat(ext, ',') .. '|') or ''
  return string.format('%s|%d|%d|%d|%d|%d|%s%d|%s%s%s%s', c.id, c.svc, c.ch, c.occ, c.delta,
                       c.period, e, #c.counselor, c.counselor, c.note, c.voided_by or '',
                       c.reason or '')
end

-- ---- The search index (search.lua; docs/design.md, "Finding people") ----
-- P:ix, every score 0, read in lexical order: "i:<id>" for every graduate,
-- "n:<hex>|<id>" for each prefix of the name and "p:<hex>|<id>" for the
-- phone's last four digits, the hex an HMAC the server computes (the index
-- holds no name or number in clear). The graduate's own entries are kept in
-- its hash as ixm ("e1,e2,..."), so that they can be taken out again.
local function ix_entries(g)
  local out = {}
  for e in string.gmatch(redis.call('HGET', g, 'ixm') or '', '[^,]+') do
    out[#out + 1] = e
  end
  return out
end

-- The graduate's entries become "i:<id>" plus the bases given (without
-- "|<id>"), the ones of a kind not given ('n' or 'p': keep[kind]) kept.
local function ix_set(g, id, bases, keep)
  local old = ix_entries(g)
  local new = {'i:' .. id}
  for _, e in ipairs(old) do
    local kind = string.sub(e, 1, 1)
    if keep and keep[kind] then
      new[#new + 1] = e
    end
  end
  for _, b in ipairs(bases or {}) do
    new[#new + 1] = b .. '|' .. id
  end
  if #old > 0 then
    redis.call('ZREM', P .. ':ix', unpack(old))
  end
  local z = {}
  for _, e in ipairs(new) do
    z[#z + 1] = 0
    z[#z + 1] = e
  end
  redis.call('ZADD', P .. ':ix', unpack(z))
  redis.call('HSET', g, 'ixm', table.concat(new, ','))
end

-- Out of the index entirely (the record leaves the county).
local function ix_remove(g, id)
  local old = ix_entries(g)
  old[#old + 1] = 'i:' .. id
  redis.call('ZREM', P .. ':ix', unpack(old))
  redis.call('HDEL', g, 'ixm')
end

-- ---- Repeats and escalation (SPEC §11) ----
-- Of a firing episode e (its hash's fired_at, started_at, acked_at, rep_at,
-- esc_at) at instant now, with R = {repeat_ms, escalate_ms} (0: never):
-- which messages are due, as flags. An acknowledged episode is neither
-- repeated nor escalated. Both count from when the episode fired (its first
-- message), not from the start of the dip, which for_seconds (a week by
-- default) puts well before it: a repeat comes repeat_ms after the firing or
-- after the last repeat or silence end (rep_at), whichever is later; the
-- escalation escalate_ms after the firing, once (esc_at). Episodes written
-- before fired_at existed count from started_at.
local function remind_due(e, now, R)
  local due = {}
  if e.acked_at then
    return due
  end
  local started = tonumber(e.fired_at) or tonumber(e.started_at) or now
  if R.escalate_ms > 0 and not e.esc_at and now - started >= R.escalate_ms then
    due.escalation = true
  end
  if R.repeat_ms > 0 and now - math.max(started, tonumber(e.rep_at) or 0) >= R.repeat_ms then
    due['repeat'] = true
  end
  return due
end

-- The fields of episode ep that remind_due reads, as a table.
local function remind_fields(ep)
  local f = redis.call('HMGET', P .. ':ep:' .. ep, 'started_at', 'acked_at', 'rep_at', 'esc_at',
                      'fired_at')
  return {started_at = f[1] or nil, acked_at = f[2] or nil, rep_at = f[3] or nil,
          esc_at = f[4] or nil, fired_at = f[5] or nil}
end

-- Shared by the bench/wrk/*.lua scripts (loaded with dofile). Configuration
-- comes from the environment that bench/run sets, so that the main Lua state
-- (setup/done) and every thread's state (init/request) see the same values.
local M = {}

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == '' then
    if default == nil then error('bench: ' .. name .. ' is not set') end
    return default
  end
  return v
end

M.services = {'policy_briefing', 'career_guidance', 'job_referral', 'training', 'internship',
              'entrepreneurship', 'small_loan', 'tax_relief', 'social_insurance_subsidy', 'other'}
M.channels = {'in_person', 'phone', 'online', 'sms', 'home_visit'}
M.note = '推荐商洛某电子厂技术员岗位'

-- Graduate number n of the rotation: within one county (BENCH_COUNTY set: the
-- counselor path) or across every county, consecutive requests in different
-- counties (the admin path).
function M.graduate(n)
  local base = tonumber(M.env('BENCH_CODE_BASE'))
  local per = tonumber(M.env('BENCH_PER'))
  local one = os.getenv('BENCH_COUNTY')
  if one and one ~= '' then
    return one, string.format('G%s-%06d', one, n % per)
  end
  local counties = tonumber(M.env('BENCH_COUNTIES'))
  local code = string.format('%06d', base + 1 + n % counties)
  return code, string.format('G%s-%06d', code, math.floor(n / counties) % per)
end

return M

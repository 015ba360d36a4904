-- wrk script: single-property GETs spread over the generator's day-0 ids.
--
--   wrk -t2 -c64 -d10s --latency -s get.lua http://127.0.0.1:PORT -- KEY N PATH_PREFIX [SUFFIX]
--
-- Each request reads PATH_PREFIX .. external_id .. SUFFIX, where external_id is
-- syncmgr-gen's id of a random listing 0..N-1: "L" + 10 digits of
-- ((id + 1) * 1588635695) mod (2^31 - 1) (bench/README.md). The product stays
-- below 2^53, so LuaJIT's doubles compute it exactly. About 0.2 % of day-0
-- ids are removed by day 1 and answer 404 (counted by wrk as non-2xx).
-- done() prints one JSON line (prefixed "WRK_JSON ") with throughput and the
-- latency distribution, which the benchmark driver parses.

local key, n, prefix, suffix
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  key = args[1]
  n = tonumber(args[2])
  prefix = args[3]
  suffix = args[4] or ""
  math.randomseed(1 + 7919 * (thread_index or 0))  -- per thread: threads pick different ids
end

local function external_id(id)
  local v = math.fmod((id + 1) * 1588635695, 2147483647)
  return string.format("L%010d", v)
end

function request()
  local id = math.random(0, n - 1)
  return wrk.format("GET", prefix .. external_id(id) .. suffix, { ["X-API-Key"] = key })
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"seconds":%.3f,"req_per_s":%.1f,"bytes":%d,' ..
    '"non_2xx":%d,"socket_errors":%d,"timeouts":%d,' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.requests, s, summary.requests / s, summary.bytes,
    e.status, e.connect + e.read + e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end

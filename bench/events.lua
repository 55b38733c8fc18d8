-- wrk script: many signed-in learners post watch-event batches as the
-- lesson player does (JSON, X-CSRF-Token, Origin, the session cookies).
-- BENCH_LEARNERS_FILE: one "cookie<TAB>csrf token<TAB>watch session" line
-- per learner; BENCH_TOPIC: the topic; BENCH_BATCH: events per batch (30).
-- Events are numbered as the player numbers them, uniquely per run, thread
-- and request (the warm-up run included), so none is a repeat the server
-- would store once.
local learners = {}
for line in io.lines(os.getenv("BENCH_LEARNERS_FILE")) do
  local cookie, token, session = line:match("^(.-)\t(.-)\t(.+)$")
  if cookie then learners[#learners + 1] = { cookie, token, session } end
end
local path = "/learn/topics/" .. os.getenv("BENCH_TOPIC") .. "/events"
local size = tonumber(os.getenv("BENCH_BATCH") or "30")
local n = 0
local sent = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  -- A prefix per run (the second it started) and thread, below 2^31.
  thread:set("id", (os.time() % 200) * 10 + threads)
end

local function body(session, first)
  local events = { string.format('{"type":"play","position":0,"duration":20,"seq":%d}', first) }
  local at = 0
  for i = 1, size - 2 do
    local next = i * 18 / size
    events[#events + 1] = string.format(
      '{"type":"heartbeat","position":%.1f,"duration":20,"seq":%d,"since":%.1f}', next, first + i, at)
    at = next
  end
  events[#events + 1] = string.format(
    '{"type":"pause","position":18,"duration":20,"seq":%d,"since":%.1f}', first + size - 1, at)
  return '{"session":"' .. session .. '","events":[' .. table.concat(events, ",") .. ']}'
end

request = function()
  n = n % #learners + 1
  sent = sent + 1
  local l = learners[(n + id) % #learners + 1]
  return wrk.format("POST", path, {
    ["Cookie"] = l[1],
    ["X-CSRF-Token"] = l[2],
    ["Origin"] = wrk.scheme .. "://" .. wrk.host .. ":" .. wrk.port,
    ["Content-Type"] = "application/json",
    ["Accept-Encoding"] = "gzip, deflate, br, zstd",
  }, body(l[3], id * 1000000 + sent * size))
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local ok = summary.requests - e.status
  io.write(string.format("batches/s: %.0f (%d events each)\n", summary.requests / secs, size))
  io.write(string.format("events/s acknowledged: %.0f\n", ok * size / secs))
  for _, p in ipairs({ 50, 95, 99 }) do
    io.write(string.format("p%d: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("acknowledged events: %d\n", ok * size))
end

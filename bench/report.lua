-- wrk script: prints throughput, latency percentiles and errors in a fixed shape.
-- With BENCH_COOKIES_FILE (one Cookie header value per line), requests take
-- the lines in turn: many signed-in learners rather than one.
local cookies = {}
local cookies_file = os.getenv("BENCH_COOKIES_FILE")
if cookies_file and cookies_file ~= "" then
  for line in io.lines(cookies_file) do
    if line ~= "" then cookies[#cookies + 1] = line end
  end
end
if #cookies > 0 then
  local n = math.random(#cookies)
  request = function()
    n = n % #cookies + 1
    wrk.headers["Cookie"] = cookies[n]
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local non2xx = e.status
  io.write(string.format("requests/s: %.0f\n", summary.requests / secs))
  for _, p in ipairs({ 50, 95, 99 }) do
    io.write(string.format("p%d: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("max: %.2f ms\n", latency.max / 1000))
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
    e.connect, e.read, e.write, e.timeout, non2xx))
end

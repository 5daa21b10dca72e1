-- Shared by the wrk scripts of bench/core.sh: per-thread numbering, auth header, id files and the
-- machine-readable summary line that core.sh parses.
local M = {}

M.threads = {}          -- thread objects (main Lua state only; filled by setup)
local counter = 0

-- setup() runs in the main state once per wrk thread, before that thread's init().
function M.setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(M.threads, thread)
end

-- Per-thread init: seed, JSON + bearer headers.
function M.init()
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  local token = os.getenv("BENCH_TOKEN")
  if not token or token == "" then error("BENCH_TOKEN is not set") end
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
end

-- Reads one id a line from the file named by the environment variable `var`.
function M.read_ids(var)
  local path = os.getenv(var)
  if not path then error(var .. " is not set") end
  local f = assert(io.open(path, "r"))
  local ids = {}
  for line in f:lines() do
    if #line > 0 then ids[#ids + 1] = line end
  end
  f:close()
  if #ids == 0 then error("no ids in " .. path) end
  return ids
end

-- Runs in the main state after the run: one line that core.sh parses, plus a human-readable echo.
function M.done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local extra = ""
  local wrapped = 0
  for _, t in ipairs(M.threads) do
    wrapped = wrapped + (tonumber(t:get("wrapped")) or 0)
  end
  if wrapped > 0 then extra = " wrapped=" .. wrapped end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "non2xx=%d connect=%d read=%d write=%d timeout=%d%s\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout, extra))
end

return M

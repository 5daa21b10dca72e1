-- POST /api/v1/tasks as many users: the bearer tokens (one a line, file: BENCH_TOKENS_FILE) are used in turn,
-- request by request, so the load spreads over users (and so over outbox lanes and per-user sequence locks).
-- The body is the one of create_task.lua. Used by bench/outbox.sh.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local tokens, pos, step

setup = c.setup
done = c.done

local priorities = { "none", "low", "medium", "high", "urgent" }
local tag_pool = { "work", "home", "errands", "health", "finance", "reading", "travel", "garden", "kids", "urgent-ish" }
local n = 0

function init(args)
  c.init()
  tokens = c.read_ids("BENCH_TOKENS_FILE")
  step = tonumber(os.getenv("BENCH_THREADS") or "1")
  pos = tid or 1
end

function request()
  n = n + 1
  if pos > #tokens then pos = ((pos - 1) % #tokens) + 1 end
  local token = tokens[pos]
  pos = pos + step
  local t1 = tag_pool[math.random(#tag_pool)]
  local t2 = tag_pool[math.random(#tag_pool)]
  local body = string.format(
    '{"title":"bench task %d-%d","priority":"%s","tags":["%s","%s"],"due_at":"2026-%02d-%02dT%02d:00:00Z"}',
    tid or 0, n, priorities[math.random(#priorities)], t1, t2, math.random(1, 12), math.random(1, 28),
    math.random(0, 23))
  return wrk.format("POST", "/api/v1/tasks", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

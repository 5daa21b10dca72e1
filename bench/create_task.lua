-- POST /api/v1/tasks with a small JSON body {title, priority, tags, due_at}.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")

setup = c.setup
done = c.done

local priorities = { "none", "low", "medium", "high", "urgent" }
local tag_pool = { "work", "home", "errands", "health", "finance", "reading", "travel", "garden", "kids", "urgent-ish" }
local n = 0

function init(args)
  c.init()
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  local t1 = tag_pool[math.random(#tag_pool)]
  local t2 = tag_pool[math.random(#tag_pool)]
  local day = math.random(1, 28)
  local hour = math.random(0, 23)
  local body = string.format(
    '{"title":"bench task %d-%d","priority":"%s","tags":["%s","%s"],"due_at":"2026-%02d-%02dT%02d:00:00Z"}',
    tid or 0, n, priorities[math.random(#priorities)], t1, t2, math.random(1, 12), day, hour)
  return wrk.format("POST", "/api/v1/tasks", nil, body)
end

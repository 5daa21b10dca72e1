-- GET /api/v1/tasks with filter + sort; mostly the headline query
-- (status=open&priority=high&sort=due_at&limit=50), varied a little. Single sort keys only: a compound sort
-- such as sort=priority,due_at has no matching index (a sort over ~100 000 rows of the big user) and would
-- measure something else.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")

setup = c.setup
done = c.done

local variants = {
  "/api/v1/tasks?status=open&priority=high&sort=due_at&limit=50",
  "/api/v1/tasks?status=open&priority=high&sort=due_at&limit=50",
  "/api/v1/tasks?status=open&priority=high&sort=due_at&limit=50",
  "/api/v1/tasks?status=open&priority=urgent&sort=due_at&limit=50",
  "/api/v1/tasks?status=open&priority=medium&sort=-due_at&limit=50",
  "/api/v1/tasks?status=open&priority=high&priority=urgent&sort=due_at&limit=50",
  "/api/v1/tasks?status=done&priority=low&sort=due_at&limit=50",
  "/api/v1/tasks?status=open&priority=high&sort=-created_at&limit=50",
}

function init(args)
  c.init()
end

function request()
  return wrk.format("GET", variants[math.random(#variants)])
end

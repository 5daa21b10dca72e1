-- GET /api/v1/tasks: only the headline query of list_tasks.lua (open tasks of one priority by due date), the
-- query core.sh also runs through pgbench as "db alone".
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")

setup = c.setup
done = c.done

function init(args)
  c.init()
end

function request()
  return wrk.format("GET", "/api/v1/tasks?status=open&priority=high&sort=due_at&limit=50")
end

-- GET /api/v1/tasks/{id} over random ids of the big user (file: BENCH_IDS_FILE).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local ids

setup = c.setup
done = c.done

function init(args)
  c.init()
  ids = c.read_ids("BENCH_IDS_FILE")
end

function request()
  return wrk.format("GET", "/api/v1/tasks/" .. ids[math.random(#ids)])
end

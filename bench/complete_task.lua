-- POST /api/v1/tasks/{id}/complete over open tasks of the big user (file: BENCH_IDS_FILE), each id used
-- once: thread k of n takes ids k, k+n, k+2n, … If a thread runs out it starts over (completing a done task
-- is idempotent, but cheaper) and counts those repeats, which done() reports as wrapped=N.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local ids, pos, step, passes

setup = c.setup
done = c.done

function init(args)
  c.init()
  ids = c.read_ids("BENCH_IDS_FILE")
  step = tonumber(os.getenv("BENCH_THREADS") or "1")
  pos = tid or 1
  passes = 0
  wrapped = 0 -- global: read by done() through thread:get
end

function request()
  if pos > #ids then
    pos = tid or 1
    passes = passes + 1
  end
  if passes > 0 then wrapped = wrapped + 1 end
  local id = ids[pos]
  pos = pos + step
  return wrk.format("POST", "/api/v1/tasks/" .. id .. "/complete")
end

-- wrk script of the http scenario: every request is a counter add with the
-- JSON body {"n":1}, sent to an actor picked at random among the first
-- ACTORS ids (the script's argument, 1 by default):
--   wrk -t2 -c200 -d5s --latency -s counter.lua http://127.0.0.1:PORT -- 100
wrk.method = "POST"
wrk.body = '{"n":1}'
wrk.headers["Content-Type"] = "application/json"

local actors = 1
local threads = 0

-- setup runs in wrk's main state, once per thread: give each its own seed.
function setup(thread)
  thread:set("seed", threads)
  threads = threads + 1
end

function init(args)
  actors = tonumber(args[1]) or 1
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  local id = math.random(0, actors - 1)
  return wrk.format(nil, "/v1/actors/counter/" .. id .. "/add")
end

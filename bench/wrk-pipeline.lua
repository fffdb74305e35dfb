-- wrk script for the bench's HTTP section: each write carries `depth` requests (HTTP/1.1 pipelining),
-- depth given after `--` on wrk's command line. wrk counts every response it parses.
init = function(args)
  local depth = tonumber(args[1]) or 1
  local requests = {}
  for index = 1, depth do
    requests[index] = wrk.format()
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end

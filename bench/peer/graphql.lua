-- wrk script for bench.graphql_peer: every request POSTs one GraphQL body (the first argument after
-- `--`) with the extra headers that follow it ("Name: value"). Answers that are not 200 or that carry
-- GraphQL `errors` are counted; `done` prints their number as "graphql errors: N" and the first one
-- as "first error: <status> <the start of its body>".
--     wrk -t2 -c16 -d10s --latency -s graphql.lua http://127.0.0.1:8000/graphql -- '{"query":"{ __typename }"}'

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  for i = 2, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  prepared = wrk.format("POST", nil, headers, args[1])
  failed = 0 -- globals: `done` reads them from each thread's state
  first_error = ""
end

function request()
  return prepared
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    failed = failed + 1
    if first_error == "" then
      first_error = status .. " " .. body:sub(1, 200):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local total, first = 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("failed")
    if first == "" then
      first = thread:get("first_error")
    end
  end
  io.write(string.format("graphql errors: %d\n", total))
  if first ~= "" then
    io.write("first error: " .. first .. "\n")
  end
end

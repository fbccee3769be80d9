-- bench/http/post.lua: wrk script of bench/http.sh. POSTs the file named by
-- the first script argument as a JSON body, the same bytes and headers on
-- every request and to every server:
--
--   wrk -t2 -c16 -d15s --latency -s bench/http/post.lua URL -- BODY_FILE
--
-- It counts responses whose status is not 2xx (wrk's own counter only
-- sees status >= 400), prints the first few of them to stderr, and ends
-- with one machine-readable line for bench/http.sh:
--
--   RESULT requests=N duration_us=N rps=F mean_us=F p50_us=N p90_us=N p99_us=N max_us=N
--          responses=N non2xx=N err_connect=N err_read=N err_write=N err_timeout=N body_bytes=N

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if not path then
    error("usage: wrk ... -s post.lua URL -- BODY_FILE")
  end
  local f = assert(io.open(path, "rb"))
  local body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  -- wrk builds the request once from these (no request() function: static request)
  responses = 0
  non2xx = 0
  shown = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if shown < 3 then
      shown = shown + 1
      io.stderr:write(string.format("non-2xx response: %d %s\n", status, string.sub(body or "", 1, 300)))
    end
  end
end

function done(summary, latency, requests)
  local resp, bad = 0, 0
  for _, t in ipairs(threads) do
    resp = resp + (t:get("responses") or 0)
    bad = bad + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f mean_us=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "responses=%d non2xx=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d body_bytes=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    resp, bad, e.connect, e.read, e.write, e.timeout, summary.bytes))
end

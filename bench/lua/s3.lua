-- wrk script for the Ember benchmark (bench/run.sh). Driven by environment variables so one file
-- serves every mode:
--   WRK_MODE=get   plain GETs of the URL given to wrk (presigned or nginx); only reports.
--   WRK_MODE=put   PUTs of a WRK_BODY_SIZE-byte body, round-robin over this thread's keys.
--   WRK_MODE=load  PUTs each of this thread's keys exactly once, then asks wrk to stop.
-- put/load: key i (0-based) is string.format(WRK_PATHFMT, i); thread t of WRK_THREADS owns the keys
-- i = t, t+WRK_THREADS, ... and reads their presigned-URL signatures, one per line in that order,
-- from WRK_SIGS.<t>. WRK_QUERY holds the X-Amz-* query parameters common to every URL (same date
-- and expiry), so a request is path?WRK_QUERY&X-Amz-Signature=<sig>. With WRK_DIRSIZE=D the path
-- format takes two numbers, i // D and i (e.g. /bucket/dir%04d/file%06d).
-- done() prints one line "WRKJSON {...}" that bench/lib/bench.py parses.

local mode = os.getenv("WRK_MODE") or "get"
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local pathfmt, query, body, sigs, nkeys, k, headers, dirsize, last_progress

ok, bad = 0, 0

function init(args)
  if mode == "get" then
    response = nil  -- wrk then skips header/body parsing
    return
  end
  pathfmt = os.getenv("WRK_PATHFMT")
  query = os.getenv("WRK_QUERY")
  dirsize = tonumber(os.getenv("WRK_DIRSIZE") or "0")
  local size = tonumber(os.getenv("WRK_BODY_SIZE") or "0")
  math.randomseed(1000 + tid)
  local parts = {}
  for j = 1, size do parts[j] = string.char(math.random(0, 255)) end
  body = table.concat(parts)
  headers = { ["Content-Type"] = "application/octet-stream" }
  sigs = {}
  for line in io.lines(os.getenv("WRK_SIGS") .. "." .. tid) do sigs[#sigs + 1] = line end
  nkeys = #sigs
  k = 0
  -- wrk 4.x calls request() once on thread 0, before any connection exists, only to check the
  -- request parses (script_verify_request); that call must not use up a key.
  verifying = (tid == 0)
  if mode == "put" then response = nil end
end

function request()
  if mode == "get" then return wrk.request() end
  if k >= nkeys then
    if mode == "load" then return "" end  -- all sent: this connection idles until wrk stops
    k = 0
  end
  local i = tid + k * nthreads
  local sig = sigs[k + 1]
  if verifying then verifying = false else k = k + 1 end
  local key
  if dirsize > 0 then key = string.format(pathfmt, math.floor(i / dirsize), i)
  else key = string.format(pathfmt, i) end
  local path = key .. "?" .. query .. "&X-Amz-Signature=" .. sig
  return wrk.format("PUT", path, headers, body)
end

local function finished()
  -- This thread has every answer it will get: say so; bench/run.sh interrupts wrk (SIGINT, after
  -- which wrk prints its summary) once every thread has. (Signalling wrk from here does not work:
  -- the signal lands on this thread and wrk's main thread sleeps on for the full -d duration.)
  local f = io.open(os.getenv("WRK_DONE_DIR") .. "/done." .. tid, "w")
  f:write(ok, " ", bad, "\n")
  f:close()
end

local function progress()
  -- bench/run.sh watches these files' mtimes to stop a load that has stalled.
  local f = io.open(os.getenv("WRK_DONE_DIR") .. "/progress." .. tid, "w")
  f:write(ok, " ", bad, "\n")
  f:close()
end

function response(status, hdrs, rbody)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
  if mode ~= "load" then return end
  if ok + bad == nkeys then progress(); finished(); return end
  local now = os.time()
  if now ~= last_progress then last_progress = now; progress() end
end

function done(summary, latency, requests)
  local tok, tbad = 0, 0
  for _, t in ipairs(threads) do
    tok = tok + (t:get("ok") or 0)
    tbad = tbad + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"mode":"%s","duration_us":%d,"requests":%d,"bytes":%d,"ok":%d,"bad":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_p50_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
    mode, summary.duration, summary.requests, summary.bytes, tok, tbad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

-- wrk script for the Blob rows of the Ember benchmark (bench/run.sh): the same requests against
-- emberd's Blob endpoint and Azurite. Authentication is a container SAS in the query string
-- (WRK_QUERY, bench/lib/azsas.py), valid for every blob of the container, so nothing is signed here.
--   WRK_MODE=get     plain GETs of the URL given to wrk (a blob URL with the SAS).
--   WRK_MODE=put     Put Blob (x-ms-blob-type: BlockBlob) of a WRK_BODY_SIZE-byte body to a new blob
--                    each time: path string.format(WRK_PATHFMT, thread, n), n = 0, 1, ... per thread.
--   WRK_MODE=append  Append Block (?comp=appendblock) of a WRK_BODY_SIZE-byte body, round-robin over
--                    the append blobs string.format(WRK_PATHFMT, i), i = 0 .. WRK_NBLOBS-1 (created
--                    beforehand by bench/lib/bench.py blob-mkappend); thread t starts at blob t and
--                    steps by WRK_THREADS, so the threads interleave over all the blobs.
-- done() prints one line "WRKJSON {...}" that bench/lib/bench.py parses (as bench/lua/s3.lua does).
-- Responses are not parsed (response = nil): wrk counts non-2xx/3xx answers in errors.status.

local mode = os.getenv("WRK_MODE") or "get"
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local pathfmt, query, body, headers, n, nblobs

function init(args)
  response = nil  -- wrk then skips header/body parsing
  if mode == "get" then return end
  pathfmt = os.getenv("WRK_PATHFMT")
  query = os.getenv("WRK_QUERY")
  nblobs = tonumber(os.getenv("WRK_NBLOBS") or "1")
  local size = tonumber(os.getenv("WRK_BODY_SIZE") or "0")
  math.randomseed(2000 + tid)
  local parts = {}
  for j = 1, size do parts[j] = string.char(math.random(0, 255)) end
  body = table.concat(parts)
  headers = { ["Content-Type"] = "application/octet-stream",
              ["x-ms-version"] = os.getenv("WRK_MS_VERSION") or "2021-12-02" }
  if mode == "put" then headers["x-ms-blob-type"] = "BlockBlob" end
  n = 0
end

function request()
  if mode == "get" then return wrk.request() end
  local path
  if mode == "put" then
    path = string.format(pathfmt, tid, n) .. "?" .. query
  else
    path = string.format(pathfmt, (tid + n * nthreads) % nblobs) .. "?comp=appendblock&" .. query
  end
  n = n + 1
  return wrk.format("PUT", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"mode":"%s","duration_us":%d,"requests":%d,"bytes":%d,"ok":%d,"bad":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_p50_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
    mode, summary.duration, summary.requests, summary.bytes, 0, 0,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

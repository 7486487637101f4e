#include "app/emberd/admin_tier.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "app/emberd/tier_json.h"
#include "auth/sigv4.h"
#include "common/strings.h"

namespace ember::app {

namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr int kMaxWaitSeconds = 300;                        // GET /tier/flush?wait=
constexpr std::chrono::milliseconds kFlushPollInterval{100};  // re-check period while waiting
constexpr size_t kQuoteMax = 200;                           // request text quoted in errors

// What a route answers when it succeeds (errors are a Status, see tierErrorStatus()).
struct Reply {
  int status = 200;
  json body;
};

// One /tier request as a route sees it.
struct Call {
  tier::TierAdmin& tier;
  http::Request& req;
  http::RequestBody& body;
  std::vector<std::string> captures;          // the path segments "{}" matched, decoded
  std::map<std::string, std::string> params;  // the decoded query (each name at most once)

  // A parameter that must be present and not empty. Errors: kInvalidArgument.
  Result<std::string> required(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || it->second.empty()) {
      return unexpected(Code::kInvalidArgument, "missing query parameter \"" + name + "\"");
    }
    return it->second;
  }
  // A parameter that may be absent ("" then).
  std::string optional(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
  // A decimal number in [0, max]; nullopt when absent. Errors: kInvalidArgument.
  Result<std::optional<uint64_t>> number(const std::string& name, uint64_t max = UINT64_MAX) const {
    auto it = params.find(name);
    if (it == params.end()) {
      return std::optional<uint64_t>();
    }
    const std::string& v = it->second;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n > max) {
      return unexpected(Code::kInvalidArgument,
                        "query parameter \"" + name + "\" must be a whole number from 0 to " +
                            std::to_string(max) + ", not \"" + printableExcerpt(v, kQuoteMax) +
                            "\"");
    }
    return std::optional<uint64_t>(n);
  }
};

using RouteFn = asio::awaitable<Result<Reply>> (*)(Call&);

// One row of the route table. A request matches a route when its path has the pattern's segments
// ("{}" matches any one non-empty segment, handed to the route in Call::captures) and its method is
// the route's (GET routes also answer HEAD). A path that matches some route but none with its
// method answers 405. Query parameters not named in `params` answer 400.
struct Route {
  std::string_view method;
  std::string_view pattern;  // "/tier/stage/{}"
  std::string_view params;   // accepted query parameter names, space separated
  RouteFn fn;
};

// --- the routes ---

// GET /tier: every mapping's report.
asio::awaitable<Result<Reply>> listMappings(Call& c) {
  std::vector<tier::MappingReport> mappings = c.tier.mappings();
  co_return Reply{200, mappingsJson(mappings)};
}

// POST /tier/flush?bucket=B&prefix=P: takes a new barrier.
asio::awaitable<Result<Reply>> takeFlushBarrier(Call& c) {
  auto bucket = c.required("bucket");
  if (!bucket) {
    co_return unexpected(bucket.error());
  }
  std::string prefix = c.optional("prefix");
  std::optional<uint64_t> noBarrier;
  Result<tier::FlushReport> r = co_await c.tier.flush(*bucket, prefix, noBarrier);
  if (!r) {
    co_return unexpected(r.error());
  }
  co_return Reply{200, toJson(*r)};
}

// GET /tier/flush?bucket=B&prefix=P&barrier=N[&wait=S]: reports on a barrier; with wait, asks the
// tier manager again every kFlushPollInterval until the barrier is done or S seconds have passed.
asio::awaitable<Result<Reply>> reportFlushBarrier(Call& c) {
  auto bucket = c.required("bucket");
  if (!bucket) {
    co_return unexpected(bucket.error());
  }
  std::string prefix = c.optional("prefix");
  auto barrier = c.number("barrier");
  if (!barrier) {
    co_return unexpected(barrier.error());
  }
  if (!*barrier) {
    co_return unexpected(Code::kInvalidArgument,
                         "missing query parameter \"barrier\" (POST /tier/flush takes one)");
  }
  auto wait = c.number("wait", kMaxWaitSeconds);
  if (!wait) {
    co_return unexpected(wait.error());
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(wait->value_or(0));
  std::optional<asio::steady_timer> timer;
  const std::optional<uint64_t> at = **barrier;
  for (;;) {
    Result<tier::FlushReport> r = co_await c.tier.flush(*bucket, prefix, at);
    if (!r) {
      co_return unexpected(r.error());
    }
    Clock::time_point now = Clock::now();
    if (r->done || now >= deadline) {
      co_return Reply{200, toJson(*r)};
    }
    if (!timer) {
      timer.emplace(co_await asio::this_coro::executor);
    }
    timer->expires_after(std::min<Clock::duration>(kFlushPollInterval, deadline - now));
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return unexpected(Code::kUnavailable, "the wait was cancelled: " + ec.message());
    }
  }
}

// GET /tier/object?bucket=B&key=K: one object's tier status.
asio::awaitable<Result<Reply>> objectStatus(Call& c) {
  auto bucket = c.required("bucket");
  if (!bucket) {
    co_return unexpected(bucket.error());
  }
  auto key = c.required("key");
  if (!key) {
    co_return unexpected(key.error());
  }
  Result<tier::ObjectTierStatus> s = co_await c.tier.objectStatus(*bucket, *key);
  if (!s) {
    co_return unexpected(s.error());
  }
  co_return Reply{200, toJson(*s)};
}

// POST /tier/stage?bucket=B&prefix=P[&pin=true][&ttl=S][&parallel=N][&max_rate=R]: a new
// staging job (201).
asio::awaitable<Result<Reply>> startStage(Call& c) {
  auto bucket = c.required("bucket");
  if (!bucket) {
    co_return unexpected(bucket.error());
  }
  tier::StageRequest req;
  req.bucket = *bucket;
  req.prefix = c.optional("prefix");
  std::string pin = c.optional("pin");
  if (pin != "" && pin != "true" && pin != "false" && pin != "1" && pin != "0") {
    co_return unexpected(Code::kInvalidArgument,
                         "query parameter \"pin\" must be true or false, not \"" +
                             printableExcerpt(pin, kQuoteMax) + "\"");
  }
  req.pin = pin == "true" || pin == "1";
  auto ttl = c.number("ttl", uint64_t{100} * 365 * 86400);
  if (!ttl) {
    co_return unexpected(ttl.error());
  }
  if (*ttl) {
    if (!req.pin) {
      co_return unexpected(Code::kInvalidArgument, "\"ttl\" needs \"pin=true\"");
    }
    req.ttlSeconds = static_cast<int64_t>(**ttl);
  }
  auto parallel = c.number("parallel", 256);
  if (!parallel) {
    co_return unexpected(parallel.error());
  }
  if (*parallel) {
    if (**parallel < 1) {
      co_return unexpected(Code::kInvalidArgument, "\"parallel\" must be from 1 to 256");
    }
    req.parallel = static_cast<unsigned>(**parallel);
  }
  auto rate = c.number("max_rate");
  if (!rate) {
    co_return unexpected(rate.error());
  }
  req.maxRate = rate->value_or(0);
  Result<tier::StageReport> r = co_await c.tier.startStage(std::move(req));
  if (!r) {
    co_return unexpected(r.error());
  }
  co_return Reply{201, toJson(*r)};
}

// GET /tier/stage: every staging job.
asio::awaitable<Result<Reply>> listStages(Call& c) {
  std::vector<tier::StageReport> jobs = co_await c.tier.listStages();
  co_return Reply{200, stagesJson(jobs)};
}

// GET /tier/stage/{id}: one job.
asio::awaitable<Result<Reply>> stageStatus(Call& c) {
  Result<tier::StageReport> r = co_await c.tier.stageStatus(c.captures.at(0));
  if (!r) {
    co_return unexpected(r.error());
  }
  co_return Reply{200, toJson(*r)};
}

// DELETE /tier/stage/{id}: cancels the job (a finished one is returned as it is).
asio::awaitable<Result<Reply>> cancelStage(Call& c) {
  Result<tier::StageReport> r = co_await c.tier.cancelStage(c.captures.at(0));
  if (!r) {
    co_return unexpected(r.error());
  }
  co_return Reply{200, toJson(*r)};
}

// GET /tier/pins: every pin with the warm bytes under it.
asio::awaitable<Result<Reply>> listPins(Call& c) {
  std::vector<tier::PinReport> pins = co_await c.tier.pins();
  co_return Reply{200, pinsJson(pins)};
}

// POST /tier/pins?bucket=B&prefix=P[&ttl=SECONDS]: pins a prefix (201), or renews its expiry.
asio::awaitable<Result<Reply>> addPin(Call& c) {
  auto bucket = c.required("bucket");
  if (!bucket) {
    co_return unexpected(bucket.error());
  }
  auto ttl = c.number("ttl");
  if (!ttl) {
    co_return unexpected(ttl.error());
  }
  std::optional<int64_t> ttlMs;
  if (*ttl) {
    if (**ttl == 0 || **ttl > 100ULL * 365 * 24 * 3600) {
      co_return unexpected(Code::kInvalidArgument, "ttl must be 1 second to 100 years");
    }
    ttlMs = static_cast<int64_t>(**ttl) * 1000;
  }
  Result<tier::PinReport> r = co_await c.tier.pin(*bucket, c.optional("prefix"), ttlMs);
  if (!r) {
    co_return unexpected(r.error());
  }
  co_return Reply{201, toJson(*r)};
}

// DELETE /tier/pins?bucket=B&prefix=P: removes the pin on exactly that prefix.
asio::awaitable<Result<Reply>> removePin(Call& c) {
  auto bucket = c.required("bucket");
  if (!bucket) {
    co_return unexpected(bucket.error());
  }
  std::string prefix = c.optional("prefix");
  Status s = co_await c.tier.unpin(*bucket, prefix);
  if (!s) {
    co_return unexpected(s);
  }
  co_return Reply{200, nlohmann::ordered_json{{"bucket", *bucket}, {"prefix", prefix},
                                              {"unpinned", true}}};
}

// New routes go here (and into docs/tiering.md, "Admin API").
constexpr Route kRoutes[] = {
    {"GET", "/tier", "", &listMappings},
    {"POST", "/tier/flush", "bucket prefix", &takeFlushBarrier},
    {"GET", "/tier/flush", "bucket prefix barrier wait", &reportFlushBarrier},
    {"GET", "/tier/object", "bucket key", &objectStatus},
    {"POST", "/tier/stage", "bucket prefix pin ttl parallel max_rate", &startStage},
    {"GET", "/tier/stage", "", &listStages},
    {"GET", "/tier/stage/{}", "", &stageStatus},
    {"DELETE", "/tier/stage/{}", "", &cancelStage},
    {"GET", "/tier/pins", "", &listPins},
    {"POST", "/tier/pins", "bucket prefix ttl", &addPin},
    {"DELETE", "/tier/pins", "bucket prefix", &removePin},
};

// --- matching ---

// Splits "/a/b/c" into {"a", "b", "c"}; a single trailing '/' is dropped ("/tier/" is "/tier").
std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  if (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The decoded segments "{}" matched, or nullopt when the path does not have the pattern.
std::optional<std::vector<std::string>> matchPattern(std::string_view pattern,
                                                     const std::vector<std::string>& segments) {
  std::vector<std::string_view> want = splitPath(pattern);
  if (want.size() != segments.size()) {
    return std::nullopt;
  }
  std::vector<std::string> captures;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      if (segments[i].empty()) {
        return std::nullopt;
      }
      captures.push_back(segments[i]);
    } else if (want[i] != segments[i]) {
      return std::nullopt;
    }
  }
  return captures;
}

bool listed(std::string_view names, std::string_view name) {
  while (!names.empty()) {
    size_t space = names.find(' ');
    if (names.substr(0, space) == name) {
      return true;
    }
    names = space == std::string_view::npos ? std::string_view() : names.substr(space + 1);
  }
  return false;
}

// The query as decoded name -> value. '+' stays '+' (a space is %20). Errors: kInvalidArgument
// for a malformed %-escape, a parameter given twice, or one the route does not take.
Result<std::map<std::string, std::string>> parseParams(std::string_view query,
                                                       std::string_view accepted) {
  std::map<std::string, std::string> out;
  std::string bad;
  auto pairs = auth::decodeQuery(query, &bad);
  if (!pairs) {
    return unexpected(Code::kInvalidArgument, "malformed percent-escape in the query: \"" +
                                                  printableExcerpt(bad, kQuoteMax) + "\"");
  }
  for (auto& [name, value] : *pairs) {
    if (!listed(accepted, name)) {
      return unexpected(Code::kInvalidArgument,
                        "unknown query parameter \"" + printableExcerpt(name, kQuoteMax) + "\"" +
                            (accepted.empty() ? std::string(" (this route takes none)")
                                              : " (this route takes: " + std::string(accepted) +
                                                    ")"));
    }
    if (!out.emplace(name, std::move(value)).second) {
      return unexpected(Code::kInvalidArgument,
                        "query parameter \"" + name + "\" is given more than once");
    }
  }
  return out;
}

asio::awaitable<void> sendJson(http::ResponseWriter& out, int status, const json& body,
                               std::string allow = {}) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Cache-Control", "no-store");
  if (!allow.empty()) {
    r.headers.add("Allow", allow);
  }
  // Keys and error messages may hold bytes that are not UTF-8: replaced, never thrown on.
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  text.push_back('\n');
  Status s = co_await out.respond(std::move(r), text);
  s.ignoreError();  // the client went away
}

asio::awaitable<void> sendError(http::ResponseWriter& out, const Status& error,
                                std::string allow = {}) {
  json body = errorJson(error);
  co_await sendJson(out, tierErrorStatus(error.code()), body, std::move(allow));
}

}  // namespace

bool isTierPath(std::string_view rawPath) {
  return rawPath == "/tier" || rawPath.starts_with("/tier/");
}

int tierErrorStatus(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kInvalidQueryParam:
    case Code::kInvalidBucketName:
    case Code::kInvalidKey:
    case Code::kKeyTooLong:
      return 400;
    case Code::kNotFound:
    case Code::kNoSuchBucket:
    case Code::kNoSuchKey:
      return 404;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kInsufficientStorage:
      return 507;
    case Code::kBusy:
    case Code::kUnavailable:
    case Code::kTimeout:
      return 503;
    default:
      return 500;
  }
}

asio::awaitable<void> serveTier(tier::TierAdmin* tier, http::Request& req, http::RequestBody& body,
                                http::ResponseWriter& out) {
  if (tier == nullptr) {
    Status none = makeError(Code::kNotFound, "no cold mappings configured");
    co_await sendError(out, none);
    co_return;
  }
  std::vector<std::string> segments;
  for (std::string_view raw : splitPath(req.path)) {
    auto decoded = auth::uriDecode(raw);
    if (!decoded) {
      Status bad = makeError(Code::kInvalidArgument, "malformed percent-escape in the path");
      co_await sendError(out, bad);
      co_return;
    }
    segments.push_back(std::move(*decoded));
  }
  const std::string_view method = req.method == "HEAD" ? std::string_view("GET") : req.method;
  const Route* route = nullptr;
  std::vector<std::string> captures;
  std::string allow;
  for (const Route& r : kRoutes) {
    auto matched = matchPattern(r.pattern, segments);
    if (!matched) {
      continue;
    }
    allow += (allow.empty() ? "" : ", ") + std::string(r.method);
    if (r.method == "GET") {
      allow += ", HEAD";
    }
    if (route == nullptr && r.method == method) {
      route = &r;
      captures = std::move(*matched);
    }
  }
  if (route == nullptr) {
    Status s = allow.empty()
                   ? makeError(Code::kNotFound, "no such admin route: " +
                                                    printableExcerpt(req.path, kQuoteMax))
                   : makeError(Code::kMethodNotAllowed,
                               req.method + " is not allowed on " +
                                   printableExcerpt(req.path, kQuoteMax) + " (allowed: " + allow +
                                   ")");
    co_await sendError(out, s, allow);
    co_return;
  }
  auto params = parseParams(req.query, route->params);
  if (!params) {
    co_await sendError(out, params.error());
    co_return;
  }
  Call call{*tier, req, body, std::move(captures), std::move(*params)};
  Result<Reply> reply = co_await route->fn(call);
  if (!reply) {
    co_await sendError(out, reply.error());
    co_return;
  }
  co_await sendJson(out, reply->status, reply->body);
}

}  // namespace ember::app

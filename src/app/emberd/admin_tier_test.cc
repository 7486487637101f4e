// The admin endpoint's /tier routes over real sockets (a Server on 127.0.0.1:0 with a fake
// TierAdmin): routing, parameters and their percent-decoding, the JSON shapes, error statuses and
// the flush long-poll; and the tier_json readers that emberctl uses.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/emberd/admin.h"
#include "app/emberd/admin_tier.h"
#include "app/emberd/tier_json.h"
#include "app/emberd/tier_test_util.h"
#include "http/server_test_util.h"

namespace ember::app {
namespace {

using app::testing::FakeTierAdmin;
using http::testing::ClientResponse;
using http::testing::TestClient;
using nlohmann::json;
using std::chrono::milliseconds;

class AdminTierTest : public http::testing::ServerFixture {
 protected:
  void start(tier::TierAdmin* admin) {
    startServer(adminHandler([] { return Status::ok(); }, {}, admin));
  }

  ClientResponse request(const std::string& method, const std::string& target) {
    TestClient c(port(), std::chrono::seconds(20));
    EXPECT_TRUE(c.connected());
    std::string head = method + " " + target + " HTTP/1.1\r\nHost: admin\r\n";
    if (method == "POST" || method == "PUT") {
      head += "Content-Length: 0\r\n";
    }
    head += "\r\n";
    EXPECT_TRUE(c.send(head));
    ClientResponse r = c.read(method == "HEAD");
    EXPECT_TRUE(r.complete) << method << " " << target;
    return r;
  }

  // The reply's JSON body (checked to be JSON).
  json body(const ClientResponse& r) {
    EXPECT_EQ(r.headerOr("content-type"), "application/json");
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }

  void expectError(const std::string& method, const std::string& target, int status,
                   const std::string& code, const std::string& messagePart = {}) {
    ClientResponse r = request(method, target);
    EXPECT_EQ(r.status, status) << method << " " << target << ": " << r.body;
    json j = body(r);
    EXPECT_EQ(j.value("error", ""), code) << r.body;
    EXPECT_NE(j.value("message", "").find(messagePart), std::string::npos) << r.body;
  }

  FakeTierAdmin fake;
};

TEST_F(AdminTierTest, MappingsAreListedWithSnakeCaseFields) {
  start(&fake);
  ClientResponse r = request("GET", "/tier");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  ASSERT_TRUE(j["mappings"].is_array());
  ASSERT_EQ(j["mappings"].size(), 2u);
  json m = j["mappings"][0];
  EXPECT_EQ(m, json::parse(R"({"bucket":"data","prefix":"ckpt/","location":"az://acct/cont/ckpt",
      "mode":"write-back","breaker":"closed","dirty_objects":2,"dirty_bytes":3145728,
      "oldest_dirty_ms":65000,"uploaded_objects":10,"uploaded_bytes":1073741824,
      "deleted_objects":1,"failed_uploads":4,"cold_reads":5,"cold_bytes_read":6,
      "last_error":"Busy: 503"})"));
  EXPECT_EQ(r.headerOr("cache-control"), "no-store");
  // Fields come in the documented order, not sorted.
  EXPECT_TRUE(r.body.starts_with(R"({"mappings":[{"bucket":"data","prefix":"ckpt/","location":)"))
      << r.body;
  // A trailing slash is the same route; HEAD answers like GET without a body.
  EXPECT_EQ(request("GET", "/tier/").status, 200);
  ClientResponse head = request("HEAD", "/tier");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(AdminTierTest, PostFlushTakesABarrier) {
  fake.reportsUntilDone = 3;
  start(&fake);
  ClientResponse r = request("POST", "/tier/flush?bucket=data&prefix=ckpt%2Fstep%201%2F");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r), json::parse(R"({"barrier":42,"pending_objects":3,"pending_bytes":3000,
      "oldest_pending_ms":1500,"done":false,"last_error":""})"));
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.flushCalls.size(), 1u);
  EXPECT_EQ(fake.flushCalls[0].bucket, "data");
  EXPECT_EQ(fake.flushCalls[0].prefix, "ckpt/step 1/");
  EXPECT_FALSE(fake.flushCalls[0].barrier.has_value());
}

TEST_F(AdminTierTest, PostFlushWithoutPrefixCoversTheBucket) {
  start(&fake);
  ASSERT_EQ(request("POST", "/tier/flush?bucket=data").status, 200);
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.flushCalls.size(), 1u);
  EXPECT_EQ(fake.flushCalls[0].prefix, "");
}

TEST_F(AdminTierTest, GetFlushReportsOnTheBarrier) {
  fake.reportsUntilDone = 1;
  start(&fake);
  ClientResponse r = request("GET", "/tier/flush?bucket=data&prefix=p&barrier=7");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  EXPECT_EQ(j["barrier"], 7);
  EXPECT_EQ(j["done"], true);
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.flushCalls.size(), 1u);
  EXPECT_EQ(fake.flushCalls[0].barrier, std::optional<uint64_t>(7));
}

TEST_F(AdminTierTest, GetFlushWithoutWaitAnswersAtOnceEvenWhenPending) {
  fake.reportsUntilDone = -1;
  start(&fake);
  auto t0 = std::chrono::steady_clock::now();
  ClientResponse r = request("GET", "/tier/flush?bucket=data&barrier=7");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["done"], false);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_EQ(fake.flushCalls.size(), 1u);
}

TEST_F(AdminTierTest, LongPollAnswersWhenTheBarrierIsDone) {
  fake.reportsUntilDone = 4;  // done at the 4th report: three re-checks ~100 ms apart
  start(&fake);
  auto t0 = std::chrono::steady_clock::now();
  ClientResponse r = request("GET", "/tier/flush?bucket=data&prefix=p&barrier=9&wait=20");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["pending_objects"], 0);
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(5000));
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_EQ(fake.flushCalls.size(), 4u);
}

TEST_F(AdminTierTest, LongPollGivesUpAfterTheWaitWithTheLastReport) {
  fake.reportsUntilDone = -1;
  fake.lastError = "Unavailable: breaker open";
  start(&fake);
  auto t0 = std::chrono::steady_clock::now();
  ClientResponse r = request("GET", "/tier/flush?bucket=data&barrier=9&wait=1");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  EXPECT_EQ(j["done"], false);
  EXPECT_EQ(j["pending_objects"], 3);
  EXPECT_EQ(j["last_error"], "Unavailable: breaker open");
  EXPECT_GE(took, milliseconds(950));
  EXPECT_LT(took, milliseconds(4000));
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_GE(fake.flushCalls.size(), 2u);  // ~11 at 100 ms (fewer on a loaded machine)
  EXPECT_LE(fake.flushCalls.size(), 15u);
}

TEST_F(AdminTierTest, FlushParametersAreChecked) {
  start(&fake);
  expectError("POST", "/tier/flush", 400, "InvalidArgument", "\"bucket\"");
  expectError("POST", "/tier/flush?bucket=", 400, "InvalidArgument", "\"bucket\"");
  expectError("GET", "/tier/flush?bucket=b", 400, "InvalidArgument", "\"barrier\"");
  expectError("GET", "/tier/flush?bucket=b&barrier=", 400, "InvalidArgument", "\"barrier\"");
  expectError("GET", "/tier/flush?bucket=b&barrier=-1", 400, "InvalidArgument", "\"barrier\"");
  expectError("GET", "/tier/flush?bucket=b&barrier=1x", 400, "InvalidArgument", "\"barrier\"");
  expectError("GET", "/tier/flush?bucket=b&barrier=99999999999999999999", 400, "InvalidArgument",
              "\"barrier\"");
  expectError("GET", "/tier/flush?bucket=b&barrier=1&wait=301", 400, "InvalidArgument",
              "0 to 300");
  expectError("GET", "/tier/flush?bucket=b&barrier=1&wait=1.5", 400, "InvalidArgument", "\"wait\"");
  // Unknown, repeated and malformed parameters.
  expectError("POST", "/tier/flush?bucket=b&prefx=p", 400, "InvalidArgument", "\"prefx\"");
  expectError("POST", "/tier/flush?bucket=b&barrier=3", 400, "InvalidArgument", "\"barrier\"");
  expectError("POST", "/tier/flush?bucket=b&bucket=c", 400, "InvalidArgument", "more than once");
  expectError("POST", "/tier/flush?bucket=b&prefix=%zz", 400, "InvalidArgument", "percent");
  expectError("GET", "/tier?x=1", 400, "InvalidArgument", "takes none");
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_TRUE(fake.flushCalls.empty());
}

TEST_F(AdminTierTest, PinsAreAddedListedAndRemoved) {
  start(&fake);
  ClientResponse r = request("POST", "/tier/pins?bucket=data&prefix=ds%2Fv7%2F&ttl=3600");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r), json::parse(R"({"bucket":"data","prefix":"ds/v7/","created_ms":1700000000000,
      "expires_ms":1700003600000,"warm_bytes":77})"));
  r = request("GET", "/tier/pins");
  ASSERT_EQ(r.status, 200) << r.body;
  auto pins = pinsFromJson(body(r));
  ASSERT_TRUE(pins) << pins.error().toString();
  ASSERT_EQ(pins->size(), 1u);
  EXPECT_EQ((*pins)[0].prefix, "ds/v7/");
  r = request("DELETE", "/tier/pins?bucket=data&prefix=ds%2Fv7%2F");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r).value("unpinned", false), true);
  expectError("DELETE", "/tier/pins?bucket=data&prefix=ds%2Fv7%2F", 404, "NotFound", "no pin");
  expectError("POST", "/tier/pins?bucket=full&prefix=x", 507, "InsufficientStorage", "more than fits");
  expectError("POST", "/tier/pins?bucket=data&ttl=0", 400, "InvalidArgument", "ttl");
  expectError("POST", "/tier/pins?prefix=x", 400, "InvalidArgument", "bucket");
}

TEST_F(AdminTierTest, ObjectStatusDecodesTheKey) {
  start(&fake);
  // '/', a space, '+' (kept literally), '&' and '=' escaped, and UTF-8.
  ClientResponse r =
      request("GET", "/tier/object?key=dir%2Fa%20b+c%26d%3De%E2%9C%93&bucket=data");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  const std::string key = "dir/a b+c&d=e\xE2\x9C\x93";
  EXPECT_EQ(j, json({{"bucket", "data"},
                     {"key", key},
                     {"state", "dirty"},
                     {"pinned", true},
                     {"size", 1234},
                     {"warm_etag", "w-etag"},
                     {"cold_etag", "c-etag"},
                     {"dirty_since_ms", 1700000000000},
                     {"last_error", "Unavailable: cold store down"}}));
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.statusCalls.size(), 1u);
  EXPECT_EQ(fake.statusCalls[0].first, "data");
  EXPECT_EQ(fake.statusCalls[0].second, key);
}

TEST_F(AdminTierTest, ObjectStatusNeedsBucketAndKey) {
  start(&fake);
  expectError("GET", "/tier/object?bucket=data", 400, "InvalidArgument", "\"key\"");
  expectError("GET", "/tier/object?key=k", 400, "InvalidArgument", "\"bucket\"");
}

TEST_F(AdminTierTest, ErrorsFromTheTierManagerMapToStatuses) {
  start(&fake);
  struct Case {
    Code code;
    int status;
    std::string name;
  };
  for (const Case& c : std::vector<Case>{{Code::kNoSuchBucket, 404, "NoSuchBucket"},
                                         {Code::kNoSuchKey, 404, "NoSuchKey"},
                                         {Code::kNotFound, 404, "NotFound"},
                                         {Code::kInvalidArgument, 400, "InvalidArgument"},
                                         {Code::kUnavailable, 503, "Unavailable"},
                                         {Code::kTimeout, 503, "Timeout"},
                                         {Code::kBusy, 503, "Busy"},
                                         {Code::kIOError, 500, "IOError"},
                                         {Code::kInternal, 500, "Internal"}}) {
    {
      std::lock_guard<std::mutex> lock(fake.mu);
      fake.statusError = makeError(c.code, "why: " + c.name);
      fake.flushError = makeError(c.code, "flush: " + c.name);
    }
    expectError("GET", "/tier/object?bucket=b&key=k", c.status, c.name, "why: " + c.name);
    expectError("POST", "/tier/flush?bucket=b", c.status, c.name, "flush: " + c.name);
    expectError("GET", "/tier/flush?bucket=b&barrier=1&wait=5", c.status, c.name);
  }
}

TEST_F(AdminTierTest, UnknownRoutesAndMethods) {
  start(&fake);
  expectError("GET", "/tier/nope", 404, "NotFound", "/tier/nope");
  expectError("GET", "/tier/flush/extra", 404, "NotFound");
  expectError("GET", "/tier//flush", 404, "NotFound");
  ClientResponse r = request("DELETE", "/tier/flush?bucket=b");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headerOr("allow"), "POST, GET, HEAD");
  EXPECT_EQ(body(r)["error"], "MethodNotAllowed");
  r = request("POST", "/tier/object?bucket=b&key=k");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headerOr("allow"), "GET, HEAD");
  r = request("PUT", "/tier");
  EXPECT_EQ(r.status, 405);
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_TRUE(fake.statusCalls.empty());
}

TEST_F(AdminTierTest, NoTierManagerAnswers404OnEveryTierPath) {
  start(nullptr);
  for (const char* target : {"/tier", "/tier/flush?bucket=b", "/tier/object?bucket=b&key=k",
                             "/tier/anything"}) {
    expectError("GET", target, 404, "NotFound", "no cold mappings configured");
  }
  expectError("POST", "/tier/flush?bucket=b", 404, "NotFound", "no cold mappings configured");
}

TEST_F(AdminTierTest, OtherPathsKeepTheirBehaviour) {
  start(&fake);
  ClientResponse r = request("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  r = request("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(request("POST", "/metrics").status, 405);
  EXPECT_EQ(request("DELETE", "/healthz").status, 405);
  EXPECT_EQ(request("GET", "/tiers").status, 404);  // not a /tier path
  EXPECT_EQ(request("GET", "/nothing").status, 404);
}

TEST_F(AdminTierTest, BytesThatAreNotUtf8AreReplacedInTheJson) {
  fake.reportsUntilDone = -1;
  fake.lastError = "bad \xff\xfe bytes";
  start(&fake);
  ClientResponse r = request("POST", "/tier/flush?bucket=b");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  EXPECT_EQ(j["last_error"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST_F(AdminTierTest, StageRoutes) {
  start(&fake);
  ClientResponse r = request(
      "POST", "/tier/stage?bucket=data&prefix=ds%2Fa%20b%2F&pin=true&ttl=3600&parallel=16&max_rate=1000");
  EXPECT_EQ(r.status, 201) << r.body;
  json j = body(r);
  EXPECT_EQ(j["id"], "j1");
  EXPECT_EQ(j["prefix"], "ds/a b/");
  EXPECT_EQ(j["pin"], true);
  EXPECT_EQ(j["ttl_seconds"], 3600);
  EXPECT_EQ(j["parallel"], 16);
  EXPECT_EQ(j["max_rate"], 1000);
  EXPECT_EQ(j["state"], "running");
  EXPECT_TRUE(j["failures"].is_array());
  {
    std::lock_guard<std::mutex> lock(fake.mu);
    ASSERT_EQ(fake.stageRequests.size(), 1u);
    EXPECT_EQ(fake.stageRequests[0].bucket, "data");
    EXPECT_TRUE(fake.stageRequests[0].pin);
    EXPECT_EQ(fake.stageRequests[0].ttlSeconds.value_or(0), 3600);
    EXPECT_EQ(fake.stageRequests[0].maxRate, 1000u);
  }
  // Defaults.
  r = request("POST", "/tier/stage?bucket=data");
  EXPECT_EQ(r.status, 201);
  j = body(r);
  EXPECT_EQ(j["parallel"], 16);
  EXPECT_EQ(j["pin"], false);
  EXPECT_TRUE(j["ttl_seconds"].is_null());

  {
    std::lock_guard<std::mutex> lock(fake.mu);
    fake.stages["j1"].failures.push_back({"ds/a b/x", "cold GET: NotFound", 1});
  }
  r = request("GET", "/tier/stage/j1");
  EXPECT_EQ(r.status, 200);
  j = body(r);
  ASSERT_EQ(j["failures"].size(), 1u);
  EXPECT_EQ(j["failures"][0]["key"], "ds/a b/x");
  EXPECT_EQ(j["failures"][0]["attempts"], 1);
  auto back = stageReportFromJson(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(toJson(*back), toJson(fake.stages["j1"]));

  r = request("GET", "/tier/stage");
  EXPECT_EQ(r.status, 200);
  auto all = stagesFromJson(body(r));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);

  r = request("DELETE", "/tier/stage/j2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["state"], "cancelled");

  expectError("GET", "/tier/stage/nope", 404, "NotFound", "nope");
  expectError("DELETE", "/tier/stage/nope", 404, "NotFound");
  expectError("POST", "/tier/stage?prefix=x", 400, "InvalidArgument", "bucket");
  expectError("POST", "/tier/stage?bucket=b&parallel=0", 400, "InvalidArgument", "parallel");
  expectError("POST", "/tier/stage?bucket=b&parallel=300", 400, "InvalidArgument", "parallel");
  expectError("POST", "/tier/stage?bucket=b&pin=maybe", 400, "InvalidArgument", "pin");
  expectError("POST", "/tier/stage?bucket=b&ttl=5", 400, "InvalidArgument", "pin=true");
  expectError("POST", "/tier/stage?bucket=b&speed=5", 400, "InvalidArgument", "speed");
  expectError("PUT", "/tier/stage/j1", 405, "MethodNotAllowed");
  {
    std::lock_guard<std::mutex> lock(fake.mu);
    fake.stageError = makeError(Code::kInvalidArgument, "'b/' is not under any cold mapping");
  }
  expectError("POST", "/tier/stage?bucket=b", 400, "InvalidArgument", "not under");
}

TEST(TierErrorStatus, Table) {
  EXPECT_EQ(tierErrorStatus(Code::kInvalidArgument), 400);
  EXPECT_EQ(tierErrorStatus(Code::kNoSuchBucket), 404);
  EXPECT_EQ(tierErrorStatus(Code::kMethodNotAllowed), 405);
  EXPECT_EQ(tierErrorStatus(Code::kBusy), 503);
  EXPECT_EQ(tierErrorStatus(Code::kCorruption), 500);
}

TEST(IsTierPath, OnlyTierAndBelow) {
  EXPECT_TRUE(isTierPath("/tier"));
  EXPECT_TRUE(isTierPath("/tier/"));
  EXPECT_TRUE(isTierPath("/tier/flush"));
  EXPECT_FALSE(isTierPath("/tiers"));
  EXPECT_FALSE(isTierPath("/metrics"));
  EXPECT_FALSE(isTierPath(""));
}

// --- tier_json: what emberctl reads back ---

TEST(TierJson, RoundTrips) {
  tier::FlushReport f{5, 6, 7, 8, false, "e"};
  auto f2 = flushReportFromJson(toJson(f));
  ASSERT_TRUE(f2.has_value());
  EXPECT_EQ(toJson(*f2), toJson(f));

  tier::ObjectTierStatus s;
  s.bucket = "b";
  s.key = "k";
  s.state = "clean";
  s.size = 9;
  s.dirtySinceMs = -1;
  auto s2 = objectStatusFromJson(toJson(s));
  ASSERT_TRUE(s2.has_value());
  EXPECT_EQ(toJson(*s2), toJson(s));

  tier::MappingReport m;
  m.bucket = "b";
  m.failedUploads = 3;
  auto m2 = mappingsFromJson(mappingsJson({m, m}));
  ASSERT_TRUE(m2.has_value());
  ASSERT_EQ(m2->size(), 2u);
  EXPECT_EQ(toJson((*m2)[1]), toJson(m));

  auto e = errorFromJson(errorJson(makeError(Code::kNoSuchKey, "gone")));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->error, "NoSuchKey");
  EXPECT_EQ(e->message, "gone");
}

TEST(TierJson, MissingFieldsKeepDefaultsAndWrongTypesFail) {
  auto f = flushReportFromJson(json::parse(R"({"barrier": 3, "unknown": [1]})"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->barrier, 3u);
  EXPECT_FALSE(f->done);

  auto bad = flushReportFromJson(json::parse(R"({"done": "yes"})"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("\"done\""), std::string::npos);
  EXPECT_FALSE(flushReportFromJson(json::parse(R"({"pending_objects": -1})")).has_value());
  EXPECT_FALSE(flushReportFromJson(json::parse("[1]")).has_value());
  EXPECT_FALSE(mappingsFromJson(json::parse("{}")).has_value());
  EXPECT_FALSE(mappingsFromJson(json::parse(R"({"mappings": [{"mode": 1}]})")).has_value());
  EXPECT_FALSE(errorFromJson(json::parse(R"({"message": "m"})")).has_value());
  EXPECT_FALSE(objectStatusFromJson(json::parse(R"({"pinned": 1})")).has_value());
}

}  // namespace
}  // namespace ember::app

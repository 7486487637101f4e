// emberctl end to end in-process: runEmberctl() against a real admin endpoint (adminHandler over
// a Server on 127.0.0.1:0) backed by a fake TierAdmin; output, exit statuses and what reached the
// tier manager.

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/emberctl/ctl.h"
#include "app/emberd/admin.h"
#include "app/emberd/tier_test_util.h"
#include "http/server_test_util.h"

namespace ember::ctl {
namespace {

using app::testing::FakeTierAdmin;
using nlohmann::json;
using std::chrono::milliseconds;

struct CtlRun {
  int code = -1;
  std::string out;
  std::string err;
};

CtlRun emberctl(std::vector<std::string> args, bool tty = false) {
  std::vector<const char*> argv{"emberctl"};
  for (const std::string& a : args) {
    argv.push_back(a.c_str());
  }
  std::ostringstream out;
  std::ostringstream err;
  CtlRun r;
  r.code = runEmberctl(static_cast<int>(argv.size()), argv.data(), out, err, tty);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class EmberctlTest : public http::testing::ServerFixture {
 protected:
  void start(tier::TierAdmin* admin) {
    startServer(app::adminHandler([] { return Status::ok(); }, {}, admin));
    url_ = "http://127.0.0.1:" + std::to_string(port());
  }

  // emberctl --admin <this server> args...
  CtlRun ctl(std::initializer_list<std::string> args, bool tty = false) {
    std::vector<std::string> all{"--admin", url_};
    all.insert(all.end(), args.begin(), args.end());
    return emberctl(all, tty);
  }

  std::vector<FakeTierAdmin::FlushCall> flushCalls() {
    std::lock_guard<std::mutex> lock(fake.mu);
    return fake.flushCalls;
  }

  FakeTierAdmin fake;
  std::string url_;
};

TEST_F(EmberctlTest, FlushThatIsAlreadyDone) {
  fake.reportsUntilDone = 0;
  start(&fake);
  CtlRun r = ctl({"flush", "data/ckpt/step 1/"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "flush barrier 42: 0 objects (0 B) pending\n"
            "flushed: everything under data/ckpt/step 1/ acknowledged before the barrier is in "
            "cold storage\n");
  auto calls = flushCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].bucket, "data");
  EXPECT_EQ(calls[0].prefix, "ckpt/step 1/");
  EXPECT_FALSE(calls[0].barrier.has_value());
}

TEST_F(EmberctlTest, FlushWithoutWaitExits4WhilePending) {
  fake.reportsUntilDone = 2;
  fake.lastError = "Unavailable: breaker open";
  start(&fake);
  CtlRun r = ctl({"flush", "data"});
  EXPECT_EQ(r.code, kExitPending) << r.err;
  EXPECT_EQ(r.out, "flush barrier 42: 2 objects (2.0 KiB) pending\n");
  EXPECT_TRUE(contains(r.err, "last upload error under data/: Unavailable: breaker open")) << r.err;
  auto calls = flushCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].prefix, "");
}

TEST_F(EmberctlTest, FlushWaitPollsUntilDone) {
  fake.reportsUntilDone = 3;
  start(&fake);
  // A key prefix with characters that need escaping in a query.
  const std::string prefix = "a b+c&d=e/\xC3\xBC/%41";
  CtlRun r = ctl({"flush", "data/" + prefix, "--wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "flush barrier 42: 3 objects (2.9 KiB) pending\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "flushed: everything under data/" + prefix)) << r.out;
  auto calls = flushCalls();
  ASSERT_GE(calls.size(), 4u);  // the POST and three reports (long-polled by the server)
  for (const auto& c : calls) {
    EXPECT_EQ(c.bucket, "data");
    EXPECT_EQ(c.prefix, prefix);
  }
  EXPECT_EQ(calls[1].barrier, std::optional<uint64_t>(42));
}

TEST_F(EmberctlTest, FlushWaitTimesOutWithExit3) {
  fake.reportsUntilDone = -1;
  start(&fake);
  auto t0 = std::chrono::steady_clock::now();
  CtlRun r = ctl({"flush", "data/p", "--wait", "--timeout", "1s"});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.code, kExitTimeout) << r.err;
  EXPECT_TRUE(contains(r.err, "timed out after 1s: barrier 42 still has 3 objects (2.9 KiB) "
                              "pending under data/p"))
      << r.err;
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(5000));
  // Not a terminal: progress comes as plain lines.
  EXPECT_TRUE(contains(r.out, "barrier 42: 3 objects (2.9 KiB) pending, 0 objects (0 B) drained"))
      << r.out;
  EXPECT_FALSE(contains(r.out, "\r"));
}

TEST_F(EmberctlTest, FlushWaitOnATerminalRedrawsOneLine) {
  fake.reportsUntilDone = -1;
  start(&fake);
  CtlRun r = ctl({"flush", "data/p", "--wait", "--timeout", "1500ms"}, /*tty=*/true);
  EXPECT_EQ(r.code, kExitTimeout) << r.err;
  EXPECT_TRUE(contains(r.out, "\r\033[Kbarrier 42: 3 objects")) << r.out;
  // The line is cleared before the process ends.
  EXPECT_TRUE(r.out.ends_with("\r\033[K")) << r.out;
}

TEST_F(EmberctlTest, FlushWaitRetriesWhileTheServerIsUnavailable) {
  fake.reportsUntilDone = 1;
  fake.failReports = 1;
  start(&fake);
  CtlRun r = ctl({"flush", "data/p", "--wait", "--timeout", "20s"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.err, "tier manager restarting (Unavailable); retrying")) << r.err;
  EXPECT_TRUE(contains(r.out, "flushed:")) << r.out;
}

TEST_F(EmberctlTest, FlushJsonPrintsTheFinalReport) {
  fake.reportsUntilDone = 2;
  start(&fake);
  CtlRun r = ctl({"flush", "data/p", "--wait", "--json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["barrier"], 42);
  EXPECT_EQ(j["done"], true);

  r = ctl({"--json", "flush", "data/p"});
  EXPECT_EQ(r.code, kExitPending);
  EXPECT_EQ(json::parse(r.out)["pending_objects"], 2);
}

TEST_F(EmberctlTest, FlushErrorsFromTheServer) {
  fake.flushError = makeError(Code::kNoSuchBucket, "no bucket \"nope\"");
  start(&fake);
  CtlRun r = ctl({"flush", "nope/x", "--wait"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "emberctl: no bucket \"nope\" (NoSuchBucket)\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(EmberctlTest, Status) {
  start(&fake);
  CtlRun r = ctl({"status", "data/dir/a b.bin"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(r.out.starts_with("data/dir/a b.bin\n"
                                "  state       dirty (since 2023-11-14 22:13:20 UTC, "))
      << r.out;
  EXPECT_TRUE(contains(r.out, "\n  pinned      yes\n"
                              "  size        1.2 KiB (1234 bytes)\n"
                              "  warm etag   w-etag\n"
                              "  cold etag   c-etag\n"
                              "  last error  Unavailable: cold store down\n"))
      << r.out;
  {
    std::lock_guard<std::mutex> lock(fake.mu);
    ASSERT_EQ(fake.statusCalls.size(), 1u);
    EXPECT_EQ(fake.statusCalls[0].second, "dir/a b.bin");
  }
  r = ctl({"status", "--json", "data/k"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(json::parse(r.out)["key"], "k");
}

TEST_F(EmberctlTest, StatusErrors) {
  fake.statusError = makeError(Code::kNoSuchKey, "no such object data/k");
  start(&fake);
  CtlRun r = ctl({"status", "data/k"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "emberctl: no such object data/k (NoSuchKey)\n");
  EXPECT_EQ(ctl({"status", "data"}).code, kExitUsage);
  EXPECT_EQ(ctl({"status", "data/"}).code, kExitUsage);
}

TEST_F(EmberctlTest, TierTable) {
  start(&fake);
  CtlRun r = ctl({"tier"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  std::istringstream lines(r.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_TRUE(header.starts_with("MAPPING  ")) << r.out;
  EXPECT_TRUE(contains(header, "LOCATION")) << r.out;
  EXPECT_TRUE(header.ends_with("LAST ERROR")) << r.out;
  EXPECT_TRUE(first.starts_with("data/ckpt/  az://acct/cont/ckpt  write-back  closed ")) << r.out;
  for (const char* part : {"3.0 MiB", "1m05s", "10 (1.0 GiB)", "Busy: 503"}) {
    EXPECT_TRUE(contains(first, part)) << part << " in " << first;
  }
  EXPECT_TRUE(second.starts_with("/ ")) << r.out;  // the empty second mapping
  // The columns line up.
  EXPECT_EQ(header.find("LOCATION"), first.find("az://"));

  r = ctl({"tier", "--json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(json::parse(r.out)["mappings"].size(), 2u);
}

TEST_F(EmberctlTest, NoMappingsConfigured) {
  start(nullptr);
  CtlRun r = ctl({"tier"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "emberctl: no cold mappings configured (NotFound)\n");
}

TEST_F(EmberctlTest, AnEmberdWithoutTheTierApi) {
  startServer([](http::Request&, http::RequestBody&,
                 http::ResponseWriter& w) -> asio::awaitable<void> {
    http::Response resp;
    resp.status = 404;
    Status s = co_await w.respond(std::move(resp), "not found: try /metrics or /healthz\n");
    s.ignoreError();
  });
  url_ = "http://127.0.0.1:" + std::to_string(port());
  CtlRun r = ctl({"tier"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "emberctl: GET " + url_ +
                       "/tier answered HTTP 404: not found: try /metrics or /healthz (an emberd "
                       "without the /tier admin API?)\n");
}

TEST_F(EmberctlTest, PortFileAndEnvironmentNameTheEndpoint) {
  start(&fake);
  std::string file = ::testing::TempDir() + "emberctl_ports.json";
  {
    std::ofstream out(file);
    out << "{\"s3\": 1, \"admin\": " << port() << "}\n";
  }
  // The port file's port replaces the URL's.
  CtlRun r = emberctl({"--admin", "http://127.0.0.1:1", "--port-file", file, "tier"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  r = emberctl({"--port-file", file, "tier"});
  EXPECT_EQ(r.code, kExitOk) << r.err;

  ::setenv("EMBER_ADMIN", url_.c_str(), 1);
  r = emberctl({"tier"});
  ::unsetenv("EMBER_ADMIN");
  EXPECT_EQ(r.code, kExitOk) << r.err;

  r = emberctl({"--port-file", file + ".missing", "tier"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_TRUE(contains(r.err, "cannot read the port file")) << r.err;
}

TEST_F(EmberctlTest, StageFollowsTheJobAndListsFailures) {
  ::setenv("EMBERCTL_POLL_MS", "10", 1);
  fake.onPoll = [](tier::StageReport& r, int polls) {
    r.objectsListed = 200;
    r.bytesListed = 200 << 20;
    r.objectsDone = polls < 3 ? 50u * static_cast<uint64_t>(polls) : 197u;
    r.bytesDone = r.objectsDone << 20;
    r.rateBytesPerSec = 100 << 20;
    r.listingComplete = polls >= 2;
    r.etaSeconds = r.listingComplete ? 1 : -1;
    if (polls >= 3) {
      r.state = "done";
      r.objectsSkipped = 1;
      r.objectsFailed = 2;
      r.startedMs = 1000;
      r.finishedMs = 3000;
      r.failures = {{"ds/x", "not found in cold (deleted after it was listed?)", 1},
                    {"ds/y", "cold GET: Unavailable: 503", 3}};
    }
  };
  start(&fake);
  CtlRun r = ctl({"stage", "data/ds/", "--pin", "--ttl", "72h", "--parallel", "16", "--max-rate",
                  "2GB/s"},
                 /*tty=*/true);
  EXPECT_EQ(r.code, kExitPartial) << r.err;
  EXPECT_TRUE(contains(r.out, "stage j1 started for data/ds/")) << r.out;
  EXPECT_TRUE(contains(r.out, "\r\033[K[")) << r.out;  // the progress line, redrawn
  EXPECT_TRUE(contains(r.out, "50/200+ objects")) << r.out;
  EXPECT_TRUE(contains(r.out, "stage j1 done: data/ds/")) << r.out;
  EXPECT_TRUE(contains(r.out, "197 pulled, 1 skipped (already warm), 2 failed, of 200 listed"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "197.0 MiB pulled in 2s")) << r.out;
  EXPECT_TRUE(contains(r.out, "  data/ds/x: not found in cold (deleted after it was listed?) "
                              "(1 attempt)\n"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "  data/ds/y: cold GET: Unavailable: 503 (3 attempts)\n")) << r.out;
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.stageRequests.size(), 1u);
  EXPECT_EQ(fake.stageRequests[0].bucket, "data");
  EXPECT_EQ(fake.stageRequests[0].prefix, "ds/");
  EXPECT_TRUE(fake.stageRequests[0].pin);
  EXPECT_EQ(fake.stageRequests[0].ttlSeconds.value_or(0), 72 * 3600);
  EXPECT_EQ(fake.stageRequests[0].parallel, 16u);
  EXPECT_EQ(fake.stageRequests[0].maxRate, 2000000000u);
}

TEST_F(EmberctlTest, StageExitStatuses) {
  ::setenv("EMBERCTL_POLL_MS", "10", 1);
  std::string endState = "done";
  fake.onPoll = [&](tier::StageReport& r, int) {
    r.state = endState;
    r.objectsListed = r.objectsDone = 3;
    r.listingComplete = true;
  };
  start(&fake);
  CtlRun r = ctl({"stage", "data/ds/"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_FALSE(contains(r.out, "\r")) << r.out;  // no progress line off a terminal
  endState = "cancelled";
  EXPECT_EQ(ctl({"stage", "data/ds/"}).code, kExitError);
  endState = "failed";
  EXPECT_EQ(ctl({"stage", "data/ds/"}).code, kExitError);
  r = ctl({"stage", "data/ds/", "--detach"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "stage j4 started for data/ds/\n");
  r = ctl({"stages"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(contains(r.out, "ID  STATE")) << r.out;
  EXPECT_TRUE(contains(r.out, "j4  running")) << r.out;
  r = ctl({"stage-cancel", "j4"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "stage j4: cancel requested\n");
  r = ctl({"stage-status", "nope"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_TRUE(contains(r.err, "no staging job 'nope'")) << r.err;
  endState = "done";
  r = ctl({"stage-status", "j1"});
  EXPECT_EQ(r.code, kExitOk) << r.err;  // done without failures
  EXPECT_TRUE(contains(r.out, "stage j1 done")) << r.out;
  EXPECT_EQ(ctl({"stage", "data/ds/", "--parallel", "0"}).code, kExitUsage);
  EXPECT_EQ(ctl({"stage", "data/ds/", "--ttl", "72h"}).code, kExitUsage);  // needs --pin
  EXPECT_EQ(ctl({"stage", "data/ds/", "--max-rate", "fast"}).code, kExitUsage);
}

TEST(Emberctl, CannotConnectNamesTheUrl) {
  // Port 1 on loopback: nothing listens there.
  CtlRun r = emberctl({"--admin", "http://127.0.0.1:1", "tier"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_TRUE(contains(r.err, "cannot reach emberd's admin endpoint at http://127.0.0.1:1 ("))
      << r.err;
  r = emberctl({"--admin", "127.0.0.1:1", "flush", "b/p", "--wait", "--timeout", "0"});
  EXPECT_EQ(r.code, kExitError);
}

TEST(Emberctl, UsageErrorsExit2) {
  EXPECT_EQ(emberctl({}).code, kExitUsage);
  EXPECT_EQ(emberctl({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(emberctl({"flush"}).code, kExitUsage);
  EXPECT_EQ(emberctl({"flush", "b/p", "--timeout", "1h"}).code, kExitUsage);  // needs --wait
  CtlRun r = emberctl({"flush", "b/p", "--wait", "--timeout", "soon"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(contains(r.err, "--timeout: bad duration \"soon\"")) << r.err;
  EXPECT_EQ(emberctl({"flush", "/p"}).code, kExitUsage);
  EXPECT_EQ(emberctl({"status"}).code, kExitUsage);
  r = emberctl({"--admin", "ftp://host", "tier"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(contains(r.err, "bad admin URL")) << r.err;
  EXPECT_EQ(emberctl({"--admin", "http://host:9001/some/path", "tier"}).code, kExitUsage);
}

TEST(Emberctl, HelpDocumentsTheExitStatuses) {
  CtlRun r = emberctl({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(contains(r.out, "Exit status:")) << r.out;
  EXPECT_TRUE(contains(r.out, "4  flush without --wait")) << r.out;
  r = emberctl({"flush", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(contains(r.out, "--timeout")) << r.out;
}

}  // namespace
}  // namespace ember::ctl

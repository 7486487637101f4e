// Staging jobs against the in-memory cold twin, the in-memory store and a real state db.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "store/mem/mem_store.h"
#include "store/store_test_util.h"
#include "tier/mem_cold_store.h"
#include "tier/stage.h"
#include "tier/tier_store.h"

namespace ember::tier {
namespace {

using store::testing::putBytes;
using store::testing::readObject;
using namespace std::chrono_literals;

std::string bytesOf(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 7;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// One "process": a tier thread, its cold twin, and a stager.
struct Proc {
  asio::io_context ioc{1};
  BlockingPool pool{4};  // its own: drained in kill(), before `ioc` goes away
  std::unique_ptr<MemColdStore> cold;
  std::unique_ptr<Stager> stager;  // destroyed after `ioc` frees the job frames (see ~Proc)
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;

  ~Proc() { kill(); }
  void run() {
    work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        ioc.get_executor());
    thread = std::thread([this] { ioc.run(); });
  }
  // Stops the tier thread where it is, like kill -9 (nothing more is persisted).
  void kill() {
    if (thread.joinable()) {
      work.reset();
      ioc.stop();
      thread.join();
    }
    pool.stop();  // blocking work in flight completes into the stopped (still alive) ioc
  }
};

class StageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = store::MemStore::create();
    ASSERT_TRUE(mem_->createBucket(store::testing::makeBucket("data")));
    MappingConfig mc;
    mc.bucket = "data";
    mc.prefix = "ds/";
    mc.cold.location = *cold::parseColdLocation("s3://cold/ds");
    table_ = *MappingTable::build({mc});
    auto db = StateDb::open(dir_.path() + "/db");
    ASSERT_TRUE(db) << db.error().toString();
    db_ = std::move(*db);
    WriteBackOptions wo;
    wo.retryBase = 60s;
    wb_ = std::make_unique<WriteBack>(*mem_, *db_, table_, wo);
    ASSERT_TRUE(wb_->recover());
    ts_ = std::make_shared<TierStore>(mem_, table_, *wb_, 10ms);
    options_.chunkBytes = 64 << 10;
    options_.retryBase = 5ms;
    options_.tick = 10ms;
    options_.persistEvery = 20ms;
    options_.listPage = 7;
    options_.queueCap = 5;
    p_ = newProc();
  }
  void TearDown() override {
    p_.reset();
    ts_.reset();
    wb_.reset();
    db_.reset();
  }

  std::unique_ptr<Proc> newProc(StagePinner pinner = {}) {
    auto p = std::make_unique<Proc>();
    p->cold = std::make_unique<MemColdStore>(p->ioc.get_executor());
    StagerDeps d;
    d.executor = p->ioc.get_executor();
    d.inner = mem_.get();
    d.db = db_.get();
    d.wb = wb_.get();
    d.table = &table_;
    d.cold = {p->cold.get()};
    d.pool = &p->pool;
    d.pinner = std::move(pinner);
    p->stager = std::make_unique<Stager>(std::move(d), options_);
    p->run();
    return p;
  }

  // Cold object "a/<i>" (local key "ds/a/<i>"); sizes vary, every 10th is large (ranges).
  std::string put(MemColdStore& c, int i, size_t size = 0, std::string etag = {}) {
    std::string key = fmt::format("a/{:04}", i);
    if (size == 0) {
      size = i % 10 == 9 ? (300 << 10) + i : 100 + i * 37;
    }
    return c.putObject(key, bytesOf(size, i), etag.empty() ? fmt::format("e{}", i) : etag);
  }

  StageReport waitEnd(Stager& s, const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto r = s.status(id);
      EXPECT_TRUE(r);
      if (r->state == "done" || r->state == "failed" || r->state == "cancelled") {
        return *r;
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "job " << id << " did not end";
    return *s.status(id);
  }

  StageRequest req(std::string prefix = "ds/a/", unsigned parallel = 4) {
    StageRequest r;
    r.bucket = "data";
    r.prefix = std::move(prefix);
    r.parallel = parallel;
    return r;
  }

  store::testing::TempDir dir_;
  std::shared_ptr<store::MemStore> mem_;
  MappingTable table_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<WriteBack> wb_;
  std::shared_ptr<TierStore> ts_;
  StagerOptions options_;
  std::unique_ptr<Proc> p_;
};

TEST_F(StageTest, PullsEveryObjectByteExact) {
  for (int i = 0; i < 40; ++i) {
    put(*p_->cold, i);
  }
  p_->cold->putObject("b/outside", "not staged");
  auto started = p_->stager->start(req());
  ASSERT_TRUE(started) << started.error().toString();
  StageReport r = waitEnd(*p_->stager, started->id);
  EXPECT_EQ(r.state, "done") << r.error;
  EXPECT_TRUE(r.listingComplete);
  EXPECT_EQ(r.objectsListed, 40u);
  EXPECT_EQ(r.objectsDone, 40u);
  EXPECT_EQ(r.objectsFailed, 0u);
  EXPECT_EQ(r.bytesDone, r.bytesListed);
  for (int i = 0; i < 40; ++i) {
    std::string key = fmt::format("ds/a/{:04}", i);
    auto got = readObject(*mem_, "data", key);
    ASSERT_TRUE(got) << key;
    auto cold = p_->cold->object(fmt::format("a/{:04}", i));
    EXPECT_TRUE(*got == cold->bytes) << key;
    auto rec = mem_->getObject("data", key);
    EXPECT_EQ(rec->etag, fmt::format("e{}", i));
    auto clean = db_->getClean(tierKey("data", key));
    ASSERT_TRUE(clean && *clean);
    EXPECT_EQ((*clean)->coldEtag, fmt::format("e{}", i));
  }
  EXPECT_FALSE(mem_->getObject("data", "ds/b/outside"));
  // Large objects were fetched as 64 KiB ranges, each once.
  size_t ranged = 0;
  for (const auto& c : p_->cold->getCalls()) {
    ranged += c.length ? 1 : 0;
  }
  EXPECT_EQ(ranged, 4u * 5u);  // 4 large objects of 300 KiB+ = 5 chunks each
  StagerTotals t = p_->stager->totals();
  EXPECT_EQ(t.objects, 40u);
  EXPECT_EQ(t.running, 0u);
}

TEST_F(StageTest, SkipsWarmAndDirtyKeysAndReplacesStaleCopies) {
  for (int i = 0; i < 3; ++i) {
    put(*p_->cold, i);
  }
  auto first = p_->stager->start(req());
  ASSERT_EQ(waitEnd(*p_->stager, first->id).objectsDone, 3u);
  // A local write (dirty) and a cold change (the warm copy is stale).
  ASSERT_TRUE(putBytes(*ts_, "data", "ds/a/0001", "local write"));
  ASSERT_TRUE(wb_->dirty(tierKey("data", "ds/a/0001")));
  put(*p_->cold, 2, 500, "changed");
  uint64_t gets = p_->cold->counts().gets;
  auto second = p_->stager->start(req());
  StageReport r = waitEnd(*p_->stager, second->id);
  EXPECT_EQ(r.state, "done");
  EXPECT_EQ(r.objectsSkipped, 2u);
  EXPECT_EQ(r.objectsDone, 1u);
  EXPECT_EQ(p_->cold->counts().gets, gets + 1);
  EXPECT_EQ(*readObject(*mem_, "data", "ds/a/0001"), "local write");
  EXPECT_EQ(*readObject(*mem_, "data", "ds/a/0002"), bytesOf(500, 2));
  EXPECT_EQ(mem_->getObject("data", "ds/a/0002")->etag, "changed");
}

TEST_F(StageTest, RetriesThenListsFailures) {
  for (int i = 0; i < 4; ++i) {
    put(*p_->cold, i);
  }
  p_->cold->failNextGets(2);  // the first object fails twice, then succeeds
  auto a = p_->stager->start(req("ds/a/", 1));
  StageReport r = waitEnd(*p_->stager, a->id);
  EXPECT_EQ(r.state, "done");
  EXPECT_EQ(r.objectsDone, 4u);
  EXPECT_TRUE(r.failures.empty());

  // A vanished object fails at once (no retry) while the others succeed.
  for (int i = 10; i < 13; ++i) {
    put(*p_->cold, i, 0, fmt::format("x{}", i));
  }
  p_->cold->failNextGets(1, makeError(Code::kNotFound, "gone"));
  auto b = p_->stager->start(req("ds/a/001", 1));
  r = waitEnd(*p_->stager, b->id);
  EXPECT_EQ(r.state, "done");
  EXPECT_EQ(r.objectsDone, 2u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].key, "ds/a/0010");
  EXPECT_EQ(r.failures[0].attempts, 1u);
  EXPECT_NE(r.failures[0].reason.find("not found"), std::string::npos) << r.failures[0].reason;

  // Every object failing (after 3 attempts each): the job fails.
  put(*p_->cold, 20, 0, "y");
  put(*p_->cold, 21, 0, "y");
  p_->cold->failNextGets(100);
  auto c = p_->stager->start(req("ds/a/002", 2));
  r = waitEnd(*p_->stager, c->id);
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(r.objectsFailed, 2u);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0].attempts, 3u);
  EXPECT_NE(r.failures[0].reason.find("injected failure"), std::string::npos);
  p_->cold->failNextGets(0);
}

TEST_F(StageTest, RefusesPrefixesOutsideMappings) {
  EXPECT_EQ(p_->stager->start(req("other/")).error().code(), Code::kInvalidArgument);
  StageRequest r = req();
  r.bucket = "nope";
  EXPECT_EQ(p_->stager->start(r).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(p_->stager->start(req("ds/", 0)).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(p_->stager->start(req("ds/", 257)).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(p_->stager->status("nope").error().code(), Code::kNotFound);
  EXPECT_EQ(p_->stager->cancel("nope").error().code(), Code::kNotFound);
}

TEST_F(StageTest, CancelStopsTheJob) {
  for (int i = 0; i < 20; ++i) {
    put(*p_->cold, i, 1000);
  }
  p_->cold->holdGets();
  auto a = p_->stager->start(req("ds/a/", 2));
  for (int i = 0; i < 500 && p_->cold->counts().gets < 2; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(p_->stager->cancel(a->id));
  p_->cold->releaseGets();
  StageReport r = waitEnd(*p_->stager, a->id);
  EXPECT_EQ(r.state, "cancelled");
  EXPECT_LE(r.objectsDone, 2u);
  EXPECT_EQ(p_->cold->counts().gets, 2u);
  // Cancelling a finished job returns it unchanged.
  EXPECT_EQ(p_->stager->cancel(a->id)->state, "cancelled");
  // Persisted as cancelled: a new stager does not resume it.
  p_.reset();
  p_ = newProc();
  ASSERT_TRUE(p_->stager->resume());
  EXPECT_EQ(p_->stager->status(a->id)->state, "cancelled");
}

TEST_F(StageTest, ResumesAfterACrashWithoutRepeatingWork) {
  options_.queueCap = 3;
  p_.reset();
  p_ = newProc();
  for (int i = 0; i < 30; ++i) {
    put(*p_->cold, i, 2000);
  }
  // Hold the 11th get: objects 0..9 get pulled, then the job stalls.
  MemColdStore* cold = p_->cold.get();
  p_->cold->onGet([cold](const MemColdStore::GetCall&) {
    if (cold->counts().gets == 11) {
      cold->holdGets();
    }
  });
  auto a = p_->stager->start(req("ds/a/", 1));
  ASSERT_TRUE(a);
  for (int i = 0; i < 500 && p_->stager->status(a->id)->objectsDone < 10; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(p_->stager->status(a->id)->objectsDone, 10u);
  std::this_thread::sleep_for(150ms);  // a few progress records
  p_->kill();
  p_.reset();

  // "Restart": a new tier thread and stager on the same state db and store.
  p_ = newProc();
  for (int i = 0; i < 30; ++i) {
    put(*p_->cold, i, 2000);
  }
  ASSERT_TRUE(p_->stager->resume());
  StageReport r = waitEnd(*p_->stager, a->id);
  EXPECT_EQ(r.id, a->id);
  EXPECT_EQ(r.state, "done") << r.error;
  EXPECT_EQ(r.resumes, 1u);
  EXPECT_EQ(r.objectsDone, 30u);
  EXPECT_EQ(r.objectsListed, 30u);
  EXPECT_EQ(r.objectsSkipped, 0u);
  EXPECT_EQ(p_->cold->counts().gets, 20u);  // objects 10..29 only
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(*readObject(*mem_, "data", fmt::format("ds/a/{:04}", i)), bytesOf(2000, i));
  }
}

TEST_F(StageTest, PinnerIsAskedFirstAndCanRefuse) {
  for (int i = 0; i < 5; ++i) {
    put(*p_->cold, i, 1000);
  }
  std::atomic<uint64_t> pinnedBytes{0};
  std::atomic<int64_t> expires{0};
  p_.reset();
  p_ = newProc([&](const std::string& b, const std::string& prefix, std::optional<int64_t> e,
                   uint64_t bytes) -> Status {
    EXPECT_EQ(b, "data");
    EXPECT_EQ(prefix, "ds/a/");
    if (bytes > 4000) {
      return makeError(Code::kInsufficientStorage, "pinning more than fits");
    }
    pinnedBytes = bytes;
    expires = e.value_or(-1);
    return Status::ok();
  });
  for (int i = 0; i < 5; ++i) {
    put(*p_->cold, i, 1000);
  }
  StageRequest r = req();
  r.pin = true;
  r.ttlSeconds = 3600;
  auto a = p_->stager->start(r);
  StageReport rep = waitEnd(*p_->stager, a->id);
  EXPECT_EQ(rep.state, "failed");
  EXPECT_NE(rep.error.find("pinning more than fits"), std::string::npos) << rep.error;
  EXPECT_EQ(p_->cold->counts().gets, 0u);

  p_->cold->removeObject("a/0004");
  auto b = p_->stager->start(r);
  rep = waitEnd(*p_->stager, b->id);
  EXPECT_EQ(rep.state, "done");
  EXPECT_EQ(pinnedBytes.load(), 4000u);
  EXPECT_GT(expires.load(), 0);
  EXPECT_EQ(rep.objectsDone, 4u);
}

TEST(TokenBucketTest, TakesAtTheRate) {
  using Clock = TokenBucket::Clock;
  Clock::time_point t0{};
  TokenBucket b(1000, t0, 1000);
  EXPECT_EQ(b.take(500, t0), Clock::duration::zero());
  EXPECT_EQ(b.take(500, t0), Clock::duration::zero());
  auto w = b.take(500, t0);  // 500 bytes of debt: half a second
  EXPECT_NEAR(std::chrono::duration<double>(w).count(), 0.5, 1e-6);
  EXPECT_EQ(b.take(0, t0 + 500ms), Clock::duration::zero());
  // Tokens never exceed the burst, however long the pause.
  EXPECT_EQ(b.take(1000, t0 + 100s), Clock::duration::zero());
  EXPECT_GT(b.take(1, t0 + 100s), Clock::duration::zero());
}

}  // namespace
}  // namespace ember::tier

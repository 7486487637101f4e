// The fill registry (fill.h): one fill per cold object version, idle fills trimmed to a budget.
#include "tier/fill.h"

#include <future>

#include "tier/fill_test_util.h"

namespace ember::tier {
namespace {

class FillRegistryTest : public FillTest {
 protected:
  // Runs fn on the tier thread (the registry's home) and returns its result.
  template <typename F>
  auto onTier(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    asio::post(tier_, [&task] { task(); });
    return fut.get();
  }
  std::shared_ptr<ColdFill> acquire(FillRegistry& reg, const std::string& key) {
    auto info = infoOf(key);
    auto r = onTier([&] { return reg.acquire(0, cold_, key, info); });
    EXPECT_TRUE(r) << r.error().toString();
    return r ? *r : nullptr;
  }
  void readAll(const std::shared_ptr<ColdFill>& fill) {
    auto r = readBlocking(*fill, 0, fill->info().size, kChunk);
    ASSERT_TRUE(r) << r.error().toString();
  }
};

TEST_F(FillRegistryTest, AcquireSharesOneFillPerVersion) {
  startTier();
  FillRegistry reg(tier_.get_executor(), options_, 1ull << 30);
  cold_.putObject("a", pattern(kChunk, 1));
  auto a1 = acquire(reg, "a");
  auto a2 = acquire(reg, "a");
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(reg.size(), 1u);

  // A new version: a new fill replaces the old one, which its reader keeps.
  cold_.putObject("a", pattern(kChunk, 2));
  auto a3 = acquire(reg, "a");
  EXPECT_NE(a3, a1);
  EXPECT_EQ(a3->info().etag, cold_.object("a")->etag);
  EXPECT_EQ(reg.size(), 1u);
  // The old fill, still held by its reader, finds out on its first fetch.
  auto old = readBlocking(*a1, 0, kChunk, kChunk);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), Code::kPreconditionFailed);
  EXPECT_TRUE(a1->stale());

  // A stale fill is replaced even when asked for with its own ETag.
  auto info = a3->info();
  cold_.putObject("a", pattern(kChunk, 3));
  EXPECT_FALSE(readBlocking(*a3, 0, kChunk, kChunk));
  ASSERT_TRUE(a3->stale());
  auto fresh = onTier([&] {
    auto r = reg.acquire(0, cold_, "a", info);
    return r ? *r : nullptr;
  });
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh, a3);
  EXPECT_FALSE(fresh->stale());
  EXPECT_EQ(reg.size(), 1u);
}

TEST_F(FillRegistryTest, BudgetTrimmingDropsOnlyIdleFills) {
  startTier();
  for (const char* k : {"a", "b", "c", "d"}) {
    cold_.putObject(k, pattern(2 * kChunk, static_cast<unsigned>(k[0])));
  }
  FillRegistry reg(tier_.get_executor(), options_, 3 * kChunk);
  auto idle = [](const std::weak_ptr<ColdFill>& w) { return w.use_count() == 1; };

  auto a = acquire(reg, "a");
  readAll(a);
  std::weak_ptr<ColdFill> weakA = a;
  a.reset();
  ASSERT_TRUE(waitUntil([&] { return idle(weakA); }));  // its last fetch frame is gone

  auto b = acquire(reg, "b");  // 2 chunks retained: within the budget, a is kept
  EXPECT_FALSE(weakA.expired());
  readAll(b);  // b is held by this test from here on
  EXPECT_EQ(onTier([&] { return reg.retainedBytes(); }), 4 * kChunk);

  auto c = acquire(reg, "c");  // 4 chunks retained: a, idle and least recent, goes
  EXPECT_TRUE(weakA.expired());
  readAll(c);
  std::weak_ptr<ColdFill> weakC = c;
  c.reset();
  ASSERT_TRUE(waitUntil([&] { return idle(weakC); }));

  auto d = acquire(reg, "d");  // b + c over budget: b is held, so c goes
  EXPECT_TRUE(weakC.expired());
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_EQ(onTier([&] { return reg.retainedBytes(); }), 2 * kChunk);
  EXPECT_EQ(acquire(reg, "b"), b);  // still served from the registry

  // drop() forgets a fill.
  std::weak_ptr<ColdFill> weakD = d;
  d.reset();
  ASSERT_TRUE(waitUntil([&] { return idle(weakD); }));
  onTier([&] {
    reg.drop(0, "d");
    return 0;
  });
  EXPECT_TRUE(weakD.expired());
  EXPECT_EQ(reg.size(), 1u);
  auto d2 = acquire(reg, "d");
  EXPECT_EQ(d2->presentBytes(), 0u);
}

}  // namespace
}  // namespace ember::tier

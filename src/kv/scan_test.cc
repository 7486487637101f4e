// SCAN: hash-order cursor; every key present for the whole iteration is returned, whatever concurrent
// writes, deletes and index doublings happen; expired keys are skipped.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "common/time_util.h"
#include "kv/engine.h"
#include "kv/test_util.h"

namespace ember::kv {
namespace {

using namespace ember::kv::testing;

std::map<std::string, int> scanAll(Engine& e, size_t count, int* calls) {
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  *calls = 0;
  do {
    cursor = e.scan(cursor, count, [&](std::string_view k, uint32_t, int64_t) { ++seen[std::string(k)]; });
    ++*calls;
  } while (cursor != 0 && *calls < 10'000'000);
  return seen;
}

TEST(KvScan, VisitsEveryKeyOnceWhenQuiet) {
  for (unsigned shards : {1u, 4u, 16u}) {
    TempDir dir;
    auto o = smallOptions(dir.path());
    o.shards = shards;
    auto e = openOrDie(o);
    int calls = 0;
    EXPECT_TRUE(scanAll(*e, 10, &calls).empty());
    for (int i = 0; i < 5000; ++i) {
      ASSERT_TRUE(set(*e, "key" + std::to_string(i), std::string(static_cast<size_t>(i % 50), 'v')));
    }
    ASSERT_TRUE(set(*e, "gone", "v", nowMillis() - 1));
    ASSERT_TRUE(set(*e, "expiring", "v", nowMillis() + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    auto seen = scanAll(*e, 10, &calls);
    EXPECT_EQ(seen.size(), 5000u);
    for (const auto& [k, n] : seen) {
      ASSERT_EQ(n, 1) << k;
      ASSERT_EQ(k.rfind("key", 0), 0u) << k;
    }
    EXPECT_GT(calls, 300);  // about count entries per call
    EXPECT_LT(calls, 1200);
    size_t lens = 0;
    uint64_t c = 0;
    do {
      c = e->scan(c, 1000, [&](std::string_view, uint32_t len, int64_t) { lens += len; });
    } while (c != 0);
    size_t want = 0;
    for (int i = 0; i < 5000; ++i) {
      want += static_cast<size_t>(i % 50);
    }
    EXPECT_EQ(lens, want);
  }
}

TEST(KvScan, KeysPresentThroughoutAreReturnedDespiteChurnAndGrowth) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 4;
  o.durability = Durability::kNone;
  auto e = openOrDie(o);
  constexpr int kStable = 2000;
  for (int i = 0; i < kStable; ++i) {
    ASSERT_TRUE(set(*e, "stable" + std::to_string(i), "s"));
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int n = 0;
    while (!stop) {
      // Grows the index a lot (several doublings per shard) and deletes behind itself.
      std::string k = "churn" + std::to_string(n);
      ASSERT_TRUE(set(*e, k, "c"));
      if (n >= 500) {
        ASSERT_TRUE(del(*e, "churn" + std::to_string(n - 500 + (n % 3 == 0 ? 0 : 250))));
      }
      ++n;
      if (n > 200'000) {
        break;
      }
    }
  });
  for (int iter = 0; iter < 20; ++iter) {
    int calls = 0;
    auto seen = scanAll(*e, 5, &calls);
    for (int i = 0; i < kStable; ++i) {
      ASSERT_TRUE(seen.count("stable" + std::to_string(i))) << "iteration " << iter << " missed stable" << i;
    }
  }
  stop = true;
  writer.join();
}

TEST(KvScan, CursorIsAHashPositionAndZeroEnds) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  auto e = openOrDie(o);
  ASSERT_TRUE(set(*e, "only", "v"));
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = e->scan(cursor, 1, [&](std::string_view k, uint32_t, int64_t) { seen.insert(std::string(k)); });
    ++calls;
  } while (cursor != 0);
  EXPECT_EQ(seen, std::set<std::string>{"only"});
  // A cursor past every hash of the last shard returns 0 at once.
  EXPECT_EQ(e->scan(~uint64_t{0}, 10, [](std::string_view, uint32_t, int64_t) {}), 0u);
}

}  // namespace
}  // namespace ember::kv

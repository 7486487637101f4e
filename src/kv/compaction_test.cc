// Compaction: garbage is reclaimed, live data survives, deleted and expired keys never come back.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/time_util.h"
#include "kv/engine.h"
#include "kv/test_util.h"

namespace ember::kv {
namespace {

using namespace ember::kv::testing;
constexpr uint64_t kSegmentHeaderBytesForTest = 16;

// Polls until pred() holds (up to ~10 s); returns whether it did.
template <typename F>
bool eventually(F pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

TEST(KvCompaction, OverwritesShrinkTheLog) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 2;
  o.segmentBytes = 64 << 10;
  o.tailBufferBytes = 4096;  // records reach the file before they are overwritten: no coalescing
  auto e = openOrDie(o);
  constexpr int kKeys = 100;
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      std::string k = "k" + std::to_string(i);
      ASSERT_TRUE(set(*e, k, valueFor(k, round, 1000)));
    }
  }
  for (int i = 0; i < kKeys; i += 10) {
    ASSERT_TRUE(del(*e, "k" + std::to_string(i)));
  }
  // ~6 MiB were written; about 100 KiB are live.
  ASSERT_TRUE(eventually([&] { return e->stats().diskBytes < 1200u << 10; }))
      << "diskBytes " << e->stats().diskBytes;
  Stats st = e->stats();
  EXPECT_GT(st.compactions, 10u);
  EXPECT_EQ(st.keys, 90u);
  auto check = [&](Engine& eng) {
    for (int i = 0; i < kKeys; ++i) {
      std::string k = "k" + std::to_string(i);
      auto v = get(eng, k);
      if (i % 10 == 0) {
        ASSERT_FALSE(v) << k;
      } else {
        ASSERT_TRUE(v) << k;
        ASSERT_EQ(*v, valueFor(k, kRounds - 1, 1000)) << k;
      }
    }
  };
  check(*e);
  e.reset();
  e = openOrDie(o);
  EXPECT_EQ(e->size(), 90u);
  check(*e);
}

TEST(KvCompaction, OverwritesInTheTailAreCoalesced) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 1;
  o.batchIntervalMs = 10'000;  // nothing is written out during the loop
  auto e = openOrDie(o);
  uint64_t before = e->stats().diskBytes;
  int64_t exp = nowMillis() + 3'600'000;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(set(*e, "hot", valueFor("hot", i, 500), i % 2 == 0 ? kNoExpiry : exp + i));
    ASSERT_TRUE(set(*e, "other" + std::to_string(i % 3), valueFor("o", i, 100 + i % 3)));
  }
  Stats st = e->stats();
  EXPECT_LT(st.diskBytes - before, 4000u) << "overwrites were not coalesced";
  EXPECT_EQ(st.liveBytes + kSegmentHeaderBytesForTest, st.diskBytes);
  EXPECT_EQ(get(*e, "hot"), valueFor("hot", 999, 500));
  e.reset();
  e = openOrDie(o);
  EXPECT_EQ(get(*e, "hot"), valueFor("hot", 999, 500));
  EXPECT_EQ(e->expiry("hot").value(), exp + 999);
  for (int j = 0; j < 3; ++j) {
    int last = 999 - ((999 - j) % 3);
    EXPECT_EQ(get(*e, "other" + std::to_string(j)), valueFor("o", last, 100 + j));
  }
}

// One shard, so that "older segment" is under the test's control: seg A holds K and pinned live keys; K's
// tombstone lands in seg B with lots of garbage; compacting B must carry the tombstone forward.
TEST(KvCompaction, TombstoneOutlivesCompactionWhileOlderPutExists) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 1;
  o.segmentBytes = 16 << 10;
  auto e = openOrDie(o);
  ASSERT_TRUE(set(*e, "K", valueFor("K", 0, 1000)));
  int pinned = 0;
  while (e->stats().segments < 2) {  // fill segment A with live keys until it seals
    std::string k = "pin" + std::to_string(pinned++);
    ASSERT_TRUE(set(*e, k, valueFor(k, 0, 1000)));
  }
  ASSERT_TRUE(del(*e, "K"));
  for (int i = 0; e->stats().segments < 4; ++i) {  // churn: B becomes garbage
    ASSERT_TRUE(set(*e, "churn", valueFor("churn", i, 1000)));
  }
  ASSERT_TRUE(eventually([&] { return e->stats().compactions >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(get(*e, "K"));
  e.reset();
  e = openOrDie(o);
  EXPECT_FALSE(get(*e, "K")) << "a deleted key came back after compaction + reopen";
  for (int i = 0; i < pinned; ++i) {
    std::string k = "pin" + std::to_string(i);
    ASSERT_EQ(get(*e, k), valueFor(k, 0, 1000)) << k;
  }
  EXPECT_EQ(e->size(), static_cast<uint64_t>(pinned) + 1);  // pins + churn
}

// An expiring overwrite shadows an older permanent put; after it expires and its segment is compacted, the
// older put must stay dead.
TEST(KvCompaction, ExpiredOverwriteDoesNotResurrectOlderValue) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 1;
  o.segmentBytes = 16 << 10;
  o.expireSweepIntervalMs = 600'000;  // no sweep: K expires by access, L is found expired by compaction
  auto e = openOrDie(o);
  ASSERT_TRUE(set(*e, "K", "forever"));
  ASSERT_TRUE(set(*e, "L", "forever"));
  int pinned = 0;
  while (e->stats().segments < 2) {
    std::string k = "pin" + std::to_string(pinned++);
    ASSERT_TRUE(set(*e, k, valueFor(k, 0, 1000)));
  }
  int64_t exp = nowMillis() + 100;
  ASSERT_TRUE(set(*e, "K", "brief", exp));
  ASSERT_TRUE(set(*e, "L", "brief", exp));
  while (nowMillis() <= exp + 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(get(*e, "K"));  // removed from the index on access; L stays indexed until compaction
  EXPECT_EQ(e->size(), static_cast<uint64_t>(pinned) + 1);
  for (int i = 0; e->stats().segments < 4; ++i) {
    ASSERT_TRUE(set(*e, "churn", valueFor("churn", i, 1000)));
  }
  ASSERT_TRUE(eventually([&] { return e->stats().compactions >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  e.reset();
  e = openOrDie(o);
  EXPECT_FALSE(get(*e, "K"));
  EXPECT_FALSE(get(*e, "L"));
}

TEST(KvCompaction, ConcurrentWritesDuringCompactionStayConsistent) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 2;
  o.segmentBytes = 32 << 10;
  o.cacheBytes = 64 << 10;  // most reads go to disk, some to moved records
  auto e = openOrDie(o);
  constexpr int kKeys = 200;
  std::vector<int> version(kKeys, -1);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      for (int i = 0; i < kKeys; ++i) {
        std::string k = "c" + std::to_string(i);
        std::optional<std::string> v = get(*e, k);
        if (v) {
          ASSERT_EQ(v->size(), 700u);
        }
      }
    }
  });
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      std::string k = "c" + std::to_string(i);
      ASSERT_TRUE(set(*e, k, valueFor(k, round, 700)));
      version[i] = round;
    }
  }
  stop = true;
  reader.join();
  ASSERT_TRUE(eventually([&] { return e->stats().compactions >= 5; }));
  for (int i = 0; i < kKeys; ++i) {
    std::string k = "c" + std::to_string(i);
    ASSERT_EQ(get(*e, k), valueFor(k, version[i], 700)) << k;
  }
  e.reset();
  e = openOrDie(o);
  for (int i = 0; i < kKeys; ++i) {
    std::string k = "c" + std::to_string(i);
    ASSERT_EQ(get(*e, k), valueFor(k, version[i], 700)) << k;
  }
}

}  // namespace
}  // namespace ember::kv

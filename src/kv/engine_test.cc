// Engine basics: reads and writes, expiry, update() semantics, limits, the cache, RANDOMKEY, FLUSHALL.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/time_util.h"
#include "kv/engine.h"
#include "kv/test_util.h"

namespace ember::kv {
namespace {

using namespace ember::kv::testing;

TEST(KvEngine, PutGetErase) {
  TempDir dir;
  auto e = openOrDie(smallOptions(dir.path()));
  ASSERT_TRUE(e);
  EXPECT_FALSE(get(*e, "a"));
  ASSERT_TRUE(set(*e, "a", "1"));
  ASSERT_TRUE(set(*e, "b", "two"));
  ASSERT_TRUE(set(*e, "empty", ""));
  EXPECT_EQ(get(*e, "a"), "1");
  EXPECT_EQ(get(*e, "b"), "two");
  EXPECT_EQ(get(*e, "empty"), "");
  EXPECT_EQ(e->size(), 3u);
  ASSERT_TRUE(set(*e, "a", "one"));
  EXPECT_EQ(get(*e, "a"), "one");
  ASSERT_TRUE(del(*e, "a"));
  EXPECT_FALSE(get(*e, "a"));
  ASSERT_TRUE(del(*e, "never"));
  EXPECT_EQ(e->size(), 2u);
  EXPECT_EQ(e->expiry("b").value(), kNoExpiry);
  EXPECT_EQ(e->expiry("a").error().code(), Code::kNotFound);
  Stats st = e->stats();
  EXPECT_EQ(st.keys, 2u);
  EXPECT_GT(st.indexBytes, 0u);
  EXPECT_GT(st.diskBytes, 0u);
}

TEST(KvEngine, ExpiryIsExactAndSwept) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.expireSweepIntervalMs = 5;
  auto e = openOrDie(o);
  int64_t now = nowMillis();
  ASSERT_TRUE(set(*e, "soon", "v", now + 150));
  ASSERT_TRUE(set(*e, "later", "v", now + 60'000));
  ASSERT_TRUE(set(*e, "past", "v", now - 1));  // an expiry in the past deletes
  EXPECT_FALSE(get(*e, "past"));
  EXPECT_EQ(get(*e, "soon"), "v");
  EXPECT_EQ(e->expiry("soon").value(), now + 150);
  while (nowMillis() <= now + 150) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(get(*e, "soon"));  // exact on access, whatever the sweep did
  EXPECT_EQ(get(*e, "later"), "v");

  // The sweep reclaims keys nobody reads.
  now = nowMillis();
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(set(*e, "tmp" + std::to_string(i), "x", now + 20));
  }
  EXPECT_EQ(e->size(), 501u);
  for (int i = 0; i < 400 && e->size() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(e->size(), 1u);
  Stats st = e->stats();
  EXPECT_GE(st.expiredKeys, 501u);
  EXPECT_EQ(st.keysWithExpiry, 1u);
}

TEST(KvEngine, UpdateReadsAndWritesSeveralKeysAtomically) {
  TempDir dir;
  auto e = openOrDie(smallOptions(dir.path()));
  ASSERT_TRUE(set(*e, "x", "10"));
  std::vector<std::string_view> keys = {"x", "y", "x", "z"};
  Status s = e->update(keys, [&](Txn& t) {
    EXPECT_EQ(t.size(), 4u);
    EXPECT_TRUE(t.exists(0));
    EXPECT_TRUE(t.exists(2));  // a duplicate is the same key
    EXPECT_FALSE(t.exists(1));
    ASSERT_NE(t.value(0), nullptr);
    EXPECT_EQ(*t.value(0), "10");
    t.put(1, "y1", kNoExpiry);
    EXPECT_TRUE(t.exists(1));
    EXPECT_EQ(*t.value(1), "y1");  // reads its own writes
    t.put(2, "x2", kNoExpiry);
    EXPECT_EQ(*t.value(0), "x2");
    t.erase(3);  // absent: nothing to do
  }, nullptr);
  ASSERT_TRUE(s) << s.toString();
  EXPECT_EQ(get(*e, "x"), "x2");
  EXPECT_EQ(get(*e, "y"), "y1");
  EXPECT_FALSE(get(*e, "z"));

  // A failing update applies nothing, even writes made before the failing one.
  std::vector<std::string_view> keys2 = {"x", "new1", "new2"};
  std::string big(e->options().maxValueBytes + 1, 'b');
  s = e->update(keys2, [&](Txn& t) {
    t.put(0, "changed", kNoExpiry);
    t.put(1, "n1", kNoExpiry);
    t.put(2, big, kNoExpiry);
  }, nullptr);
  EXPECT_EQ(s.code(), Code::kEntityTooLarge);
  EXPECT_EQ(get(*e, "x"), "x2");
  EXPECT_FALSE(get(*e, "new1"));
  EXPECT_FALSE(get(*e, "new2"));
  EXPECT_EQ(e->size(), 2u);
}

TEST(KvEngine, ConcurrentTransfersKeepTheSum) {
  TempDir dir;
  auto e = openOrDie(smallOptions(dir.path()));
  constexpr int kAccounts = 16;
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(set(*e, "acct" + std::to_string(i), "100"));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string a = "acct" + std::to_string((i * 7 + t) % kAccounts);
        std::string b = "acct" + std::to_string((i * 3 + t * 5 + 1) % kAccounts);
        std::string_view keys[2] = {a, b};
        ASSERT_TRUE(e->update(keys, [&](Txn& txn) {
          int x = std::stoi(*txn.value(0));
          int y = std::stoi(*txn.value(1));
          if (a == b) {
            return;
          }
          txn.put(0, std::to_string(x - 1), kNoExpiry);
          txn.put(1, std::to_string(y + 1), kNoExpiry);
        }, nullptr));
      }
    });
  }
  std::thread checker([&] {
    for (int round = 0; round < 200; ++round) {
      std::vector<std::string> names;
      std::vector<std::string_view> keys;
      for (int i = 0; i < kAccounts; ++i) {
        names.push_back("acct" + std::to_string(i));
      }
      for (auto& n : names) {
        keys.push_back(n);
      }
      int sum = 0;
      ASSERT_TRUE(e->update(keys, [&](Txn& txn) {
        for (size_t i = 0; i < txn.size(); ++i) {
          sum += std::stoi(*txn.value(i));
        }
      }, nullptr));
      ASSERT_EQ(sum, 100 * kAccounts);
    }
  });
  for (auto& t : threads) {
    t.join();
  }
  checker.join();
}

TEST(KvEngine, SizeLimits) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.maxKeyBytes = 16;
  o.maxValueBytes = 1000;
  auto e = openOrDie(o);
  EXPECT_EQ(set(*e, std::string(17, 'k'), "v").code(), Code::kInvalidKey);
  EXPECT_TRUE(set(*e, std::string(16, 'k'), "v"));
  EXPECT_EQ(set(*e, "k", std::string(1001, 'v')).code(), Code::kEntityTooLarge);
  EXPECT_TRUE(set(*e, "k", std::string(1000, 'v')));
  EXPECT_EQ(get(*e, "k")->size(), 1000u);
  EXPECT_FALSE(get(*e, std::string(17, 'k')));
  std::vector<std::string_view> many(1025, "k");
  EXPECT_EQ(e->update(many, [](Txn&) {}, nullptr).code(), Code::kInvalidArgument);
}

TEST(KvEngine, IndexQuotaRefusesNewKeysOnly) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.maxIndexBytes = 64 << 10;
  auto e = openOrDie(o);
  int stored = 0;
  Status s;
  for (int i = 0; i < 100000; ++i) {
    s = set(*e, "key" + std::to_string(i), "v");
    if (!s) {
      break;
    }
    ++stored;
  }
  EXPECT_EQ(s.code(), Code::kQuotaExceeded);
  EXPECT_GT(stored, 100);
  EXPECT_LE(e->stats().indexBytes, o.maxIndexBytes + 4096);
  EXPECT_TRUE(set(*e, "key0", "overwrite is fine"));
  EXPECT_EQ(get(*e, "key0"), "overwrite is fine");
  ASSERT_TRUE(del(*e, "key1"));
  EXPECT_TRUE(set(*e, "key1", "room again"));
}

TEST(KvEngine, DataSetLargerThanCacheReadsBackIntact) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.cacheBytes = 1 << 20;
  o.segmentBytes = 4 << 20;
  o.durability = Durability::kNone;
  auto e = openOrDie(o);
  constexpr int kKeys = 640;  // 640 x 32 KiB = 20 MiB
  for (int i = 0; i < kKeys; ++i) {
    std::string k = "big" + std::to_string(i);
    ASSERT_TRUE(set(*e, k, valueFor(k, 1, 32 << 10)));
  }
  Stats st = e->stats();
  EXPECT_LE(st.cacheBytes, o.cacheBytes);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      std::string k = "big" + std::to_string(i);
      auto v = get(*e, k);
      ASSERT_TRUE(v) << k;
      ASSERT_EQ(*v, valueFor(k, 1, 32 << 10)) << k;
    }
  }
  st = e->stats();
  EXPECT_LE(st.cacheBytes, o.cacheBytes);
  EXPECT_GT(st.cacheMisses, static_cast<uint64_t>(kKeys));
  EXPECT_GE(st.diskBytes, 20u << 20);
}

TEST(KvEngine, RandomKeyAndClear) {
  TempDir dir;
  auto e = openOrDie(smallOptions(dir.path()));
  EXPECT_EQ(e->randomKey().error().code(), Code::kNotFound);
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(set(*e, "k" + std::to_string(i), "v"));
  }
  for (int i = 0; i < 2000; ++i) {
    auto k = e->randomKey();
    ASSERT_TRUE(k);
    seen.insert(*k);
  }
  EXPECT_EQ(seen.size(), 20u);
  ASSERT_TRUE(e->clear(nullptr));
  EXPECT_EQ(e->size(), 0u);
  EXPECT_FALSE(get(*e, "k1"));
  EXPECT_EQ(e->randomKey().error().code(), Code::kNotFound);
  ASSERT_TRUE(set(*e, "after", "clear"));
  e.reset();
  e = openOrDie(smallOptions(dir.path()));
  EXPECT_EQ(e->size(), 1u);
  EXPECT_EQ(get(*e, "after"), "clear");
  EXPECT_FALSE(get(*e, "k1"));
}

TEST(KvEngine, ShardCountIsFixedPerDirectory) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  { auto e = openOrDie(o); }
  o.shards = 8;
  EXPECT_EQ(Engine::open(o).error().code(), Code::kInvalidArgument);
  o.shards = 0;  // default: what the directory was created with
  auto e = openOrDie(o);
  EXPECT_EQ(e->options().shards, 4u);
}

}  // namespace
}  // namespace ember::kv

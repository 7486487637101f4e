// Concurrency: threads mixing every operation, checked against a model per thread and again after reopen;
// whenDurable under concurrent sync-mode writers.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "common/time_util.h"
#include "kv/engine.h"
#include "kv/test_util.h"

namespace ember::kv {
namespace {

using namespace ember::kv::testing;

TEST(KvStress, FourThreadsMixedOpsStayConsistent) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 8;
  o.segmentBytes = 128 << 10;  // rolls and compactions happen during the run
  o.cacheBytes = 256 << 10;    // and many reads miss the cache
  o.tailBufferBytes = 16 << 10;
  auto e = openOrDie(o);
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 300;
  std::vector<std::map<std::string, std::string>> model(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      auto& m = model[t];
      auto keyOf = [&](int i) { return "t" + std::to_string(t) + ":" + std::to_string(i); };
      for (int op = 0; op < 20000; ++op) {
        int i = static_cast<int>(rng() % kKeysPerThread);
        std::string k = keyOf(i);
        switch (rng() % 8) {
          case 0:
          case 1: {
            std::string v = valueFor(k, op, rng() % 3000);
            if (!set(*e, k, v)) {
              ++failures;
            }
            m[k] = v;
            break;
          }
          case 2:
            if (!del(*e, k)) {
              ++failures;
            }
            m.erase(k);
            break;
          case 3: {  // multi-key update over this thread's keys plus a shared counter
            std::string k2 = keyOf((i + 1) % kKeysPerThread);
            std::string_view keys[3] = {k, k2, "shared-counter"};
            std::string v = valueFor(k, op, 50);
            Status s = e->update(keys, [&](Txn& txn) {
              const std::string* c = txn.value(2);
              txn.put(2, std::to_string(c ? std::stoll(*c) + 1 : 1), kNoExpiry);
              txn.put(0, v, kNoExpiry);
              txn.erase(1);
            }, nullptr);
            if (!s) {
              ++failures;
            }
            m[k] = v;
            m.erase(k2);
            break;
          }
          case 4: {  // shared keys everyone writes: only checked for well-formedness
            std::string sk = "shared" + std::to_string(i % 10);
            if (!set(*e, sk, std::string(100 + i % 7, 'z'))) {
              ++failures;
            }
            break;
          }
          case 5: {
            std::string name = "shared" + std::to_string(i % 10);
            Status s = e->read(name, [&](std::string_view v, int64_t) {
              if (v.size() < 100 || v.size() > 106) {
                ++failures;
              }
            });
            if (!s && s.code() != Code::kNotFound) {
              ++failures;
            }
            break;
          }
          default: {
            auto v = get(*e, k);
            auto it = m.find(k);
            if ((it == m.end()) != !v.has_value() || (v && *v != it->second)) {
              ++failures;
            }
          }
        }
      }
    });
  }
  std::thread scanner([&] {
    for (int i = 0; i < 20; ++i) {
      uint64_t c = 0;
      do {
        c = e->scan(c, 50, [](std::string_view, uint32_t, int64_t) {});
      } while (c != 0);
      e->stats();
      e->randomKey();
    }
  });
  for (auto& th : threads) {
    th.join();
  }
  scanner.join();
  EXPECT_EQ(failures, 0);
  auto verify = [&](Engine& eng) {
    size_t expected = 1 + 10;  // shared-counter and up to 10 shared keys
    size_t own = 0;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kKeysPerThread; ++i) {
        std::string k = "t" + std::to_string(t) + ":" + std::to_string(i);
        auto v = get(eng, k);
        auto it = model[t].find(k);
        ASSERT_EQ(it != model[t].end(), v.has_value()) << k;
        if (v) {
          ASSERT_EQ(*v, it->second) << k;
          ++own;
        }
      }
    }
    EXPECT_LE(eng.size(), own + expected);
    EXPECT_GE(eng.size(), own + 1);
  };
  verify(*e);
  e.reset();
  e = openOrDie(o);
  verify(*e);
}

TEST(KvStress, WhenDurableUnderConcurrentSyncWriters) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.durability = Durability::kSync;
  o.batchIntervalMs = 1000;
  auto e = openOrDie(o);
  std::atomic<int> acked{0};
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string k = "w" + std::to_string(t) + ":" + std::to_string(i);
        std::string k2 = "x" + std::to_string(i);
        std::string_view keys[2] = {k, k2};
        WriteSet ws;
        ASSERT_TRUE(e->update(keys, [&](Txn& txn) {
          txn.put(0, "v", kNoExpiry);
          txn.put(1, "w", kNoExpiry);
        }, &ws));
        std::atomic<bool> done{false};
        e->whenDurable(ws, [&] {
          ++acked;
          done = true;
        });
        while (!done) {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(acked, 4 * kPerThread);
  Stats st = e->stats();
  EXPECT_GT(st.fsyncs, 0u);
  // Group commit: one fdatasync covers several writers' records.
  EXPECT_LT(st.fsyncs, 2u * 4 * kPerThread * 2);
}

}  // namespace
}  // namespace ember::kv

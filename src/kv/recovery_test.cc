// Restart and crash recovery: clean reopen in every mode, torn and corrupt tails, crash images (a copy of
// the directory taken while the engine runs) in batch and sync mode.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "common/time_util.h"
#include "kv/engine.h"
#include "kv/segment.h"
#include "kv/test_util.h"

namespace ember::kv {
namespace {

namespace fs = std::filesystem;
using namespace ember::kv::testing;

class KvRestart : public ::testing::TestWithParam<Durability> {};

TEST_P(KvRestart, CleanCloseLosesNothing) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.durability = GetParam();
  o.segmentBytes = 256 << 10;  // several segments per shard
  std::map<std::string, std::string> want;
  int64_t far = nowMillis() + 3'600'000;
  {
    auto e = openOrDie(o);
    for (int i = 0; i < 3000; ++i) {
      std::string k = "key:" + std::to_string(i);
      std::string v = valueFor(k, 1, static_cast<size_t>(i % 7 == 0 ? 4000 : i % 300));
      ASSERT_TRUE(set(*e, k, v, i % 5 == 0 ? far : kNoExpiry));
      want[k] = v;
    }
    for (int i = 0; i < 3000; i += 3) {  // overwrite
      std::string k = "key:" + std::to_string(i);
      want[k] = valueFor(k, 2, 100);
      ASSERT_TRUE(set(*e, k, want[k]));
    }
    for (int i = 1; i < 3000; i += 4) {  // delete
      std::string k = "key:" + std::to_string(i);
      want.erase(k);
      ASSERT_TRUE(del(*e, k));
    }
    ASSERT_TRUE(set(*e, "short-lived", "x", nowMillis() + 50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto e = openOrDie(o);
  EXPECT_EQ(e->size(), want.size());
  EXPECT_EQ(e->stats().recoveredKeys, want.size());
  EXPECT_EQ(e->stats().truncatedBytes, 0u);
  for (const auto& [k, v] : want) {
    auto got = get(*e, k);
    ASSERT_TRUE(got) << k;
    ASSERT_EQ(*got, v) << k;
  }
  EXPECT_FALSE(get(*e, "short-lived"));
  EXPECT_EQ(e->expiry("key:10").value(), far);  // not overwritten nor deleted
  // Appending after a reopen continues the same log.
  ASSERT_TRUE(set(*e, "key:1", "back"));
  e.reset();
  e = openOrDie(o);
  EXPECT_EQ(get(*e, "key:1"), "back");
  EXPECT_EQ(e->size(), want.size() + 1);
}

INSTANTIATE_TEST_SUITE_P(Modes, KvRestart,
                         ::testing::Values(Durability::kNone, Durability::kBatch, Durability::kSync));

// The newest segment file of a one-shard store, with the keys of its records in order.
std::string lastSegment(const std::string& dir) {
  std::string best;
  for (const auto& de : fs::directory_iterator(dir + "/shard-000")) {
    if (de.path().extension() == ".seg" && de.path().string() > best) {
      best = de.path().string();
    }
  }
  return best;
}

std::vector<std::pair<std::string, uint64_t>> recordsOf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st {};
  ::fstat(fd, &st);
  SegmentScanner sc(fd, static_cast<uint64_t>(st.st_size), path);
  std::vector<std::pair<std::string, uint64_t>> out;
  RecordView r;
  uint64_t off = 0;
  Status err;
  while (sc.next(&r, &off, &err) == DecodeResult::kOk) {
    out.emplace_back(std::string(r.key), off);
  }
  ::close(fd);
  return out;
}

// A closed one-shard store: its options, its newest segment, and that segment's records.
struct HundredKeyLog {
  Options options;
  std::string segment;
  std::vector<std::pair<std::string, uint64_t>> records;
};

// Writes k0..k99 (the value of ki: valueFor("k", i, valueLen)) into a fresh one-shard store in dir with the
// given durability and closes it. Fails the test fatally unless every write succeeds and the newest segment
// holds all 100 records; call it under ASSERT_NO_FATAL_FAILURE.
void writeHundredKeys(const std::string& dir, Durability durability, size_t valueLen, HundredKeyLog* out) {
  out->options = smallOptions(dir);
  out->options.shards = 1;
  out->options.durability = durability;
  {
    auto e = openOrDie(out->options);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(set(*e, "k" + std::to_string(i), valueFor("k", i, valueLen)));
    }
  }
  out->segment = lastSegment(dir);
  out->records = recordsOf(out->segment);
  ASSERT_EQ(out->records.size(), 100u);
}

TEST(KvRecovery, TornTailIsTruncated) {
  TempDir dir;
  HundredKeyLog log;
  ASSERT_NO_FATAL_FAILURE(writeHundredKeys(dir.path(), Durability::kSync, 500, &log));
  auto& [o, seg, recs] = log;
  uint64_t size = fs::file_size(seg);
  fs::resize_file(seg, size - 7);  // the last record loses its tail
  {
    auto e = openOrDie(o);
    EXPECT_EQ(e->size(), 99u);
    EXPECT_FALSE(get(*e, "k99"));
    for (int i = 0; i < 99; ++i) {
      ASSERT_EQ(get(*e, "k" + std::to_string(i)), valueFor("k", i, 500)) << i;
    }
    Stats st = e->stats();
    EXPECT_EQ(st.truncatedBytes, 500 + kRecordHeaderBytes + 3 - 7);
    ASSERT_TRUE(set(*e, "k99", "rewritten"));
  }
  auto e = openOrDie(o);
  EXPECT_EQ(get(*e, "k99"), "rewritten");
  EXPECT_EQ(e->size(), 100u);
  EXPECT_EQ(e->stats().truncatedBytes, 0u);
}

TEST(KvRecovery, CorruptRecordDropsTheRestOfItsSegment) {
  TempDir dir;
  HundredKeyLog log;
  ASSERT_NO_FATAL_FAILURE(writeHundredKeys(dir.path(), Durability::kBatch, 300, &log));
  auto& [o, seg, recs] = log;
  {  // flip one byte inside record 60's value
    int fd = ::open(seg.c_str(), O_RDWR);
    char c = 0;
    uint64_t at = recs[60].second + kRecordHeaderBytes + 10;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(at)), 1);
    c = static_cast<char>(c ^ 1);
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
  }
  auto e = openOrDie(o);
  EXPECT_EQ(e->size(), 60u);
  for (int i = 0; i < 100; ++i) {
    auto v = get(*e, "k" + std::to_string(i));
    if (i < 60) {
      ASSERT_EQ(v, valueFor("k", i, 300)) << i;
    } else {
      ASSERT_FALSE(v) << i;
    }
  }
  EXPECT_EQ(fs::file_size(seg), recs[60].second);
  EXPECT_GT(e->stats().truncatedBytes, 0u);
}

// Copies the store's files while the engine keeps running: what a kill -9 at that instant leaves.
void crashImage(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

TEST(KvRecovery, SyncModeAcknowledgesOnlyDurableWrites) {
  TempDir dir;
  TempDir image;
  auto o = smallOptions(dir.path());
  o.durability = Durability::kSync;
  o.batchIntervalMs = 1000;  // the tick must not be what makes writes durable here
  auto e = openOrDie(o);
  uint64_t fsyncsBefore = e->stats().fsyncs;
  std::atomic<int> acked{0};
  for (int i = 0; i < 50; ++i) {
    WriteSet ws;
    std::string k = "s" + std::to_string(i);
    ASSERT_TRUE(set(*e, k, valueFor(k, 0, 200), kNoExpiry, &ws));
    ASSERT_FALSE(ws.empty());
    std::atomic<bool> done{false};
    e->whenDurable(ws, [&] {
      done = true;
      ++acked;
    });
    for (int spin = 0; spin < 5000 && !done; ++spin) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_TRUE(done) << "whenDurable never fired for " << k;
  }
  EXPECT_EQ(acked, 50);
  EXPECT_GT(e->stats().fsyncs, fsyncsBefore);
  EXPECT_GT(e->stats().lastFsyncUnixMs, 0u);
  crashImage(dir.path(), image.path() + "/copy");
  auto o2 = o;
  o2.dir = image.path() + "/copy";
  auto r = openOrDie(o2);
  for (int i = 0; i < 50; ++i) {
    std::string k = "s" + std::to_string(i);
    ASSERT_EQ(get(*r, k), valueFor(k, 0, 200)) << k;
  }
}

TEST(KvRecovery, BatchModeWritesOutWithinTheInterval) {
  TempDir dir;
  TempDir image;
  auto o = smallOptions(dir.path());
  o.durability = Durability::kBatch;
  o.batchIntervalMs = 5;
  auto e = openOrDie(o);
  for (int i = 0; i < 200; ++i) {
    std::string k = "b" + std::to_string(i);
    ASSERT_TRUE(set(*e, k, valueFor(k, 0, 100)));
  }
  uint64_t fsyncs = e->stats().fsyncs;
  for (int i = 0; i < 500 && e->stats().fsyncs == fsyncs; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a few more ticks
  crashImage(dir.path(), image.path() + "/copy");
  auto o2 = o;
  o2.dir = image.path() + "/copy";
  auto r = openOrDie(o2);
  EXPECT_EQ(r->size(), 200u);
  for (int i = 0; i < 200; ++i) {
    std::string k = "b" + std::to_string(i);
    ASSERT_EQ(get(*r, k), valueFor(k, 0, 100)) << k;
  }
}

}  // namespace
}  // namespace ember::kv

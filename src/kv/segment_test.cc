#include "kv/segment.h"

#include <gtest/gtest.h>

#include <set>

#include <xxhash.h>

#include "kv/index.h"

namespace ember::kv {
namespace {

TEST(Segment, RecordRoundTrip) {
  std::string buf;
  appendRecord(buf, RecordType::kPut, "key", "value", 1234);
  appendRecord(buf, RecordType::kTombstone, "gone", {}, 0);
  ASSERT_EQ(buf.size(), recordSize(3, 5) + recordSize(4, 0));
  RecordView r;
  ASSERT_EQ(decodeRecord(buf.data(), buf.size(), &r), DecodeResult::kOk);
  EXPECT_EQ(r.type, RecordType::kPut);
  EXPECT_EQ(r.key, "key");
  EXPECT_EQ(r.value, "value");
  EXPECT_EQ(r.expireAt, 1234);
  ASSERT_EQ(decodeRecord(buf.data() + r.size, buf.size() - r.size, &r), DecodeResult::kOk);
  EXPECT_EQ(r.type, RecordType::kTombstone);
  EXPECT_EQ(r.key, "gone");
}

TEST(Segment, DetectsTornAndCorruptRecords) {
  std::string buf;
  appendRecord(buf, RecordType::kPut, "key", std::string(100, 'x'), 0);
  RecordView r;
  for (size_t cut = 0; cut < buf.size(); ++cut) {
    EXPECT_EQ(decodeRecord(buf.data(), cut, &r), DecodeResult::kIncomplete) << cut;
  }
  for (size_t i = 0; i < buf.size(); ++i) {
    std::string bad = buf;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_NE(decodeRecord(bad.data(), bad.size(), &r), DecodeResult::kOk) << i;
  }
  std::string zeros(64, '\0');
  EXPECT_EQ(decodeRecord(zeros.data(), zeros.size(), &r), DecodeResult::kCorrupt);
}

TEST(Segment, Header) {
  char h[kSegmentHeaderBytes];
  encodeSegmentHeader(h, 42);
  uint32_t id = 0;
  ASSERT_TRUE(decodeSegmentHeader(h, &id));
  EXPECT_EQ(id, 42u);
  h[0] = 'X';
  EXPECT_FALSE(decodeSegmentHeader(h, &id));
}

TEST(Index, InsertFindRemoveAcrossGrowth) {
  Index idx(2);
  std::vector<Entry*> entries;
  for (int i = 0; i < 5000; ++i) {
    std::string k = "key" + std::to_string(i);
    // Keys of one shard share the top two bits; keep them as a shard would see them.
    uint64_t h = (XXH3_64bits(k.data(), k.size()) >> 2) | (uint64_t{1} << 62);
    ASSERT_EQ(idx.find(h, k), nullptr);
    entries.push_back(idx.insert(h, k));
  }
  EXPECT_EQ(idx.size(), 5000u);
  EXPECT_GE(idx.bucketCount(), 4096u);
  for (int i = 0; i < 5000; ++i) {
    std::string k = "key" + std::to_string(i);
    uint64_t h = (XXH3_64bits(k.data(), k.size()) >> 2) | (uint64_t{1} << 62);
    ASSERT_EQ(idx.find(h, k), entries[i]);
  }
  // Buckets cover increasing hash ranges.
  uint64_t last = 0;
  for (size_t b = 0; b < idx.bucketCount(); ++b) {
    uint64_t hi = 0;
    for (Entry* e = idx.bucketHead(b); e != nullptr; e = e->next) {
      EXPECT_EQ(idx.bucketOf(e->hash), b);
      EXPECT_GE(e->hash, last);
      hi = std::max(hi, e->hash);
    }
    last = std::max(last, hi);
  }
  for (int i = 0; i < 5000; i += 2) {
    idx.remove(entries[i]);
  }
  EXPECT_EQ(idx.size(), 2500u);
  EXPECT_EQ(idx.find(entries[1]->hash, entries[1]->key()), entries[1]);
}

}  // namespace
}  // namespace ember::kv

#pragma once
// The ObjectStore conformance suite: one set of GoogleTest cases that every implementation must
// pass, so that store/mem stays a faithful twin of store/local. An implementation's test file
// provides a Traits type and instantiates the suite:
//
//   struct MyTraits {
//     // A fresh, empty store. `full`: a store whose volume has no room for new data.
//     static std::unique_ptr<ember::store::testing::ConformanceEnv> make(bool full);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreConformanceTest, MyTraits);
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreMultipartConformanceTest, MyTraits);
//
// Buckets, objects, listings and readers are here; multipart uploads are in
// store/store_conformance_multipart.h. Include each in exactly one .cc per test binary.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/object_store.h"
#include "store/store_test_util.h"

namespace ember::store::testing {

// --- the suite ---

template <typename Traits>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override { env_ = Traits::make(false); }
  ObjectStore& store() { return env_->store(); }
  size_t files() { return env_->fileExtentCount(); }
  uint64_t threshold() const { return env_->inlineThreshold(); }
  void createBucket(const std::string& name) {
    STORE_ASSERT_OK(store().createBucket(makeBucket(name)));
  }

  std::unique_ptr<ConformanceEnv> env_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

TYPED_TEST_P(StoreConformanceTest, BucketLifecycle) {
  ObjectStore& s = this->store();
  BucketRecord b = makeBucket("photos");
  b.region = "phx-1";
  STORE_ASSERT_OK(s.createBucket(b));
  STORE_EXPECT_CODE(s.createBucket(makeBucket("photos")), Code::kAlreadyExists);
  auto got = s.getBucket("photos");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(got->name, "photos");
  EXPECT_EQ(got->createdMs, b.createdMs);
  EXPECT_EQ(got->owner, "alice");
  EXPECT_EQ(got->region, "phx-1");
  for (const char* name : {"b", "a", "ab", "a-b", "photos2"}) {
    this->createBucket(name);
  }
  auto list = s.listBuckets();
  STORE_ASSERT_OK(list);
  std::vector<std::string> names;
  for (const BucketRecord& r : *list) {
    names.push_back(r.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "a-b", "ab", "b", "photos", "photos2"}));
  STORE_EXPECT_CODE(s.getBucket("nope"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.deleteBucket("nope"), Code::kNoSuchBucket);
  STORE_EXPECT_OK(s.deleteBucket("photos"));
  STORE_EXPECT_CODE(s.getBucket("photos"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.deleteBucket("photos"), Code::kNoSuchBucket);
  STORE_EXPECT_OK(s.getBucket("photos2"));
  STORE_EXPECT_CODE(s.createBucket(makeBucket("")), Code::kInvalidBucketName);
  STORE_EXPECT_CODE(s.createBucket(makeBucket(std::string("x\0y", 3))), Code::kInvalidBucketName);
}

TYPED_TEST_P(StoreConformanceTest, DeleteBucketRefusesWhileNotEmpty) {
  ObjectStore& s = this->store();
  this->createBucket("a");
  this->createBucket("ab");
  STORE_ASSERT_OK(putBytes(s, "ab", "k", "v"));
  // "ab"'s object does not make "a" non-empty.
  STORE_EXPECT_OK(s.deleteBucket("a"));
  this->createBucket("a");
  STORE_ASSERT_OK(putBytes(s, "a", "k", "v"));
  STORE_EXPECT_CODE(s.deleteBucket("a"), Code::kBucketNotEmpty);
  STORE_ASSERT_OK(s.deleteObject("a", "k", nullptr));
  STORE_ASSERT_OK(s.createUpload(makeUpload("a", "k", "upload-a-0000000000000000000000000001")));
  STORE_EXPECT_CODE(s.deleteBucket("a"), Code::kBucketNotEmpty);
  STORE_ASSERT_OK(s.abortUpload("upload-a-0000000000000000000000000001"));
  STORE_EXPECT_OK(s.deleteBucket("a"));
  STORE_EXPECT_CODE(s.deleteBucket("ab"), Code::kBucketNotEmpty);
}

TYPED_TEST_P(StoreConformanceTest, MissingBucket) {
  ObjectStore& s = this->store();
  STORE_EXPECT_CODE(putBytes(s, "nope", "k", "small"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(putBytes(s, "nope", "k", patternBytes(this->threshold() + 10, 1)),
                    Code::kNoSuchBucket);
  EXPECT_EQ(this->files(), 0u) << "a failed put must reclaim its writer's file";
  STORE_EXPECT_CODE(s.getObject("nope", "k"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.openObject("nope", "k"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.deleteObject("nope", "k", nullptr), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.listObjects("nope"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.listUploads("nope"), Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.createUpload(makeUpload("nope", "k", "upload-nope-00000000000000000000000")),
                    Code::kNoSuchBucket);
  this->createBucket("b");
  STORE_EXPECT_CODE(s.getObject("b", "k"), Code::kNoSuchKey);
  STORE_EXPECT_CODE(s.openObject("b", "k"), Code::kNoSuchKey);
}

TYPED_TEST_P(StoreConformanceTest, InlineObjectRoundTrip) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  std::string data = patternBytes(4096, 7);
  auto x = writeBytes(s, data, 1000);
  STORE_ASSERT_OK(x);
  EXPECT_EQ(x->kind, Extent::Kind::kInline);
  EXPECT_EQ(x->size, data.size());
  ObjectRecord r = makeRecord("b", "dir/obj.bin", {*x}, "9e107d9d372bb6826bd81d3542a419d6");
  r.content.contentType = "application/octet-stream";
  r.content.contentEncoding = "gzip";
  r.content.contentDisposition = "attachment";
  r.content.contentLanguage = "en";
  r.content.cacheControl = "no-cache";
  r.content.expires = "Wed, 21 Oct 2015 07:28:00 GMT";
  r.userMeta = {{"color", "blue"}, {"empty", ""}};
  r.checksums = {{"CRC32C", "yZRlqg=="},
                 {"SHA256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}};
  r.checksumType = "FULL_OBJECT";
  STORE_ASSERT_OK(s.putObject(r, nullptr));

  auto got = s.getObject("b", "dir/obj.bin");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(got->bucket, "b");
  EXPECT_EQ(got->key, "dir/obj.bin");
  EXPECT_EQ(got->size, data.size());
  EXPECT_EQ(got->etag, r.etag);
  EXPECT_EQ(got->mtimeMs, r.mtimeMs);
  EXPECT_EQ(got->owner, "alice");
  EXPECT_EQ(got->content.contentType, r.content.contentType);
  EXPECT_EQ(got->content.contentEncoding, r.content.contentEncoding);
  EXPECT_EQ(got->content.contentDisposition, r.content.contentDisposition);
  EXPECT_EQ(got->content.contentLanguage, r.content.contentLanguage);
  EXPECT_EQ(got->content.cacheControl, r.content.cacheControl);
  EXPECT_EQ(got->content.expires, r.content.expires);
  EXPECT_EQ(got->userMeta, r.userMeta);
  EXPECT_EQ(got->checksums, r.checksums);
  EXPECT_EQ(got->checksumType, "FULL_OBJECT");
  EXPECT_TRUE(got->partSizes.empty());
  EXPECT_EQ(got->versionId.size(), 32u);
  ASSERT_EQ(got->extents.size(), 1u);
  EXPECT_EQ(got->extents[0].kind, Extent::Kind::kInline);
  EXPECT_EQ(got->extents[0].size, data.size());
  EXPECT_TRUE(got->extents[0].data.empty()) << "metadata calls return inline extents without bytes";

  auto reader = s.openObject("b", "dir/obj.bin");
  STORE_ASSERT_OK(reader);
  EXPECT_EQ((*reader)->record().etag, r.etag);
  EXPECT_EQ((*reader)->record().versionId, got->versionId);
  auto all = readAllBytes(**reader, 1000);
  STORE_ASSERT_OK(all);
  EXPECT_EQ(*all, data);
  std::vector<char> buf(100);
  auto n = (*reader)->readAt(4000, buf);
  STORE_ASSERT_OK(n);
  ASSERT_EQ(*n, 96u);
  EXPECT_EQ(std::string(buf.data(), 96), data.substr(4000));
  n = (*reader)->readAt(data.size(), buf);
  STORE_ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
  n = (*reader)->readAt(data.size() + 100, buf);
  STORE_ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(this->files(), 0u);
}

TYPED_TEST_P(StoreConformanceTest, EmptyObject) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  auto w = s.newWriter();
  STORE_ASSERT_OK(w);
  EXPECT_EQ((*w)->size(), 0u);
  auto x = (*w)->finish();
  STORE_ASSERT_OK(x);
  EXPECT_EQ(x->size, 0u);
  STORE_ASSERT_OK(s.putObject(makeRecord("b", "empty", {*x}), nullptr));
  auto got = s.getObject("b", "empty");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(got->size, 0u);
  auto data = readObject(s, "b", "empty");
  STORE_ASSERT_OK(data);
  EXPECT_EQ(*data, "");
  // A record without extents is an empty object too.
  STORE_ASSERT_OK(s.putObject(makeRecord("b", "none", {}), nullptr));
  data = readObject(s, "b", "none");
  STORE_ASSERT_OK(data);
  EXPECT_EQ(*data, "");
}

TYPED_TEST_P(StoreConformanceTest, InlineThresholdBoundary) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  std::string at = patternBytes(this->threshold(), 1);
  std::string over = patternBytes(this->threshold() + 1, 2);
  auto a = writeBytes(s, at, 10000);
  STORE_ASSERT_OK(a);
  EXPECT_EQ(a->kind, Extent::Kind::kInline);
  auto b = writeBytes(s, over, 10000);
  STORE_ASSERT_OK(b);
  EXPECT_EQ(b->kind, Extent::Kind::kFile);
  EXPECT_EQ(b->id.size(), 32u);
  EXPECT_EQ(b->size, over.size());
  EXPECT_EQ(this->files(), 1u);
  STORE_ASSERT_OK(s.putObject(makeRecord("b", "at", {*a}), nullptr));
  STORE_ASSERT_OK(s.putObject(makeRecord("b", "over", {*b}), nullptr));
  EXPECT_EQ(*readObject(s, "b", "at"), at);
  EXPECT_EQ(*readObject(s, "b", "over"), over);
  EXPECT_EQ(this->files(), 1u);
}

TYPED_TEST_P(StoreConformanceTest, LargeObjectStreamed) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  const size_t size = 20u << 20;
  std::string data = patternBytes(size, 42);
  auto w = s.newWriter();
  STORE_ASSERT_OK(w);
  for (size_t off = 0; off < size; off += 1u << 20) {
    STORE_ASSERT_OK((*w)->append({data.data() + off, 1u << 20}));
  }
  EXPECT_EQ((*w)->size(), size);
  auto x = (*w)->finish();
  STORE_ASSERT_OK(x);
  EXPECT_EQ(x->kind, Extent::Kind::kFile);
  EXPECT_EQ(x->size, size);
  STORE_ASSERT_OK(s.putObject(makeRecord("b", "big", {*x}), nullptr));
  auto reader = s.openObject("b", "big");
  STORE_ASSERT_OK(reader);
  // Odd-sized reads cross the write chunk boundaries.
  auto all = readAllBytes(**reader, 777 * 1024 + 13);
  STORE_ASSERT_OK(all);
  ASSERT_EQ(all->size(), size);
  EXPECT_TRUE(*all == data);
  std::vector<char> buf(10);
  auto n = (*reader)->readAt(size - 5, buf);
  STORE_ASSERT_OK(n);
  ASSERT_EQ(*n, 5u);
  EXPECT_EQ(std::string(buf.data(), 5), data.substr(size - 5));
  EXPECT_EQ(this->files(), 1u);
}

TYPED_TEST_P(StoreConformanceTest, WriterDiscardedWithoutFinish) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  {
    auto w = s.newWriter();
    STORE_ASSERT_OK(w);
    std::string data = patternBytes(3 * this->threshold(), 5);
    STORE_ASSERT_OK((*w)->append(data));
  }
  EXPECT_EQ(this->files(), 0u);
  auto w = s.newWriter();
  STORE_ASSERT_OK(w);
  STORE_ASSERT_OK((*w)->append(patternBytes(10, 1)));
  STORE_ASSERT_OK((*w)->finish());
  STORE_EXPECT_CODE((*w)->finish(), Code::kInternal);
  STORE_EXPECT_CODE((*w)->append(patternBytes(10, 1)), Code::kInternal);
}

TYPED_TEST_P(StoreConformanceTest, OverwriteReplacesAndReclaims) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  std::string v1 = patternBytes(this->threshold() * 3, 1);
  std::string v2 = patternBytes(100, 2);
  std::string v3 = patternBytes(this->threshold() * 2, 3);
  STORE_ASSERT_OK(putBytes(s, "b", "k", v1, "e1"));
  auto r1 = s.getObject("b", "k");
  STORE_ASSERT_OK(r1);
  EXPECT_EQ(this->files(), 1u);
  STORE_ASSERT_OK(putBytes(s, "b", "k", v2, "e2"));
  auto r2 = s.getObject("b", "k");
  STORE_ASSERT_OK(r2);
  EXPECT_EQ(r2->etag, "e2");
  EXPECT_NE(r2->versionId, r1->versionId);
  EXPECT_EQ(*readObject(s, "b", "k"), v2);
  EXPECT_EQ(this->files(), 0u) << "the replaced version's file is reclaimed";
  STORE_ASSERT_OK(putBytes(s, "b", "k", v3, "e3"));
  STORE_ASSERT_OK(putBytes(s, "b", "k", v3, "e4"));
  EXPECT_EQ(*readObject(s, "b", "k"), v3);
  EXPECT_EQ(this->files(), 1u);
  EXPECT_EQ(listKeys(s, "b"), std::vector<std::string>{"k"});
}

TYPED_TEST_P(StoreConformanceTest, DeleteObject) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  STORE_ASSERT_OK(putBytes(s, "b", "big", patternBytes(this->threshold() + 1, 1), "eb"));
  STORE_ASSERT_OK(putBytes(s, "b", "small", "tiny", "es"));
  auto gone = s.deleteObject("b", "big", nullptr);
  STORE_ASSERT_OK(gone);
  ASSERT_TRUE(gone->has_value());
  EXPECT_EQ((*gone)->etag, "eb");
  EXPECT_EQ((*gone)->key, "big");
  EXPECT_EQ(this->files(), 0u);
  STORE_EXPECT_CODE(s.getObject("b", "big"), Code::kNoSuchKey);
  auto again = s.deleteObject("b", "big", nullptr);
  STORE_ASSERT_OK(again);
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(listKeys(s, "b"), std::vector<std::string>{"small"});
  STORE_ASSERT_OK(s.deleteObject("b", "small", nullptr));
  EXPECT_TRUE(listKeys(s, "b").empty());
  STORE_EXPECT_OK(s.deleteBucket("b"));
}

TYPED_TEST_P(StoreConformanceTest, CommitCheckSemantics) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  bool sawNull = false;
  STORE_ASSERT_OK(putBytes(s, "b", "k", "one", "e1", [&](const ObjectRecord* cur) {
    sawNull = cur == nullptr;
    return Status::ok();
  }));
  EXPECT_TRUE(sawNull);
  // The check sees the committed record; its error comes back unchanged and nothing changes.
  std::string seenEtag;
  Status refused = putBytes(s, "b", "k", patternBytes(this->threshold() + 5, 9), "e2",
                            [&](const ObjectRecord* cur) {
                              seenEtag = cur != nullptr ? cur->etag : "";
                              return makeError(Code::kPreconditionFailed, "if-match failed");
                            });
  EXPECT_EQ(refused.code(), Code::kPreconditionFailed);
  EXPECT_EQ(refused.message(), "if-match failed");
  EXPECT_EQ(seenEtag, "e1");
  EXPECT_EQ(s.getObject("b", "k")->etag, "e1");
  EXPECT_EQ(*readObject(s, "b", "k"), "one");
  EXPECT_EQ(this->files(), 0u) << "a refused commit reclaims its writer's file";
  // If-None-Match: * on a new key succeeds, on an existing one fails.
  auto ifNoneMatch = [](const ObjectRecord* cur) {
    return cur == nullptr ? Status::ok() : makeError(Code::kPreconditionFailed, "exists");
  };
  STORE_EXPECT_CODE(putBytes(s, "b", "k", "two", "e3", ifNoneMatch), Code::kPreconditionFailed);
  STORE_EXPECT_OK(putBytes(s, "b", "k2", "two", "e3", ifNoneMatch));
  // Deletes run the check too, also when the key is absent.
  auto del = s.deleteObject("b", "k", [](const ObjectRecord* cur) {
    return cur != nullptr && cur->etag == "nope" ? Status::ok()
                                                 : makeError(Code::kPreconditionFailed, "etag");
  });
  STORE_EXPECT_CODE(del, Code::kPreconditionFailed);
  STORE_EXPECT_OK(s.getObject("b", "k"));
  bool deleteSawNull = false;
  auto none = s.deleteObject("b", "missing", [&](const ObjectRecord* cur) {
    deleteSawNull = cur == nullptr;
    return Status::ok();
  });
  STORE_ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(deleteSawNull);
  STORE_EXPECT_CODE(s.deleteObject("b", "missing", [](const ObjectRecord*) {
    return makeError(Code::kPreconditionFailed, "must exist");
  }),
                    Code::kPreconditionFailed);
}

TYPED_TEST_P(StoreConformanceTest, CommitCheckIsAtomicWithTheWrite) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  STORE_ASSERT_OK(putBytes(s, "b", "counter", "0", "0"));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int done = 0;
      while (done < kIncrements) {
        auto cur = s.getObject("b", "counter");
        if (!cur) {
          ++failures;
          return;
        }
        std::string expected = cur->etag;
        std::string next = std::to_string(std::stoi(expected) + 1);
        Status st = putBytes(s, "b", "counter", next, next, [&](const ObjectRecord* c) {
          return c != nullptr && c->etag == expected
                     ? Status::ok()
                     : makeError(Code::kPreconditionFailed, "raced");
        });
        if (st) {
          ++done;
        } else if (st.code() != Code::kPreconditionFailed) {
          ++failures;
          return;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  auto final = s.getObject("b", "counter");
  STORE_ASSERT_OK(final);
  EXPECT_EQ(final->etag, std::to_string(kThreads * kIncrements));
  EXPECT_EQ(*readObject(s, "b", "counter"), final->etag);
}

TYPED_TEST_P(StoreConformanceTest, ListingOrderWithTrickyKeys) {
  ObjectStore& s = this->store();
  for (const char* b : {"a", "ab", "a-", "b"}) {
    this->createBucket(b);
  }
  std::vector<std::string> keys = {
      "a",          "a/",          "a/b",         "a/b/c",       std::string("a\x01", 2),
      "a\x01" "b",  "a\x7f",       "ab",          "abc",         "b",
      "\x01",       " space",      "~tilde",      "\xc3\xa9t\xc3\xa9",  // été
      "\xe6\x97\xa5\xe6\x9c\xac",                                    // 日本
      "\xf0\x9f\x98\x80",                                            // emoji
      "z/deep/er/key.txt",
  };
  for (const std::string& k : keys) {
    STORE_ASSERT_OK(putBytes(s, "a", k, k, "e"));
  }
  STORE_ASSERT_OK(putBytes(s, "ab", "a", "x", "e"));
  STORE_ASSERT_OK(putBytes(s, "ab", "zz", "x", "e"));
  STORE_ASSERT_OK(putBytes(s, "a-", "m", "x", "e"));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());  // std::string compares bytes as unsigned
  EXPECT_EQ(listKeys(s, "a"), sorted);
  EXPECT_EQ(listKeys(s, "ab"), (std::vector<std::string>{"a", "zz"}));
  EXPECT_EQ(listKeys(s, "a-"), std::vector<std::string>{"m"});
  EXPECT_TRUE(listKeys(s, "b").empty());

  // seek() positions at the first key >= its argument.
  auto it = s.listObjects("a");
  STORE_ASSERT_OK(it);
  (*it)->seek("a/");
  ASSERT_TRUE((*it)->valid());
  EXPECT_EQ((*it)->key(), "a/");
  (*it)->seek("a/a");
  ASSERT_TRUE((*it)->valid());
  EXPECT_EQ((*it)->key(), "a/b");
  (*it)->seek("a/c");
  ASSERT_TRUE((*it)->valid());
  EXPECT_EQ(std::string((*it)->key()), "ab");  // 'b' (0x62) sorts before 0x7f
  (*it)->seek("\xff");
  EXPECT_FALSE((*it)->valid());
  (*it)->seek("");
  ASSERT_TRUE((*it)->valid());
  EXPECT_EQ((*it)->key(), sorted.front());
  // Each entry's record matches its key.
  for ((*it)->seek(""); (*it)->valid(); (*it)->next()) {
    const ObjectRecord& r = (*it)->record();
    EXPECT_EQ(r.key, (*it)->key());
    EXPECT_EQ(r.size, r.key.size());
  }
  STORE_EXPECT_OK((*it)->status());
}

TYPED_TEST_P(StoreConformanceTest, ListingRecordFields) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  auto x = writeBytes(s, patternBytes(1234, 3));
  STORE_ASSERT_OK(x);
  ObjectRecord r = makeRecord("b", "k", {*x}, "abcdef");
  r.checksums = {{"CRC64NVME", "AAAAAAAAAAA="}};
  r.checksumType = "FULL_OBJECT";
  r.userMeta = {{"m", "v"}};
  STORE_ASSERT_OK(s.putObject(r, nullptr));
  auto it = s.listObjects("b");
  STORE_ASSERT_OK(it);
  ASSERT_TRUE((*it)->valid());
  const ObjectRecord& got = (*it)->record();
  EXPECT_EQ(got.bucket, "b");
  EXPECT_EQ(got.key, "k");
  EXPECT_EQ(got.size, 1234u);
  EXPECT_EQ(got.etag, "abcdef");
  EXPECT_EQ(got.mtimeMs, r.mtimeMs);
  EXPECT_EQ(got.owner, "alice");
  EXPECT_EQ(got.checksums, r.checksums);
  EXPECT_EQ(got.checksumType, "FULL_OBJECT");
  (*it)->next();
  EXPECT_FALSE((*it)->valid());
  STORE_EXPECT_OK((*it)->status());
}

TYPED_TEST_P(StoreConformanceTest, ListingManyKeysAndSnapshot) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) {
    char k[32];
    std::snprintf(k, sizeof(k), "p%02d/obj-%05d", i % 7, i);
    keys.emplace_back(k);
    STORE_ASSERT_OK(putBytes(s, "b", k, "x", "e"));
  }
  std::sort(keys.begin(), keys.end());
  auto it = s.listObjects("b");
  STORE_ASSERT_OK(it);
  // Changes after the iterator was created are not required to show; the iterator must stay
  // consistent and ordered either way.
  STORE_ASSERT_OK(s.deleteObject("b", keys[10], nullptr));
  std::vector<std::string> seen;
  for (; (*it)->valid(); (*it)->next()) {
    seen.emplace_back((*it)->key());
  }
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_GE(seen.size(), keys.size() - 1);
  keys.erase(keys.begin() + 10);
  EXPECT_EQ(listKeys(s, "b"), keys);
  std::vector<std::string> tail = listKeys(s, "b", "p03/");
  EXPECT_EQ(tail.front().substr(0, 4), "p03/");
}

TYPED_TEST_P(StoreConformanceTest, ReaderSurvivesOverwriteAndDelete) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  std::string v1 = patternBytes(this->threshold() * 4, 1);
  std::string small1 = patternBytes(300, 11);
  STORE_ASSERT_OK(putBytes(s, "b", "k", v1, "e1"));
  STORE_ASSERT_OK(putBytes(s, "b", "s", small1, "s1"));
  auto r1 = s.openObject("b", "k");
  auto rs = s.openObject("b", "s");
  STORE_ASSERT_OK(r1);
  STORE_ASSERT_OK(rs);
  auto r1b = s.openObject("b", "k");  // two readers of the same version
  STORE_ASSERT_OK(r1b);
  std::vector<char> head(10);
  STORE_ASSERT_OK((*r1)->readAt(0, head));  // opens the data file
  STORE_ASSERT_OK(putBytes(s, "b", "k", patternBytes(this->threshold() * 2, 2), "e2"));
  STORE_ASSERT_OK(putBytes(s, "b", "s", "new small", "s2"));
  EXPECT_EQ(this->files(), 2u) << "v1's file is pinned by its readers";
  EXPECT_EQ((*r1)->record().etag, "e1");
  EXPECT_EQ(*readAllBytes(**r1), v1);
  EXPECT_EQ(*readAllBytes(**rs), small1);
  r1->reset();
  EXPECT_EQ(this->files(), 2u) << "still pinned by the second reader";
  EXPECT_EQ(*readAllBytes(**r1b), v1);
  r1b->reset();
  rs->reset();
  EXPECT_EQ(this->files(), 1u);

  auto r2 = s.openObject("b", "k");
  STORE_ASSERT_OK(r2);
  STORE_ASSERT_OK(s.deleteObject("b", "k", nullptr));
  STORE_EXPECT_CODE(s.openObject("b", "k"), Code::kNoSuchKey);
  EXPECT_EQ(this->files(), 1u);
  EXPECT_EQ(readAllBytes(**r2)->size(), this->threshold() * 2);
  r2->reset();
  EXPECT_EQ(this->files(), 0u);
}

TYPED_TEST_P(StoreConformanceTest, MetadataRewriteReusesExtents) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  std::string data = patternBytes(this->threshold() * 2, 8);
  STORE_ASSERT_OK(putBytes(s, "b", "k", data, "e1"));
  auto cur = s.getObject("b", "k");
  STORE_ASSERT_OK(cur);
  auto reader = s.openObject("b", "k");
  STORE_ASSERT_OK(reader);
  ObjectRecord next = *cur;
  next.versionId.clear();  // a new version needs a new id
  next.userMeta = {{"rewritten", "yes"}};
  next.mtimeMs += 1000;
  STORE_ASSERT_OK(s.putObject(next, nullptr));
  reader->reset();
  EXPECT_EQ(this->files(), 1u) << "the shared file survives the old version's reclaim";
  auto got = s.getObject("b", "k");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(got->userMeta, next.userMeta);
  EXPECT_NE(got->versionId, cur->versionId);
  EXPECT_EQ(*readObject(s, "b", "k"), data);
}

TYPED_TEST_P(StoreConformanceTest, VersionIds) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  STORE_ASSERT_OK(putBytes(s, "b", "k", "v1"));
  auto v1 = s.getObject("b", "k");
  STORE_ASSERT_OK(v1);
  EXPECT_EQ(v1->versionId.size(), 32u) << "assigned by the store when empty";
  // A committer's own id is kept (the core returns it to clients without a re-read).
  const std::string mine = "0123456789abcdef0123456789abcdef";
  auto x = writeBytes(s, "v2");
  STORE_ASSERT_OK(x);
  ObjectRecord r = makeRecord("b", "k", {*x});
  r.versionId = mine;
  STORE_ASSERT_OK(s.putObject(r, nullptr));
  EXPECT_EQ(s.getObject("b", "k")->versionId, mine);
  auto reader = s.openObject("b", "k");
  STORE_ASSERT_OK(reader);
  EXPECT_EQ((*reader)->record().versionId, mine);
  reader->reset();
  // Reusing the current version's id, or a malformed id, is refused; the writer's file goes.
  auto big = writeBytes(s, patternBytes(this->threshold() + 1, 1));
  STORE_ASSERT_OK(big);
  ObjectRecord same = makeRecord("b", "k", {*big});
  same.versionId = mine;
  STORE_EXPECT_CODE(s.putObject(same, nullptr), Code::kInvalidArgument);
  EXPECT_EQ(this->files(), 0u);
  ObjectRecord bad = makeRecord("b", "k", {});
  bad.versionId = "XYZ";
  STORE_EXPECT_CODE(s.putObject(bad, nullptr), Code::kInvalidArgument);
  EXPECT_EQ(*readObject(s, "b", "k"), "v2");
}

TYPED_TEST_P(StoreConformanceTest, RejectsMalformedRecords) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  auto x = writeBytes(s, patternBytes(this->threshold() + 1, 1));
  STORE_ASSERT_OK(x);
  ObjectRecord r = makeRecord("b", "k", {*x});
  r.size += 1;
  STORE_EXPECT_CODE(s.putObject(r, nullptr), Code::kInvalidArgument);
  EXPECT_EQ(this->files(), 0u);
  Extent bogus;
  bogus.kind = Extent::Kind::kFile;
  bogus.id = "not-an-id";
  bogus.size = 5;
  STORE_EXPECT_CODE(s.putObject(makeRecord("b", "k", {bogus}), nullptr), Code::kInvalidArgument);
  bogus.id = "0123456789abcdef0123456789abcdef";
  STORE_EXPECT_CODE(s.putObject(makeRecord("b", "k", {bogus}), nullptr), Code::kInvalidArgument);
  Extent lying;
  lying.size = 10;
  lying.data = "short";
  STORE_EXPECT_CODE(s.putObject(makeRecord("b", "k", {lying}), nullptr), Code::kInvalidArgument);
  STORE_EXPECT_CODE(s.getObject("b", "k"), Code::kNoSuchKey);
}

TYPED_TEST_P(StoreConformanceTest, ConcurrentWritersAndReadersSeeWholeVersions) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  const uint64_t t = this->threshold();
  const std::vector<size_t> sizes = {100, static_cast<size_t>(t) + 1000,
                                     static_cast<size_t>(3 * t)};
  // The etag names the content: "<size>:<seed>".
  auto put = [&](const std::string& key, size_t size, uint64_t seed) {
    return putBytes(s, "b", key, patternBytes(size, seed),
                    std::to_string(size) + ":" + std::to_string(seed));
  };
  STORE_ASSERT_OK(put("hot", sizes[0], 0));
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 1; i <= 30; ++i) {
        uint64_t seed = static_cast<uint64_t>(w * 1000 + i);
        if (!put("hot", sizes[seed % sizes.size()], seed)) {
          ++errors;
        }
        if (i % 10 == 0 && !s.deleteObject("b", "hot", nullptr)) {
          ++errors;
        }
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        auto reader = s.openObject("b", "hot");
        if (!reader) {
          if (reader.error().code() != Code::kNoSuchKey) {
            ++errors;
          }
          continue;
        }
        const std::string& etag = (*reader)->record().etag;
        size_t colon = etag.find(':');
        size_t size = std::stoull(etag.substr(0, colon));
        uint64_t seed = std::stoull(etag.substr(colon + 1));
        auto data = readAllBytes(**reader, 10000);
        if (!data || *data != patternBytes(size, seed)) {
          ++errors;
        }
        ++reads;
      }
    });
  }
  threads[0].join();
  threads[1].join();
  stop = true;
  for (size_t i = 2; i < threads.size(); ++i) {
    threads[i].join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(reads.load(), 0);
  auto final = s.getObject("b", "hot");
  size_t expectFiles = 0;
  if (final) {
    expectFiles = final->extents[0].kind == Extent::Kind::kFile ? 1 : 0;
  }
  EXPECT_EQ(this->files(), expectFiles);
}

TYPED_TEST_P(StoreConformanceTest, Capacity) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  for (int i = 0; i < 3; ++i) {
    STORE_ASSERT_OK(putBytes(s, "b", "k" + std::to_string(i), "x"));
  }
  auto c = s.capacity();
  STORE_ASSERT_OK(c);
  EXPECT_GT(c->totalBytes, 0u);
  EXPECT_LE(c->freeBytes, c->totalBytes);
  EXPECT_GT(c->objectCount, 0u);
}

TYPED_TEST_P(StoreConformanceTest, InsufficientStorage) {
  this->env_ = TypeParam::make(true);
  ObjectStore& s = this->store();
  STORE_ASSERT_OK(s.createBucket(makeBucket("b")));
  auto w = s.newWriter();
  STORE_ASSERT_OK(w);
  std::string big = patternBytes(this->threshold() + (2u << 20), 1);
  Status st = (*w)->append(big);
  STORE_EXPECT_CODE(st, Code::kInsufficientStorage);
  STORE_EXPECT_CODE((*w)->finish(), Code::kInsufficientStorage);
  w->reset();
  STORE_EXPECT_CODE(putBytes(s, "b", "small", "tiny"), Code::kInsufficientStorage);
  STORE_EXPECT_CODE(s.createUpload(makeUpload("b", "k", "upload-full-0000000000000000000000000")),
                    Code::kInsufficientStorage);
  STORE_EXPECT_CODE(s.getObject("b", "small"), Code::kNoSuchKey);
  EXPECT_TRUE(listKeys(s, "b").empty());
  EXPECT_EQ(this->files(), 0u);
  // Deletes still work on a full volume.
  auto del = s.deleteObject("b", "small", nullptr);
  STORE_ASSERT_OK(del);
  STORE_EXPECT_OK(s.deleteBucket("b"));
}

REGISTER_TYPED_TEST_SUITE_P(StoreConformanceTest, BucketLifecycle, DeleteBucketRefusesWhileNotEmpty,
                            MissingBucket, InlineObjectRoundTrip, EmptyObject,
                            InlineThresholdBoundary, LargeObjectStreamed,
                            WriterDiscardedWithoutFinish, OverwriteReplacesAndReclaims,
                            DeleteObject, CommitCheckSemantics, CommitCheckIsAtomicWithTheWrite,
                            ListingOrderWithTrickyKeys, ListingRecordFields,
                            ListingManyKeysAndSnapshot, ReaderSurvivesOverwriteAndDelete,
                            MetadataRewriteReusesExtents, VersionIds, RejectsMalformedRecords,
                            ConcurrentWritersAndReadersSeeWholeVersions, Capacity,
                            InsufficientStorage);

}  // namespace ember::store::testing

#pragma once
// ObjectStore conformance, part 3: appendObject, updateObject and updateBucket (the calls behind
// Blob append blobs, property/metadata writes and leases). Instantiate with the same Traits as
// store/store_conformance.h:
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreAppendConformanceTest, MyTraits);

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "store/object_store.h"
#include "store/store_test_util.h"

namespace ember::store::testing {

template <typename Traits>
class StoreAppendConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = Traits::make(false);
    STORE_ASSERT_OK(store().createBucket(makeBucket("b")));
  }
  ObjectStore& store() { return env_->store(); }
  size_t files() { return env_->fileExtentCount(); }
  // Creates an empty append object "b"/key.
  void createAppend(const std::string& key) {
    ObjectRecord r = makeRecord("b", key, {});
    r.kind = ObjectKind::kAppend;
    STORE_ASSERT_OK(store().putObject(r, nullptr));
  }
  static AppendCheck bump() {
    return [](const ObjectRecord& cur, ObjectRecord& next) -> Status {
      if (cur.kind != ObjectKind::kAppend) {
        return makeError(Code::kWrongObjectKind, "not an append object");
      }
      next.blockCount = cur.blockCount + 1;
      next.etag = "e" + std::to_string(next.blockCount);
      return Status::ok();
    };
  }
  std::unique_ptr<ConformanceEnv> env_;
};

TYPED_TEST_SUITE_P(StoreAppendConformanceTest);

TYPED_TEST_P(StoreAppendConformanceTest, AppendsGrowOneFileInPlace) {
  ObjectStore& s = this->store();
  this->createAppend("log");
  std::string want;
  for (int i = 0; i < 50; ++i) {
    std::string chunk = patternBytes(100 + i * 37, i);
    auto r = s.appendObject("b", "log", chunk, this->bump());
    STORE_ASSERT_OK(r);
    want += chunk;
    EXPECT_EQ(r->size, want.size());
    EXPECT_EQ(r->blockCount, static_cast<uint32_t>(i + 1));
  }
  auto got = readObject(s, "b", "log");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(*got, want);
  EXPECT_EQ(this->files(), 1u) << "appends must grow the tail file, not add files";
  auto rec = s.getObject("b", "log");
  STORE_ASSERT_OK(rec);
  EXPECT_EQ(rec->etag, "e50");
  EXPECT_EQ(rec->kind, ObjectKind::kAppend);
}

TYPED_TEST_P(StoreAppendConformanceTest, RefusedAppendLeavesNoTrace) {
  ObjectStore& s = this->store();
  this->createAppend("log");
  STORE_ASSERT_OK(s.appendObject("b", "log", std::string("first"), this->bump()));
  auto refuse = [](const ObjectRecord&, ObjectRecord&) -> Status {
    return makeError(Code::kAppendPositionMismatch, "no");
  };
  STORE_EXPECT_CODE(s.appendObject("b", "log", std::string("second"), refuse), Code::kAppendPositionMismatch);
  auto got = readObject(s, "b", "log");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(*got, "first");
  // The next append lands right after the committed bytes, not after the refused ones.
  STORE_ASSERT_OK(s.appendObject("b", "log", std::string("-third"), this->bump()));
  got = readObject(s, "b", "log");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(*got, "first-third");
  STORE_EXPECT_CODE(s.appendObject("b", "missing", std::string("x"), this->bump()), Code::kNoSuchKey);
  STORE_EXPECT_CODE(s.appendObject("nobucket", "log", std::string("x"), this->bump()), Code::kNoSuchBucket);
  // A block object refuses through the check; its bytes are untouched.
  STORE_ASSERT_OK(putBytes(s, "b", "block", "abc"));
  STORE_EXPECT_CODE(s.appendObject("b", "block", std::string("x"), this->bump()), Code::kWrongObjectKind);
  got = readObject(s, "b", "block");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(*got, "abc");
  EXPECT_EQ(this->files(), 1u);
}

TYPED_TEST_P(StoreAppendConformanceTest, ReaderKeepsItsVersionAcrossAppendsAndOverwrite) {
  ObjectStore& s = this->store();
  this->createAppend("log");
  STORE_ASSERT_OK(s.appendObject("b", "log", std::string("0123456789"), this->bump()));
  auto reader = s.openObject("b", "log");
  STORE_ASSERT_OK(reader);
  STORE_ASSERT_OK(s.appendObject("b", "log", std::string("abcdef"), this->bump()));
  // Overwriting with a block object retires both append versions; the file they share stays
  // while the reader lives, even though the reader has not touched it yet.
  STORE_ASSERT_OK(putBytes(s, "b", "log", "new"));
  auto old = readAllBytes(**reader);
  STORE_ASSERT_OK(old);
  EXPECT_EQ(*old, "0123456789");
  reader->reset();
  EXPECT_EQ(this->files(), 0u);
}

TYPED_TEST_P(StoreAppendConformanceTest, ConcurrentAppendsSerialize) {
  ObjectStore& s = this->store();
  this->createAppend("log");
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s, t, check = this->bump()] {
      for (int i = 0; i < kEach; ++i) {
        std::string chunk(10, static_cast<char>('a' + t));
        auto r = s.appendObject("b", "log", chunk, check);
        EXPECT_TRUE(r) << r.error().toString();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  auto got = readObject(s, "b", "log");
  STORE_ASSERT_OK(got);
  ASSERT_EQ(got->size(), size_t{kThreads * kEach * 10});
  for (size_t i = 0; i < got->size(); i += 10) {  // every append is contiguous
    EXPECT_EQ(got->substr(i, 10), std::string(10, (*got)[i]));
  }
  auto rec = s.getObject("b", "log");
  STORE_ASSERT_OK(rec);
  EXPECT_EQ(rec->blockCount, uint32_t{kThreads * kEach});
}

TYPED_TEST_P(StoreAppendConformanceTest, UpdateObjectKeepsBytes) {
  ObjectStore& s = this->store();
  std::string small = patternBytes(100, 1);
  std::string large = patternBytes(300 * 1024, 2);
  STORE_ASSERT_OK(putBytes(s, "b", "small", small));
  STORE_ASSERT_OK(putBytes(s, "b", "large", large));
  for (const auto& [key, bytes] : {std::pair{"small", small}, std::pair{"large", large}}) {
    auto before = s.getObject("b", key);
    STORE_ASSERT_OK(before);
    auto r = s.updateObject("b", key, [](ObjectRecord& rec) -> Status {
      rec.userMeta = {{"k", "v"}};
      rec.lease.id = "lease-1";
      rec.attrs = {{"copy-status", "success"}};
      return Status::ok();
    });
    STORE_ASSERT_OK(r);
    EXPECT_NE(r->versionId, before->versionId);
    auto after = s.getObject("b", key);
    STORE_ASSERT_OK(after);
    EXPECT_EQ(after->userMeta, (StringPairs{{"k", "v"}}));
    EXPECT_EQ(after->lease.id, "lease-1");
    EXPECT_EQ(after->attrs, (StringPairs{{"copy-status", "success"}}));
    EXPECT_EQ(after->etag, before->etag);
    auto got = readObject(s, "b", key);
    STORE_ASSERT_OK(got);
    EXPECT_EQ(*got, bytes);
  }
  EXPECT_EQ(this->files(), 1u);  // the large object's file is shared, not copied
  STORE_EXPECT_CODE(s.updateObject("b", "missing", [](ObjectRecord&) { return Status::ok(); }),
                    Code::kNoSuchKey);
  STORE_EXPECT_CODE(s.updateObject("b", "small",
                                   [](ObjectRecord&) {
                                     return makeError(Code::kLeaseIdMissing, "leased");
                                   }),
                    Code::kLeaseIdMissing);
  STORE_EXPECT_CODE(s.updateObject("b", "small",
                                   [](ObjectRecord& rec) {
                                     rec.size += 1;
                                     return Status::ok();
                                   }),
                    Code::kInvalidArgument);
}

TYPED_TEST_P(StoreAppendConformanceTest, UpdateBucket) {
  ObjectStore& s = this->store();
  STORE_ASSERT_OK(s.updateBucket("b", [](BucketRecord& rec) -> Status {
    rec.userMeta = {{"Team", "ml"}};
    rec.etag = "0x2";
    rec.lease.id = "L";
    return Status::ok();
  }));
  auto got = s.getBucket("b");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(got->userMeta, (StringPairs{{"Team", "ml"}}));
  EXPECT_EQ(got->etag, "0x2");
  EXPECT_EQ(got->lease.id, "L");
  STORE_EXPECT_CODE(s.updateBucket("nope", [](BucketRecord&) { return Status::ok(); }),
                    Code::kNoSuchBucket);
  STORE_EXPECT_CODE(s.updateBucket("b",
                                   [](BucketRecord& rec) {
                                     rec.name = "other";
                                     return Status::ok();
                                   }),
                    Code::kInvalidArgument);
}

// Staged Blob blocks are parts with a block id and a number anywhere in 1..2^32-1 (a hash slot).
TYPED_TEST_P(StoreAppendConformanceTest, StagedBlocksUseTheWholePartNumberRange) {
  ObjectStore& s = this->store();
  UploadRecord u;
  u.bucket = "b";
  u.key = "blob";
  u.uploadId = "blk0123456789abcdef0123456789abcdef";
  STORE_ASSERT_OK(s.createUpload(u));
  std::vector<uint32_t> numbers = {7, 20000, 3000000000u, 4294967295u};
  for (uint32_t n : numbers) {
    auto x = writeBytes(s, patternBytes(300 * 1024, n));
    STORE_ASSERT_OK(x);
    PartRecord p;
    p.number = n;
    p.blockId = "id" + std::to_string(n);
    p.size = x->size;
    p.etag = "e";
    p.extent = *x;
    STORE_ASSERT_OK(s.putPart(u.uploadId, p));
  }
  auto high = s.listParts(u.uploadId, 10000, 100);
  STORE_ASSERT_OK(high);
  ASSERT_EQ(high->size(), 3u);
  EXPECT_EQ(high->back().number, 4294967295u);
  EXPECT_EQ(high->back().blockId, "id4294967295");
  // Commit two of them; the others are reclaimed with the upload.
  ObjectRecord rec = makeRecord("b", "blob", {(*high)[0].extent, (*high)[2].extent});
  STORE_ASSERT_OK(s.completeUpload(u.uploadId, rec, nullptr));
  auto got = readObject(s, "b", "blob");
  STORE_ASSERT_OK(got);
  EXPECT_EQ(*got, patternBytes(300 * 1024, 20000) + patternBytes(300 * 1024, 4294967295u));
  EXPECT_EQ(this->files(), 2u);
}

REGISTER_TYPED_TEST_SUITE_P(StoreAppendConformanceTest, StagedBlocksUseTheWholePartNumberRange,
                            AppendsGrowOneFileInPlace,
                            RefusedAppendLeavesNoTrace,
                            ReaderKeepsItsVersionAcrossAppendsAndOverwrite,
                            ConcurrentAppendsSerialize, UpdateObjectKeepsBytes, UpdateBucket);

}  // namespace ember::store::testing

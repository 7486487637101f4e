// Append objects, leases on objects and buckets, bucket metadata and Delete Container, over the
// in-memory store twin.
#include <chrono>

#include "common/time_util.h"
#include "core/blob_test_util.h"
#include "core/lease.h"

namespace ember::core {
namespace {

using namespace ember::core::testing;

class BlobMetaTest : public BlobCoreTestBase {
 protected:
  static NamespaceOptions options() {
    NamespaceOptions o = defaultOptions();
    o.maxAppends = 4;
    o.maxAppendBytes = 1000;
    return o;
  }
  BlobMetaTest() : BlobCoreTestBase(options()) {}

  Result<ObjectRecord> append(const std::string& key, const std::string& data,
                              std::optional<uint64_t> pos = {}, std::optional<uint64_t> max = {},
                              std::function<Status(const ObjectRecord&)> check = nullptr,
                              bool declareSize = true) {
    AppendInput in;
    in.bucket = "bkt";
    in.key = key;
    in.appendPosition = pos;
    in.maxSize = max;
    if (declareSize) {
      in.expectedSize = data.size();
    }
    in.check = std::move(check);
    StringSource src(data, 3);
    return run(ns_.appendBlock(std::move(in), src));
  }

  Result<LeaseResult> lease(const std::string& key, LeaseInput in,
                            std::function<Status(const ObjectRecord&)> check = nullptr) {
    return run(ns_.leaseObject("bkt", key, std::move(in), std::move(check)));
  }
};

LeaseInput acquire(std::string id, int32_t duration = -1) {
  LeaseInput in;
  in.action = LeaseAction::kAcquire;
  in.proposedId = std::move(id);
  in.durationSec = duration;
  return in;
}

LeaseInput act(LeaseAction a, std::string id = "") {
  LeaseInput in;
  in.action = a;
  in.leaseId = std::move(id);
  return in;
}

// A Blob-style write check: the request's lease id (if any) against the current record.
store::CommitCheck leaseCheck(std::optional<std::string> id) {
  return [id](const ObjectRecord* cur) -> Status {
    if (cur == nullptr) {
      return Status::ok();
    }
    std::optional<std::string_view> v;
    if (id) {
      v = *id;
    }
    return checkLeaseForWrite(cur->lease, v, nowMillis());
  };
}

TEST_F(BlobMetaTest, AppendsGrowTheObject) {
  ASSERT_TRUE(put("log", "", store::ObjectKind::kAppend));
  auto r = append("log", "hello");
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->size, 5u);
  EXPECT_EQ(r->blockCount, 1u);
  EXPECT_TRUE(r->etag.ends_with("-1"));
  EXPECT_EQ(r->contentMd5, "");
  std::string firstEtag = r->etag;
  r = append("log", " world", 5u, 11u);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->size, 11u);
  EXPECT_EQ(r->blockCount, 2u);
  EXPECT_NE(r->etag, firstEtag);
  EXPECT_EQ(r->kind, store::ObjectKind::kAppend);
  EXPECT_EQ(*get("log"), "hello world");
  // A body without a declared size is read up to the limit.
  ASSERT_TRUE(append("log", "!", {}, {}, nullptr, false));
  EXPECT_EQ(*get("log"), "hello world!");
}

TEST_F(BlobMetaTest, AppendConditionsAndLimits) {
  ASSERT_TRUE(put("log", "", store::ObjectKind::kAppend));
  ASSERT_TRUE(append("log", "abc"));
  EXPECT_EQ(codeOf(append("log", "x", 2u)), Code::kAppendPositionMismatch);
  EXPECT_EQ(codeOf(append("log", "xy", 3u, 4u)), Code::kMaxSizeExceeded);
  ASSERT_TRUE(append("log", "x", 3u, 4u));  // exactly at max size
  // The caller's check runs first.
  auto refuse = [](const ObjectRecord&) { return makeError(Code::kPreconditionFailed, "etag"); };
  EXPECT_EQ(codeOf(append("log", "x", 0u, {}, refuse)), Code::kPreconditionFailed);
  EXPECT_EQ(codeOf(append("log", "")), Code::kInvalidHeader);
  EXPECT_EQ(codeOf(append("log", "", {}, {}, nullptr, false)), Code::kInvalidHeader);
  EXPECT_EQ(codeOf(append("log", std::string(1001, 'z'))), Code::kEntityTooLarge);
  EXPECT_EQ(codeOf(append("log", std::string(1001, 'z'), {}, {}, nullptr, false)),
            Code::kEntityTooLarge);
  ASSERT_TRUE(append("log", std::string(1000, 'z')));
  ASSERT_TRUE(append("log", "4"));  // 4th append: the limit
  EXPECT_EQ(codeOf(append("log", "5")), Code::kBlockCountExceeded);
  EXPECT_EQ(*get("log"), "abcx" + std::string(1000, 'z') + "4");
  // Verification failure leaves nothing.
  ASSERT_TRUE(put("v", "", store::ObjectKind::kAppend));
  AppendInput in;
  in.bucket = "bkt";
  in.key = "v";
  std::string seenMd5;
  in.verify = [&seenMd5](const Digests& d) {
    seenMd5 = hexEncode(d.md5);
    return makeError(Code::kBadDigest, "md5");
  };
  StringSource src("hello world");
  EXPECT_EQ(codeOf(run(ns_.appendBlock(std::move(in), src))), Code::kBadDigest);
  EXPECT_EQ(seenMd5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(*get("v"), "");
}

TEST_F(BlobMetaTest, AppendToWrongKindSealedOrMissing) {
  ASSERT_TRUE(put("block", "abc"));
  EXPECT_EQ(codeOf(append("block", "x")), Code::kWrongObjectKind);
  EXPECT_EQ(codeOf(append("missing", "x")), Code::kNoSuchKey);
  ASSERT_TRUE(put("log", "", store::ObjectKind::kAppend));
  ASSERT_TRUE(append("log", "a"));
  store::RecordUpdate seal = [](ObjectRecord& r) {
    r.sealed = true;
    return Status::ok();
  };
  auto sealed = run(ns_.updateObject("bkt", "log", seal));
  ASSERT_TRUE(sealed);
  EXPECT_TRUE(sealed->sealed);
  EXPECT_EQ(codeOf(append("log", "b")), Code::kObjectSealed);
  EXPECT_EQ(*get("log"), "a");
  store::RecordUpdate noop = [](ObjectRecord&) { return Status::ok(); };
  EXPECT_EQ(codeOf(run(ns_.updateObject("bkt", "missing", noop))), Code::kNoSuchKey);
}

TEST_F(BlobMetaTest, ObjectLeasesGuardWritesWithoutChangingTheEtag) {
  auto put1 = put("k", "data");
  ASSERT_TRUE(put1);
  const std::string kA = "11111111-2222-4333-8444-555555555555";
  auto r = lease("k", acquire(kA));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->leaseId, kA);
  EXPECT_EQ(r->etag, put1->etag);
  EXPECT_EQ(r->mtimeMs, put1->mtimeMs);
  auto head = run(ns_.headObject("bkt", "k"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->etag, put1->etag);
  EXPECT_EQ(leaseState(head->lease, nowMillis()), LeaseState::kLeased);
  // Writes need the lease id.
  EXPECT_EQ(codeOf(put("k", "x", store::ObjectKind::kBlock, leaseCheck(std::nullopt))),
            Code::kLeaseIdMissing);
  EXPECT_EQ(codeOf(put("k", "x", store::ObjectKind::kBlock, leaseCheck("other"))),
            Code::kLeaseIdMismatch);
  EXPECT_EQ(*get("k"), "data");
  // Lease-op errors and the caller's check.
  EXPECT_EQ(codeOf(lease("k", acquire("other"))), Code::kLeaseAlreadyPresent);
  EXPECT_EQ(codeOf(lease("k", act(LeaseAction::kRelease, "other"))), Code::kLeaseOpIdMismatch);
  auto refuse = [](const ObjectRecord&) { return makeError(Code::kPreconditionFailed, "no"); };
  EXPECT_EQ(codeOf(lease("k", act(LeaseAction::kRenew, kA), refuse)), Code::kPreconditionFailed);
  EXPECT_TRUE(lease("k", act(LeaseAction::kRenew, kA)));
  // Break at once: writes without an id succeed again, a named id is "not present".
  LeaseInput brk = act(LeaseAction::kBreak);
  brk.breakPeriodSec = 0;
  r = lease("k", brk);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 0);
  EXPECT_EQ(codeOf(put("k", "x", store::ObjectKind::kBlock, leaseCheck(kA))),
            Code::kLeaseNotPresent);
  EXPECT_EQ(codeOf(lease("k", act(LeaseAction::kRenew, kA))), Code::kLeaseBrokenCannotRenew);
  EXPECT_TRUE(lease("k", act(LeaseAction::kRelease, kA)));
  EXPECT_TRUE(put("k", "x", store::ObjectKind::kBlock, leaseCheck(std::nullopt)));
  EXPECT_EQ(codeOf(lease("missing", acquire(""))), Code::kNoSuchKey);
}

TEST_F(BlobMetaTest, AppendKeepsTheLease) {
  ASSERT_TRUE(put("log", "", store::ObjectKind::kAppend));
  ASSERT_TRUE(lease("log", acquire("L1", 60)));
  auto check = [](const ObjectRecord& cur) {
    return checkLeaseForWrite(cur.lease, std::string_view("L1"), nowMillis());
  };
  auto r = append("log", "abc", {}, {}, check);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->lease.id, "L1");
  auto noId = [](const ObjectRecord& cur) {
    return checkLeaseForWrite(cur.lease, std::nullopt, nowMillis());
  };
  EXPECT_EQ(codeOf(append("log", "abc", {}, {}, noId)), Code::kLeaseIdMissing);
}

TEST_F(BlobMetaTest, UpdateBucketRefreshesTheCache) {
  auto before = run(ns_.getBucket("bkt"));  // cached now
  ASSERT_TRUE(before);
  store::BucketUpdate meta = [](BucketRecord& b) {
    b.userMeta = {{"Team", "ml"}};
    b.etag = newBucketEtag();
    return Status::ok();
  };
  ASSERT_TRUE(run(ns_.updateBucket("bkt", meta)).isOk());
  auto after = run(ns_.getBucket("bkt"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->userMeta, (StringPairs{{"Team", "ml"}}));
  EXPECT_NE(after->etag, before->etag);
  store::BucketUpdate fail = [](BucketRecord&) { return makeError(Code::kLeaseIdMissing, "x"); };
  EXPECT_EQ(run(ns_.updateBucket("bkt", fail)).code(), Code::kLeaseIdMissing);
  EXPECT_EQ(run(ns_.updateBucket("nope", meta)).code(), Code::kNoSuchBucket);
}

TEST_F(BlobMetaTest, BucketLeases) {
  auto b0 = run(ns_.getBucket("bkt"));
  ASSERT_TRUE(b0);
  auto r = run(ns_.leaseBucket("bkt", acquire("", 15)));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->leaseId.size(), 36u);
  EXPECT_EQ(r->etag, b0->etag);
  auto b1 = run(ns_.getBucket("bkt"));
  ASSERT_TRUE(b1);
  EXPECT_EQ(b1->lease.id, r->leaseId);
  EXPECT_EQ(b1->etag, b0->etag);
  EXPECT_EQ(leaseDurationName(b1->lease, nowMillis()), "fixed");
  EXPECT_EQ(codeOf(run(ns_.leaseBucket("bkt", acquire("x")))), Code::kLeaseAlreadyPresent);
  LeaseInput brk = act(LeaseAction::kBreak);
  brk.breakPeriodSec = 10;
  auto br = run(ns_.leaseBucket("bkt", brk));
  ASSERT_TRUE(br);
  EXPECT_GE(br->leaseTimeSec, 9);
  EXPECT_LE(br->leaseTimeSec, 10);
  auto b2 = run(ns_.getBucket("bkt"));
  EXPECT_EQ(leaseState(b2->lease, nowMillis()), LeaseState::kBreaking);
  EXPECT_EQ(codeOf(run(ns_.leaseBucket("bkt", acquire(r->leaseId)))),
            Code::kLeaseBreakingCannotAcquire);
  EXPECT_TRUE(run(ns_.leaseBucket("bkt", act(LeaseAction::kRelease, r->leaseId))));
  EXPECT_EQ(codeOf(run(ns_.leaseBucket("nope", acquire("")))), Code::kNoSuchBucket);
}

TEST_F(BlobMetaTest, DeleteBucketWithContents) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(put("obj/" + std::to_string(i), pattern(i % 2 ? 100'000 : 10, 'o')));
  }
  ASSERT_TRUE(stage("staged", "A", pattern(100'000, 's')));
  UploadRecord up;
  up.bucket = "bkt";
  up.key = "mp";
  ASSERT_TRUE(run(ns_.createUpload(up)));
  EXPECT_EQ(run(ns_.deleteBucket("bkt")).code(), Code::kBucketNotEmpty);
  ASSERT_TRUE(run(ns_.leaseBucket("bkt", acquire("CL"))));
  auto guarded = [](const BucketRecord& b) {
    return checkLeaseForWrite(b.lease, std::nullopt, nowMillis());
  };
  EXPECT_EQ(run(ns_.deleteBucketWithContents("bkt", guarded)).code(), Code::kLeaseIdMissing);
  EXPECT_EQ(*get("obj/3"), pattern(100'000, 'o'));  // nothing was deleted
  auto withId = [](const BucketRecord& b) {
    return checkLeaseForWrite(b.lease, std::string_view("CL"), nowMillis());
  };
  EXPECT_TRUE(run(ns_.deleteBucketWithContents("bkt", withId)).isOk());
  EXPECT_EQ(codeOf(run(ns_.getBucket("bkt"))), Code::kNoSuchBucket);
  EXPECT_EQ(files(), 0u);
  EXPECT_EQ(run(ns_.deleteBucketWithContents("bkt", nullptr)).code(), Code::kNoSuchBucket);
  // The name is free again.
  ASSERT_TRUE(run(ns_.createBucket("bkt", "alice", "")).isOk());
  EXPECT_EQ(codeOf(get("obj/3")), Code::kNoSuchKey);
  EXPECT_TRUE(run(ns_.deleteBucketWithContents("bkt", nullptr)).isOk());
}

}  // namespace
}  // namespace ember::core

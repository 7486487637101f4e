// The write-back queue and the store decorator against the in-memory store and a real state db:
// what is durable when a write returns, what the uploader sends, and what a flush barrier says.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/mem/mem_store.h"
#include "store/store_test_util.h"
#include "tier/tier_store.h"
#include "tier/writeback.h"

namespace ember::tier {
namespace {

using store::testing::putBytes;
using store::testing::readAllBytes;

class WriteBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = store::MemStore::create();
    ASSERT_TRUE(mem_->createBucket(store::testing::makeBucket("data")));
    ASSERT_TRUE(mem_->createBucket(store::testing::makeBucket("plain")));
    MappingConfig wb;
    wb.bucket = "data";
    wb.prefix = "ckpt/";
    wb.cold.location = *cold::parseColdLocation("s3://cold/ckpt");
    MappingConfig ro = wb;
    ro.prefix = "ro/";
    ro.mode = Mode::kReadOnly;
    table_ = *MappingTable::build({wb, ro});
    open();
  }
  void TearDown() override {
    ts_.reset();
    wb_.reset();
    db_.reset();
  }
  void open(uint64_t maxDirty = 0) {
    ts_.reset();
    wb_.reset();
    db_.reset();
    auto db = StateDb::open(dir_.path() + "/db");
    ASSERT_TRUE(db) << db.error().toString();
    db_ = std::move(*db);
    WriteBackOptions o;
    o.maxDirtyBytes = maxDirty;
    o.retryBase = std::chrono::milliseconds(60'000);
    wb_ = std::make_unique<WriteBack>(*mem_, *db_, table_, o);
    ASSERT_TRUE(wb_->recover());
    ts_ = std::make_shared<TierStore>(mem_, table_, *wb_, std::chrono::milliseconds(10));
  }
  // Runs one upload of `tk` the way the uploader does, with `coldEtag` as the cold answer.
  UploadTask snap(const std::string& tk) {
    auto t = wb_->snapshot(tk);
    EXPECT_TRUE(t) << t.error().toString();
    return std::move(*t);
  }

  store::testing::TempDir dir_;
  std::shared_ptr<store::MemStore> mem_;
  MappingTable table_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<WriteBack> wb_;
  std::shared_ptr<TierStore> ts_;
};

TEST_F(WriteBackTest, AnAcknowledgedWriteIsQueuedDurably) {
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/step1", "weights-1"));
  ASSERT_TRUE(putBytes(*ts_, "data", "other/x", "not mapped"));
  ASSERT_TRUE(putBytes(*ts_, "plain", "ckpt/step1", "not mapped"));
  auto d = wb_->dirty(tierKey("data", "ckpt/step1"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->op, Op::kPut);
  EXPECT_EQ(d->size, 9u);
  EXPECT_FALSE(wb_->dirty(tierKey("data", "other/x")));
  EXPECT_EQ(wb_->dirtyCount(), 1u);
  // A restart (new db handle, new queue) finds the entry on disk.
  open();
  auto again = wb_->dirty(tierKey("data", "ckpt/step1"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size, 9u);
  auto next = wb_->nextReady(nullptr);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, tierKey("data", "ckpt/step1"));
}

TEST_F(WriteBackTest, ReadOnlyMappingsRefuseWritesAndTheDirtyBoundSaysSlowDown) {
  EXPECT_EQ(putBytes(*ts_, "data", "ro/x", "no").code(), Code::kPermissionDenied);
  EXPECT_EQ(store::testing::codeOf(mem_->getObject("data", "ro/x")), Code::kNoSuchKey);
  open(/*maxDirty=*/10);
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/a", "12345678"));
  Status s = putBytes(*ts_, "data", "ckpt/b", "12345678");
  EXPECT_EQ(s.code(), Code::kBusy) << s.toString();
  EXPECT_EQ(store::testing::codeOf(mem_->getObject("data", "ckpt/b")), Code::kNoSuchKey);
  EXPECT_FALSE(wb_->dirty(tierKey("data", "ckpt/b")));
}

TEST_F(WriteBackTest, AFailedCommitLeavesTheQueueAsItWas) {
  auto extent = store::testing::writeBytes(*ts_, "abc");
  ASSERT_TRUE(extent);
  store::ObjectRecord rec = store::testing::makeRecord("data", "ckpt/x", {*extent});
  Status s = ts_->putObject(rec, [](const store::ObjectRecord*) {
    return makeError(Code::kPreconditionFailed, "no");
  });
  EXPECT_EQ(s.code(), Code::kPreconditionFailed);
  EXPECT_FALSE(wb_->dirty(tierKey("data", "ckpt/x")));
  open();
  EXPECT_EQ(wb_->dirtyCount(), 0u);
}

TEST_F(WriteBackTest, UploadsSendTheNewestVersionAndNeverDropANewerWrite) {
  std::string tk = tierKey("data", "ckpt/m");
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/m", "v1"));
  ASSERT_TRUE(wb_->nextReady(nullptr));
  UploadTask t1 = snap(tk);
  ASSERT_FALSE(t1.nothingToDo);
  ASSERT_EQ(*readAllBytes(*t1.reader), "v1");
  // A newer write lands while v1 is on its way to cold.
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/m", "v2"));
  wb_->finish(t1, std::string("etag-v1"), 2);
  auto d = wb_->dirty(tk);
  ASSERT_TRUE(d) << "v2 is not in cold yet";
  EXPECT_EQ(d->uploadedSeq, t1.seq);
  ASSERT_TRUE(wb_->nextReady(nullptr));
  UploadTask t2 = snap(tk);
  EXPECT_EQ(*readAllBytes(*t2.reader), "v2");
  wb_->finish(t2, std::string("etag-v2"), 2);
  EXPECT_FALSE(wb_->dirty(tk));
  auto clean = db_->getClean(tk);
  ASSERT_TRUE(clean && *clean);
  EXPECT_EQ((*clean)->coldEtag, "etag-v2");
  EXPECT_EQ((*clean)->versionId, t2.reader->record().versionId);
  open();
  EXPECT_EQ(wb_->dirtyCount(), 0u);
}

TEST_F(WriteBackTest, DeletesAreWrittenBackAndHideTheKey) {
  std::string tk = tierKey("data", "ckpt/gone");
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/gone", "x"));
  ASSERT_TRUE(ts_->deleteObject("data", "ckpt/gone", nullptr));
  EXPECT_TRUE(wb_->pendingDelete(tk));
  // Deleting a key that is only in cold is queued too.
  ASSERT_TRUE(ts_->deleteObject("data", "ckpt/cold-only", nullptr));
  EXPECT_TRUE(wb_->pendingDelete(tierKey("data", "ckpt/cold-only")));
  ASSERT_TRUE(wb_->nextReady(nullptr));
  UploadTask t = snap(tk);
  EXPECT_FALSE(t.nothingToDo);
  EXPECT_EQ(t.op, Op::kDelete);
  wb_->finish(t, std::string(), 0);
  EXPECT_FALSE(wb_->dirty(tk));
}

TEST_F(WriteBackTest, AnIntentWhoseCommitNeverHappenedIsReconciledNotReplayed) {
  // What a crash between the synced entry and the store commit leaves: an entry, no object.
  std::string tk = tierKey("data", "ckpt/never");
  ASSERT_TRUE(db_->putDirty(tk, DirtyEntry{Op::kPut, 7, 0, 5, 1}, 7));
  open();
  ASSERT_TRUE(wb_->nextReady(nullptr));
  UploadTask t = snap(tk);
  EXPECT_TRUE(t.nothingToDo);
  wb_->finish(t, std::string(), 0);
  EXPECT_FALSE(wb_->dirty(tk));
  // And a delete whose commit never happened leaves the object alone.
  ASSERT_TRUE(putBytes(*mem_, "data", "ckpt/kept", "k"));
  std::string kept = tierKey("data", "ckpt/kept");
  ASSERT_TRUE(db_->putDirty(kept, DirtyEntry{Op::kDelete, 8, 0, 0, 1}, 8));
  open();
  UploadTask d = snap(kept);
  EXPECT_TRUE(d.nothingToDo);
  // Sequence numbers continue after the largest one on disk.
  EXPECT_GE(wb_->currentSeq(), 8u);
}

TEST_F(WriteBackTest, AFlushBarrierCoversWritesBeforeItOnly) {
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/s1/a", "aaaa"));
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/s1/b", "bb"));
  uint64_t barrier = wb_->currentSeq();
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/s2/c", "c"));  // after the barrier
  FlushReport r = wb_->flushReport("data", "ckpt/", barrier);
  EXPECT_EQ(r.pendingObjects, 2u);
  EXPECT_EQ(r.pendingBytes, 6u);
  EXPECT_FALSE(r.done);
  EXPECT_EQ(wb_->flushReport("data", "ckpt/s2/", barrier).pendingObjects, 0u);
  for (int i = 0; i < 3; ++i) {
    auto tk = wb_->nextReady(nullptr);
    ASSERT_TRUE(tk);
    UploadTask t = snap(*tk);
    if (t.reader && t.reader->record().key == "ckpt/s2/c") {
      wb_->finish(t, unexpected(Code::kUnavailable, "cold store down"), 0);
      continue;
    }
    wb_->finish(t, std::string("e"), t.reader->record().size);
  }
  r = wb_->flushReport("data", "ckpt/", barrier);
  EXPECT_TRUE(r.done) << r.pendingObjects;
  FlushReport later = wb_->flushReport("data", "ckpt/", wb_->currentSeq());
  EXPECT_EQ(later.pendingObjects, 1u);
  EXPECT_NE(later.lastError.find("cold store down"), std::string::npos);
  // The failed key backs off instead of spinning.
  std::chrono::steady_clock::time_point wake;
  EXPECT_FALSE(wb_->nextReady(&wake));
  EXPECT_GT(wake, std::chrono::steady_clock::now());
}

TEST_F(WriteBackTest, ALeaseChangeOfACleanObjectIsNotAWrite) {
  std::string tk = tierKey("data", "ckpt/leased");
  ASSERT_TRUE(putBytes(*ts_, "data", "ckpt/leased", std::string(100'000, 'x')));
  ASSERT_TRUE(wb_->nextReady(nullptr));
  UploadTask t = snap(tk);
  wb_->finish(t, std::string("e"), 100'000);
  ASSERT_FALSE(wb_->dirty(tk));
  auto updated = ts_->updateObject("data", "ckpt/leased", [](store::ObjectRecord& r) {
    r.lease.id = "lease-1";
    return Status::ok();
  });
  ASSERT_TRUE(updated) << updated.error().toString();
  EXPECT_FALSE(wb_->dirty(tk));
  // A metadata change is a write: the cold copy carries metadata.
  ASSERT_TRUE(ts_->updateObject("data", "ckpt/leased", [](store::ObjectRecord& r) {
    r.userMeta = {{"step", "9"}};
    return Status::ok();
  }));
  EXPECT_TRUE(wb_->dirty(tk));
}

TEST_F(WriteBackTest, MappedBucketsCannotBeDeleted) {
  EXPECT_EQ(ts_->deleteBucket("data").code(), Code::kPermissionDenied);
  EXPECT_TRUE(ts_->deleteBucket("plain"));
}

}  // namespace
}  // namespace ember::tier

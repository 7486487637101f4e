// Pins and eviction against the in-memory store and a real state db: what a pass takes (clean,
// unpinned, least recently read first) and what it never takes (dirty, pinned).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/time_util.h"
#include "store/mem/mem_store.h"
#include "store/store_test_util.h"
#include "tier/evict.h"
#include "tier/pins.h"
#include "tier/tier_store.h"

namespace ember::tier {
namespace {

using store::testing::putBytes;

class EvictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = store::MemStore::create();
    ASSERT_TRUE(mem_->createBucket(store::testing::makeBucket("data")));
    MappingConfig m;
    m.bucket = "data";
    m.prefix = "c/";
    m.cold.location = *cold::parseColdLocation("s3://cold/x");
    table_ = *MappingTable::build({m});
    db_ = std::move(*StateDb::open(dir_.path() + "/db"));
    wb_ = std::make_unique<WriteBack>(*mem_, *db_, table_, WriteBackOptions{});
    ASSERT_TRUE(wb_->recover());
    pins_ = std::make_unique<PinSet>(*db_);
    ASSERT_TRUE(pins_->load());
    ts_ = std::make_shared<TierStore>(mem_, table_, *wb_, std::chrono::milliseconds(10));
  }
  void TearDown() override {
    evictor_.reset();
    ts_.reset();
    pins_.reset();
    wb_.reset();
    db_.reset();
  }
  void makeEvictor(EvictOptions o) {
    evictor_ = std::make_unique<Evictor>(*mem_, table_, *wb_, *pins_, o,
                                         [] { return Result<store::Capacity>(store::Capacity{}); });
  }
  bool warm(const std::string& key) { return static_cast<bool>(mem_->getObject("data", key)); }

  store::testing::TempDir dir_;
  std::shared_ptr<store::MemStore> mem_;
  MappingTable table_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<WriteBack> wb_;
  std::unique_ptr<PinSet> pins_;
  std::shared_ptr<TierStore> ts_;
  std::unique_ptr<Evictor> evictor_;
};

TEST_F(EvictTest, PinsPersistMatchByPrefixAndExpire) {
  ASSERT_TRUE(pins_->add("data", "c/ds/", 0));
  ASSERT_TRUE(pins_->add("data", "c/tmp/", nowMillis() - 1));  // already expired
  EXPECT_TRUE(pins_->pinned("data", "c/ds/a"));
  EXPECT_FALSE(pins_->pinned("data", "c/tmp/a"));
  EXPECT_FALSE(pins_->pinned("data", "c/other"));
  EXPECT_FALSE(pins_->pinned("other", "c/ds/a"));
  PinSet again(*db_);
  ASSERT_TRUE(again.load());
  auto list = again.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].prefix, "c/ds/");
  EXPECT_EQ(again.remove("data", "c/nope/").code(), Code::kNotFound);
  ASSERT_TRUE(again.remove("data", "c/ds/"));
  PinSet third(*db_);
  ASSERT_TRUE(third.load());
  EXPECT_TRUE(third.list().empty());
}

TEST_F(EvictTest, NothingHappensUnderTheHighWatermark) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(putBytes(*mem_, "data", "c/" + std::to_string(i), std::string(1000, 'x')));
  }
  makeEvictor(EvictOptions{0, 0, 8000, 5000});
  auto pass = evictor_->runOnce();
  ASSERT_TRUE(pass) << pass.error().toString();
  EXPECT_FALSE(pass->triggered);
  EXPECT_EQ(pass->warmBytes, 4000u);
  EXPECT_EQ(pass->evictedObjects, 0u);
}

TEST_F(EvictTest, EvictsCleanUnpinnedLeastRecentlyReadDownToTheLowWatermark) {
  // Ten clean objects of 1000 bytes, outside the mapping one more that must never be touched.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(putBytes(*mem_, "data", "c/o" + std::to_string(i), std::string(1000, 'x')));
  }
  ASSERT_TRUE(putBytes(*mem_, "data", "unmapped", std::string(5000, 'u')));
  // o0 and o1 are read (recent); o2 and o3 are pinned; o4 is dirty (written through the tier).
  ASSERT_TRUE(pins_->add("data", "c/o2", 0));
  ASSERT_TRUE(pins_->add("data", "c/o3", 0));
  ASSERT_TRUE(putBytes(*ts_, "data", "c/o4", std::string(1000, 'd')));
  makeEvictor(EvictOptions{0, 0, 9000, 6000});
  evictor_->touch(tierKey("data", "c/o0"));
  evictor_->touch(tierKey("data", "c/o1"));
  auto pass = evictor_->runOnce();
  ASSERT_TRUE(pass) << pass.error().toString();
  EXPECT_TRUE(pass->triggered);
  EXPECT_EQ(pass->warmBytes, 10'000u);
  EXPECT_EQ(pass->pinnedBytes, 2000u);
  EXPECT_EQ(pass->dirtyBytes, 1000u);
  EXPECT_EQ(pass->evictedObjects, 4u);  // 10000 -> 6000
  EXPECT_EQ(pass->evictedBytes, 4000u);
  for (const char* kept : {"c/o0", "c/o1", "c/o2", "c/o3", "c/o4", "unmapped"}) {
    EXPECT_TRUE(warm(kept)) << kept;
  }
  int gone = 0;
  for (int i = 5; i < 10; ++i) {
    gone += warm("c/o" + std::to_string(i)) ? 0 : 1;
  }
  EXPECT_EQ(gone, 4);
  EXPECT_EQ(evictor_->evictedObjects(), 4u);
}

TEST_F(EvictTest, ObjectsReadOftenOutliveObjectsReadOnce) {
  ASSERT_TRUE(putBytes(*mem_, "data", "c/often", std::string(1000, 'x')));
  ASSERT_TRUE(putBytes(*mem_, "data", "c/once", std::string(1000, 'x')));
  makeEvictor(EvictOptions{0, 0, 2000, 1000});
  for (int i = 0; i < 5; ++i) {
    evictor_->touch(tierKey("data", "c/often"));
  }
  evictor_->touch(tierKey("data", "c/once"));  // read last, but only once
  auto pass = evictor_->runOnce();
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->evictedObjects, 1u);
  EXPECT_TRUE(warm("c/often"));
  EXPECT_FALSE(warm("c/once"));
}

TEST_F(EvictTest, WarmBytesUnderAPrefixAndTheCapacityLimit) {
  ASSERT_TRUE(putBytes(*mem_, "data", "c/a/1", std::string(300, 'x')));
  ASSERT_TRUE(putBytes(*mem_, "data", "c/a/2", std::string(200, 'x')));
  ASSERT_TRUE(putBytes(*mem_, "data", "c/b/1", std::string(100, 'x')));
  makeEvictor(EvictOptions{0, 0, 4000, 3000});
  EXPECT_EQ(*evictor_->warmBytesUnder("data", "c/a/"), 500u);
  EXPECT_EQ(*evictor_->capacityLimit(), 4000u);
}

}  // namespace
}  // namespace ember::tier

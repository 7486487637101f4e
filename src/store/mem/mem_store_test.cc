#include "store/mem/mem_store.h"

#include <gtest/gtest.h>

#include "store/store_conformance.h"
#include "store/store_conformance_append.h"
#include "store/store_conformance_multipart.h"
#include "store/store_test_util.h"

namespace ember::store::testing {
namespace {

class MemEnv final : public ConformanceEnv {
 public:
  explicit MemEnv(MemStoreOptions options) : store_(MemStore::create(options)) {}
  ObjectStore& store() override { return *store_; }
  size_t fileExtentCount() override { return store_->fileExtentCountForTest(); }
  uint64_t inlineThreshold() const override { return 64 * 1024; }

 private:
  std::shared_ptr<MemStore> store_;
};

struct MemTraits {
  static std::unique_ptr<ConformanceEnv> make(bool full) {
    MemStoreOptions options;
    if (full) {
      options.capacityBytes = 0;
    }
    return std::make_unique<MemEnv>(options);
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Mem, StoreConformanceTest, MemTraits);
INSTANTIATE_TYPED_TEST_SUITE_P(Mem, StoreMultipartConformanceTest, MemTraits);
INSTANTIATE_TYPED_TEST_SUITE_P(Mem, StoreAppendConformanceTest, MemTraits);

namespace {

TEST(MemStoreTest, PinsAreReleasedWithReaders) {
  auto store = MemStore::create();
  STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
  STORE_ASSERT_OK(putBytes(*store, "b", "k", "v1"));
  {
    auto r = store->openObject("b", "k");
    STORE_ASSERT_OK(r);
    EXPECT_EQ(store->pinnedVersionCountForTest(), 1u);
  }
  EXPECT_EQ(store->pinnedVersionCountForTest(), 0u);
}

TEST(MemStoreTest, CapacityTracksStoredBytes) {
  MemStoreOptions options;
  options.capacityBytes = 1u << 20;
  options.inlineThreshold = 1024;
  auto store = MemStore::create(options);
  STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
  STORE_ASSERT_OK(putBytes(*store, "b", "k", patternBytes(300 * 1024, 1)));
  auto c = store->capacity();
  STORE_ASSERT_OK(c);
  EXPECT_EQ(c->totalBytes, 1u << 20);
  EXPECT_EQ(c->freeBytes, (1u << 20) - 300 * 1024);
  EXPECT_EQ(c->objectCount, 1u);
  // 800 KiB more does not fit; after deleting the first object it does.
  STORE_EXPECT_CODE(putBytes(*store, "b", "k2", patternBytes(800 * 1024, 2)),
                    Code::kInsufficientStorage);
  STORE_ASSERT_OK(store->deleteObject("b", "k", nullptr));
  EXPECT_EQ(store->capacity()->freeBytes, 1u << 20);
  STORE_EXPECT_OK(putBytes(*store, "b", "k2", patternBytes(800 * 1024, 2)));
}

TEST(MemStoreTest, CustomInlineThreshold) {
  MemStoreOptions options;
  options.inlineThreshold = 16;
  auto store = MemStore::create(options);
  auto small = writeBytes(*store, "0123456789abcdef");
  auto large = writeBytes(*store, "0123456789abcdefg");
  STORE_ASSERT_OK(small);
  STORE_ASSERT_OK(large);
  EXPECT_EQ(small->kind, Extent::Kind::kInline);
  EXPECT_EQ(large->kind, Extent::Kind::kFile);
}

}  // namespace
}  // namespace ember::store::testing

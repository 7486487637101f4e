#include "store/local/local_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/local/local_test_util.h"
#include "store/store_conformance.h"
#include "store/store_conformance_append.h"
#include "store/store_conformance_multipart.h"
#include "store/store_test_util.h"

namespace ember::store::testing {
namespace {

class LocalEnv final : public ConformanceEnv {
 public:
  explicit LocalEnv(bool full) {
    LocalStoreOptions o = testOptions(dir_.path());
    if (full) {
      o.reserveBytes = 1ull << 62;
    }
    auto s = LocalStore::open(o);
    if (!s) {
      ADD_FAILURE() << "open: " << describe(s);
      std::abort();
    }
    store_ = *s;
  }
  ~LocalEnv() override {
    // Everything the store wrote must be accounted for when a test ends.
    if (store_ && !::testing::Test::HasFailure()) {
      store_->reclaimNow();
      EXPECT_EQ(dataFiles(dir_.path()), referencedFiles(*store_)) << "orphan or missing files";
    }
    store_.reset();
  }
  ObjectStore& store() override { return *store_; }
  size_t fileExtentCount() override {
    store_->reclaimNow();
    return dataFiles(dir_.path()).size();
  }
  uint64_t inlineThreshold() const override { return store_->options().inlineThreshold; }

 private:
  TempDir dir_;
  std::shared_ptr<LocalStore> store_;
};

struct LocalTraits {
  static std::unique_ptr<ConformanceEnv> make(bool full) {
    return std::make_unique<LocalEnv>(full);
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Local, StoreConformanceTest, LocalTraits);
INSTANTIATE_TYPED_TEST_SUITE_P(Local, StoreMultipartConformanceTest, LocalTraits);
INSTANTIATE_TYPED_TEST_SUITE_P(Local, StoreAppendConformanceTest, LocalTraits);

namespace {

std::shared_ptr<LocalStore> openStore(const LocalStoreOptions& o) {
  auto s = LocalStore::open(o);
  EXPECT_TRUE(static_cast<bool>(s)) << describe(s);
  return s ? *s : nullptr;
}

TEST(LocalStoreTest, OpenRequiresADataDir) {
  STORE_EXPECT_CODE(LocalStore::open(LocalStoreOptions()), Code::kInvalidArgument);
}

TEST(LocalStoreTest, SecondOpenOfTheSameDirectoryFails) {
  TempDir dir;
  auto first = openStore(testOptions(dir.path()));
  ASSERT_TRUE(first);
  auto second = LocalStore::open(testOptions(dir.path()));
  EXPECT_FALSE(static_cast<bool>(second)) << "RocksDB's LOCK keeps a second process out";
}

TEST(LocalStoreTest, FileExtentLayout) {
  TempDir dir;
  auto store = openStore(testOptions(dir.path()));
  ASSERT_TRUE(store);
  auto x = writeBytes(*store, patternBytes(100000, 1));
  STORE_ASSERT_OK(x);
  ASSERT_EQ(x->kind, Extent::Kind::kFile);
  std::string path = dir.path() + "/data/" + x->id.substr(0, 2) + "/" + x->id;
  EXPECT_EQ(std::filesystem::file_size(path), 100000u);
  auto marks = store->pendingMarkCountForTest();
  STORE_ASSERT_OK(marks);
  EXPECT_EQ(*marks, 1u) << "an uncommitted file is covered by a pending mark";
  STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
  STORE_ASSERT_OK(store->putObject(makeRecord("b", "k", {*x}), nullptr));
  EXPECT_EQ(*store->pendingMarkCountForTest(), 0u) << "the commit removes the mark";
}

TEST(LocalStoreTest, ReopenPersistsEverything) {
  TempDir dir;
  const std::string upload = "upload-persist-000000000000000000000000";
  const std::string open = "upload-open-00000000000000000000000000000";
  std::string small = patternBytes(3000, 1);
  std::string big = patternBytes(300000, 2);
  std::string many;
  std::string openPart1 = patternBytes(200000, 30);
  std::string openPart2 = patternBytes(500, 31);
  std::vector<uint64_t> sizes;
  {
    auto store = openStore(testOptions(dir.path()));
    ASSERT_TRUE(store);
    BucketRecord b = makeBucket("alpha");
    b.region = "dfw";
    STORE_ASSERT_OK(store->createBucket(b));
    STORE_ASSERT_OK(store->createBucket(makeBucket("beta")));
    auto x = writeBytes(*store, small);
    STORE_ASSERT_OK(x);
    ObjectRecord r = makeRecord("alpha", "small", {*x}, "e-small");
    r.userMeta = {{"k", "v"}};
    r.content.contentType = "text/plain";
    r.checksums = {{"CRC32", "abc="}};
    r.checksumType = "FULL_OBJECT";
    STORE_ASSERT_OK(store->putObject(r, nullptr));
    STORE_ASSERT_OK(putBytes(*store, "alpha", "big", big, "e-big"));
    STORE_ASSERT_OK(store->createUpload(makeUpload("beta", "many", upload)));
    std::vector<Extent> extents;
    for (uint32_t n = 1; n <= 40; ++n) {
      std::string d = patternBytes(n == 3 ? 70000 : 100 + n, 100 + n);
      auto p = writePart(*store, n, d);
      STORE_ASSERT_OK(p);
      STORE_ASSERT_OK(store->putPart(upload, *p));
      extents.push_back(p->extent);
      sizes.push_back(d.size());
      many += d;
    }
    ObjectRecord m = makeRecord("beta", "many", extents, "e-many-40");
    m.partSizes = sizes;
    STORE_ASSERT_OK(store->completeUpload(upload, m, nullptr));
    STORE_ASSERT_OK(store->createUpload(makeUpload("beta", "open", open)));
    auto p1 = writePart(*store, 1, openPart1);
    auto p2 = writePart(*store, 2, openPart2);
    STORE_ASSERT_OK(p1);
    STORE_ASSERT_OK(p2);
    STORE_ASSERT_OK(store->putPart(open, *p1));
    STORE_ASSERT_OK(store->putPart(open, *p2));
  }
  auto store = openStore(testOptions(dir.path()));
  ASSERT_TRUE(store);
  auto buckets = store->listBuckets();
  STORE_ASSERT_OK(buckets);
  ASSERT_EQ(buckets->size(), 2u);
  EXPECT_EQ((*buckets)[0].name, "alpha");
  EXPECT_EQ((*buckets)[0].region, "dfw");
  auto r = store->getObject("alpha", "small");
  STORE_ASSERT_OK(r);
  EXPECT_EQ(r->etag, "e-small");
  EXPECT_EQ(r->userMeta, (StringPairs{{"k", "v"}}));
  EXPECT_EQ(r->content.contentType, "text/plain");
  EXPECT_EQ(r->checksums, (StringPairs{{"CRC32", "abc="}}));
  EXPECT_EQ(*readObject(*store, "alpha", "small"), small);
  EXPECT_EQ(*readObject(*store, "alpha", "big"), big);
  auto m = store->getObject("beta", "many");
  STORE_ASSERT_OK(m);
  EXPECT_EQ(m->partSizes, sizes);
  EXPECT_EQ(*readObject(*store, "beta", "many"), many);
  EXPECT_EQ(listKeys(*store, "alpha"), (std::vector<std::string>{"big", "small"}));
  auto ups = store->listUploads("beta");
  STORE_ASSERT_OK(ups);
  ASSERT_TRUE((*ups)->valid());
  EXPECT_EQ((*ups)->record().uploadId, open);
  auto parts = store->listParts(open, 0, 100);
  STORE_ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].extent.data, openPart2);
  ObjectRecord done = makeRecord("beta", "open", {(*parts)[0].extent, (*parts)[1].extent}, "x-2");
  STORE_ASSERT_OK(store->completeUpload(open, done, nullptr));
  EXPECT_EQ(*readObject(*store, "beta", "open"), openPart1 + openPart2);
  EXPECT_EQ(*store->pendingMarkCountForTest(), 0u);
  EXPECT_EQ(dataFiles(dir.path()), referencedFiles(*store));
}

TEST(LocalStoreTest, FullVolumeRefusesWritesButServesReads) {
  TempDir dir;
  std::string small = patternBytes(1000, 1);
  std::string big = patternBytes(5u << 20, 2);
  const std::string upload = "upload-full-0000000000000000000000000000";
  {
    auto store = openStore(testOptions(dir.path()));
    ASSERT_TRUE(store);
    STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
    STORE_ASSERT_OK(putBytes(*store, "b", "small", small));
    STORE_ASSERT_OK(putBytes(*store, "b", "big", big));
    STORE_ASSERT_OK(store->createUpload(makeUpload("b", "mp", upload)));
  }
  LocalStoreOptions o = testOptions(dir.path());
  o.reserveBytes = 1ull << 62;
  auto store = openStore(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(*readObject(*store, "b", "small"), small);
  EXPECT_EQ(*readObject(*store, "b", "big"), big);
  STORE_EXPECT_CODE(putBytes(*store, "b", "new", big), Code::kInsufficientStorage);
  STORE_EXPECT_CODE(putBytes(*store, "b", "small", "overwrite"), Code::kInsufficientStorage);
  auto part = writePart(*store, 1, "inline part");
  STORE_ASSERT_OK(part);
  STORE_EXPECT_CODE(store->putPart(upload, *part), Code::kInsufficientStorage);
  STORE_EXPECT_CODE(writePart(*store, 2, big), Code::kInsufficientStorage);
  EXPECT_EQ(*readObject(*store, "b", "small"), small);
  EXPECT_TRUE(store->listParts(upload, 0, 10)->empty());
  STORE_EXPECT_CODE(store->getObject("b", "new"), Code::kNoSuchKey);
  // Deletes free space even now.
  STORE_ASSERT_OK(store->deleteObject("b", "big", nullptr));
  STORE_ASSERT_OK(store->abortUpload(upload));
  store->reclaimNow();
  EXPECT_EQ(dataFiles(dir.path()).size(), 0u);
  EXPECT_EQ(*store->pendingMarkCountForTest(), 0u);
}

TEST(LocalStoreTest, ReclaimMarksDoNotAccumulate) {
  TempDir dir;
  auto store = openStore(testOptions(dir.path()));
  ASSERT_TRUE(store);
  STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
  for (int i = 0; i < 600; ++i) {
    STORE_ASSERT_OK(putBytes(*store, "b", "k" + std::to_string(i % 5), patternBytes(100, i)));
  }
  store->reclaimNow();
  EXPECT_EQ(*store->pendingMarkCountForTest(), 0u);
}

TEST(LocalStoreTest, ConcurrentSmallPuts) {
  TempDir dir;
  auto store = openStore(testOptions(dir.path()));
  ASSERT_TRUE(store);
  STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
  constexpr int kThreads = 8;
  constexpr int kPuts = 100;
  std::string body = patternBytes(4096, 4);
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) {
        if (!putBytes(*store, "b", "t" + std::to_string(t) + "/" + std::to_string(i), body)) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] %d synced 4 KiB puts from %d threads: %.0f puts/s\n", kThreads * kPuts,
              kThreads, kThreads * kPuts / secs);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(listKeys(*store, "b").size(), static_cast<size_t>(kThreads * kPuts));
}

TEST(LocalStoreTest, UnsyncedModeWorks) {
  TempDir dir;
  LocalStoreOptions o = testOptions(dir.path());
  o.syncWrites = false;
  o.inlineThreshold = 0;
  auto store = openStore(o);
  ASSERT_TRUE(store);
  STORE_ASSERT_OK(store->createBucket(makeBucket("b")));
  STORE_ASSERT_OK(putBytes(*store, "b", "k", "all bytes go to files"));
  EXPECT_EQ(*readObject(*store, "b", "k"), "all bytes go to files");
  EXPECT_EQ(dataFiles(dir.path()).size(), 1u);
}

}  // namespace
}  // namespace ember::store::testing

namespace ember::store::testing {
namespace {

// The network-thread read path answers from memory or says kBusy; what it returns is always the
// same committed bytes the blocking path returns.
TEST(LocalStoreTest, CacheOnlyOpenMatchesBlockingOpen) {
  TempDir dir;
  std::string small = patternBytes(4096, 7);
  std::string big = patternBytes(200000, 8);
  {
    auto store = openStore(testOptions(dir.path()));
    ASSERT_TRUE(store);
    STORE_ASSERT_OK(store->createBucket(makeBucket("hot")));
    STORE_ASSERT_OK(putBytes(*store, "hot", "small", small, "e-small"));
    STORE_ASSERT_OK(putBytes(*store, "hot", "big", big, "e-big"));
  }
  auto store = openStore(testOptions(dir.path()));  // cold caches
  ASSERT_TRUE(store);
  for (const auto& [key, bytes] : {std::pair<std::string, std::string>{"small", small},
                                   {"big", big}}) {
    auto first = store->tryOpenObjectCached("hot", key);
    if (!first) {
      EXPECT_EQ(first.error().code(), Code::kBusy) << key;
    }
    auto blocking = store->openObject("hot", key);
    STORE_ASSERT_OK(blocking);
    auto viaBlocking = readAllBytes(**blocking);
    STORE_ASSERT_OK(viaBlocking);
    EXPECT_EQ(*viaBlocking, bytes);
    // After the blocking read warmed the caches, the cache-only path answers, identically.
    auto cached = store->tryOpenObjectCached("hot", key);
    STORE_ASSERT_OK(cached);
    auto viaCache = readAllBytes(**cached);
    STORE_ASSERT_OK(viaCache);
    EXPECT_EQ(*viaCache, bytes);
  }
  // A miss may need the disk to prove (kBusy); it is never reported as found.
  auto missing = store->tryOpenObjectCached("hot", "nope");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().code() == Code::kNoSuchKey || missing.error().code() == Code::kBusy)
      << missing.error().toString();
  EXPECT_EQ(codeOf(store->openObject("hot", "nope")), Code::kNoSuchKey);
}

}  // namespace
}  // namespace ember::store::testing

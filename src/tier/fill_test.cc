// Read-through fills (fill.h) against the in-memory cold store twin.
#include "tier/fill.h"

#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "tier/fill_test_util.h"

namespace ember::tier {
namespace {

TEST_F(FillTest, SequentialReadsReturnTheExactBytes) {
  startTier();
  Pool net(1);
  const std::vector<size_t> sizes = {5 * kChunk + 123, 0, 1, 3 * kChunk};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string key = fmt::format("obj{}", i);
    const std::string data = pattern(sizes[i], static_cast<unsigned>(i));
    cold_.putObject(key, data);
    const uint64_t chunks = (data.size() + kChunk - 1) / kChunk;

    auto fill = makeFill(key);
    ASSERT_TRUE(fill);
    EXPECT_EQ(fill->complete(), data.empty());
    auto got = asio::co_spawn(net.io, readAsync(fill, 0, data.size(), 10'000), asio::use_future);
    auto r = got.get();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(*r, data) << key;
    char c = 0;
    auto end = fill->readBlocking(data.size(), std::span<char>(&c, 1), data.size());
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, 0u);
    EXPECT_TRUE(fill->complete());
    EXPECT_EQ(fill->presentBytes(), data.size());
    EXPECT_EQ(fill->stats().chunkFetches, chunks);
    EXPECT_EQ(fill->stats().bytesFetched, data.size());

    // The blocking path, on a second fill of the same object.
    auto fill2 = makeFill(key);
    auto r2 = readBlocking(*fill2, 0, data.size(), 7'000);
    ASSERT_TRUE(r2) << r2.error().toString();
    EXPECT_EQ(*r2, data);
    EXPECT_EQ(fill2->stats().chunkFetches, chunks);
  }
}

TEST_F(FillTest, ConcurrentReadersShareOneFetchPerChunk) {
  startTier();
  const std::string data = pattern(20 * kChunk + 777, 7);
  cold_.putObject("big", data);
  cold_.setGetDelay(std::chrono::milliseconds(1));
  auto fill = makeFill("big");
  const uint64_t chunks = 21;

  Pool net(2);
  std::vector<std::future<Result<std::string>>> async;
  for (int i = 0; i < 28; ++i) {
    async.push_back(asio::co_spawn(net.io, readAsync(fill, 0, data.size(), 4096 + i * 1000),
                                   asio::use_future));
  }
  std::vector<std::future<Result<std::string>>> blocking;
  for (int i = 0; i < 4; ++i) {
    blocking.push_back(std::async(std::launch::async, [fill, &data, i] {
      return readBlocking(*fill, 0, data.size(), 50'000 + i);
    }));
  }
  for (auto* group : {&async, &blocking}) {
    for (auto& f : *group) {
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().toString();
      EXPECT_TRUE(*r == data);
    }
  }
  std::vector<uint64_t> asked = chunksAsked();
  std::multiset<uint64_t> once(asked.begin(), asked.end());
  EXPECT_EQ(asked.size(), chunks);
  for (uint64_t c = 0; c < chunks; ++c) {
    EXPECT_EQ(once.count(c), 1u) << "chunk " << c;
  }
  for (const auto& call : cold_.getCalls()) {
    ASSERT_TRUE(call.length.has_value());
    EXPECT_EQ(*call.length, std::min<uint64_t>(kChunk, data.size() - call.offset));
  }
  EXPECT_EQ(fill->stats().chunkFetches, chunks);
  EXPECT_EQ(fill->stats().bytesFetched, data.size());
  EXPECT_TRUE(fill->complete());
}

TEST_F(FillTest, RangeReadFetchesOnlyTheChunksOfItsWindow) {
  startTier();
  options_.readAhead = 4;
  const std::string data = pattern(10 * kChunk, 3);
  cold_.putObject("ten", data);
  Pool net(1);

  // Window [3.5, 5.5) chunks: chunks 3, 4 and 5, nothing after.
  {
    auto fill = makeFill("ten");
    auto reader = makeColdReader(fill, core::ObjectRecord{});
    const uint64_t from = 3 * kChunk + kChunk / 2;
    const uint64_t to = from + 2 * kChunk;
    reader->setWindow(from, to - from);
    auto r = asio::co_spawn(net.io, readWindow(reader.get(), from, to), asio::use_future).get();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(*r, data.substr(from, to - from));
    // Fetches are counted when started, before the read that started them returns.
    EXPECT_EQ(fill->stats().chunkFetches, 3u);
    std::vector<uint64_t> asked = chunksAsked();
    EXPECT_EQ(std::set<uint64_t>(asked.begin(), asked.end()), (std::set<uint64_t>{3, 4, 5}));
    EXPECT_FALSE(fill->complete());
  }
  // Window [2, 4) chunks, through the blocking half of the reader: chunks 2 and 3 only.
  {
    auto fill = makeFill("ten");
    auto reader = makeColdReader(fill, core::ObjectRecord{});
    reader->setWindow(2 * kChunk, 2 * kChunk);
    std::vector<char> buf(kChunk);
    for (uint64_t off = 2 * kChunk; off < 4 * kChunk; off += kChunk) {
      auto n = reader->readAt(off, std::span<char>(buf));
      ASSERT_TRUE(n) << n.error().toString();
      ASSERT_EQ(*n, kChunk);
      EXPECT_EQ(std::string(buf.data(), *n), data.substr(off, kChunk));
    }
    EXPECT_EQ(fill->stats().chunkFetches, 2u);
    EXPECT_EQ(fill->presentBytes(), 2 * kChunk);
  }
}

TEST_F(FillTest, FirstBytesAreServedBeforeTheWholeObjectIsFetched) {
  startTier();
  options_.readAhead = 4;
  options_.maxFetchesPerObject = 2;
  const std::string data = pattern(8 * kChunk, 4);
  cold_.putObject("eight", data);
  cold_.setGetDelay(std::chrono::milliseconds(2));
  auto fill = makeFill("eight");

  std::vector<char> buf(1000);
  auto n = fill->readBlocking(0, std::span<char>(buf), data.size());
  ASSERT_TRUE(n) << n.error().toString();
  ASSERT_EQ(*n, buf.size());
  EXPECT_EQ(std::string(buf.data(), *n), data.substr(0, buf.size()));
  // Chunk 0 first (read-ahead waits for the chunk asked for), then at most two read-ahead chunks
  // (two fetch slots): no more, and the object is far from complete.
  EXPECT_FALSE(fill->complete());
  EXPECT_LE(fill->stats().chunkFetches, 3u);
  EXPECT_LE(fill->presentBytes(), 3 * kChunk);

  auto rest = readBlocking(*fill, buf.size(), data.size(), 40'000);
  ASSERT_TRUE(rest) << rest.error().toString();
  EXPECT_TRUE(*rest == data.substr(buf.size()));
  EXPECT_TRUE(fill->complete());
  EXPECT_EQ(fill->stats().chunkFetches, 8u);
}

TEST_F(FillTest, AFailedFetchFailsItsWaitersAndIsFetchedAgain) {
  // The tier executor is driven by hand so every reader is waiting before the fetch ends.
  options_.readAhead = 0;
  const std::string data = pattern(2 * kChunk, 5);
  cold_.putObject("flaky", data);
  auto fill = makeFill("flaky");
  cold_.holdGets();
  cold_.failNextGets(1);

  std::vector<std::vector<char>> bufs(5, std::vector<char>(100));
  std::vector<std::future<Result<size_t>>> readers;
  for (auto& buf : bufs) {
    readers.push_back(asio::co_spawn(tier_, fill->read(10, std::span<char>(buf), data.size()),
                                     asio::use_future));
  }
  ASSERT_TRUE(pollUntil([&] { return cold_.counts().gets == 1; }));
  tier_.poll();
  EXPECT_EQ(cold_.counts().gets, 1u);  // single flight: five readers, one fetch
  for (auto& r : readers) {
    EXPECT_EQ(r.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  }
  cold_.releaseGets();
  ASSERT_TRUE(pollUntilAllReady(readers));
  for (auto& r : readers) {
    auto got = r.get();
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), Code::kUnavailable);
  }
  EXPECT_EQ(fill->presentBytes(), 0u);

  // The next reader fetches the chunk again, successfully.
  auto again = asio::co_spawn(tier_, readAsync(fill, 0, kChunk, 9'000), asio::use_future);
  ASSERT_TRUE(pollUntil([&] {
    return again.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }));
  auto r = again.get();
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(*r, data.substr(0, kChunk));
  EXPECT_EQ(chunksAsked(), (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(fill->stats().chunkFetches, 2u);
  EXPECT_FALSE(fill->stale());
}

TEST_F(FillTest, FetchesBeyondTheCapWaitTheirTurn) {
  options_.readAhead = 0;
  options_.maxFetchesPerObject = 1;
  const std::string data = pattern(3 * kChunk, 11);
  cold_.putObject("capped", data);
  auto fill = makeFill("capped");
  cold_.holdGets();

  std::vector<std::vector<char>> bufs(3, std::vector<char>(kChunk));
  std::vector<std::future<Result<size_t>>> readers;
  for (uint64_t c : {2u, 0u, 1u}) {
    readers.push_back(asio::co_spawn(
        tier_, fill->read(c * kChunk, std::span<char>(bufs[readers.size()]), data.size()),
        asio::use_future));
  }
  ASSERT_TRUE(pollUntil([&] { return cold_.counts().gets == 1; }));
  tier_.poll();
  EXPECT_EQ(cold_.counts().gets, 1u);  // the other two chunks are queued behind it
  EXPECT_EQ(fill->stats().chunkFetches, 1u);
  cold_.releaseGets();
  ASSERT_TRUE(pollUntil([&] { return fill->complete(); }));
  for (size_t i = 0; i < readers.size(); ++i) {
    ASSERT_TRUE(pollUntil([&] {
      return readers[i].wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    }));
    auto n = readers[i].get();
    ASSERT_TRUE(n) << n.error().toString();
    EXPECT_EQ(*n, kChunk);
  }
  const uint64_t order[] = {2, 0, 1};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::string(bufs[i].data(), kChunk) == data.substr(order[i] * kChunk, kChunk));
  }
  EXPECT_EQ(chunksAsked(), (std::vector<uint64_t>{2, 0, 1}));  // queued in order of need
}

TEST_F(FillTest, AnEtagChangeMidFillMakesTheFillStale) {
  startTier();
  options_.readAhead = 0;
  const std::string data = pattern(4 * kChunk, 6);
  cold_.putObject("moving", data);
  auto fill = makeFill("moving");

  auto first = readBlocking(*fill, 0, kChunk, kChunk);
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(*first, data.substr(0, kChunk));
  EXPECT_FALSE(fill->stale());

  cold_.putObject("moving", pattern(4 * kChunk, 66));  // a new version, new ETag
  std::vector<char> buf(100);
  auto next = fill->readBlocking(kChunk, std::span<char>(buf), data.size());
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), Code::kPreconditionFailed);
  EXPECT_TRUE(fill->stale());
  EXPECT_FALSE(fill->complete());
  // Every later read fails too, even of a chunk that is present.
  auto present = fill->readBlocking(0, std::span<char>(buf), data.size());
  ASSERT_FALSE(present);
  EXPECT_EQ(present.error().code(), Code::kPreconditionFailed);
}

TEST_F(FillTest, StalenessWakesTheWaitersOfEveryChunk) {
  options_.readAhead = 0;
  const std::string data = pattern(4 * kChunk, 8);
  cold_.putObject("moving", data);
  auto fill = makeFill("moving");
  cold_.holdGets();

  std::vector<std::vector<char>> bufs(3, std::vector<char>(100));
  std::vector<std::future<Result<size_t>>> readers;
  const uint64_t offsets[] = {kChunk, kChunk + 5, 2 * kChunk};
  for (size_t i = 0; i < 3; ++i) {
    readers.push_back(asio::co_spawn(
        tier_, fill->read(offsets[i], std::span<char>(bufs[i]), data.size()), asio::use_future));
  }
  ASSERT_TRUE(pollUntil([&] { return cold_.counts().gets == 2; }));
  cold_.putObject("moving", pattern(4 * kChunk, 88));
  cold_.releaseGets();
  ASSERT_TRUE(pollUntilAllReady(readers));
  for (auto& r : readers) {
    auto got = r.get();
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), Code::kPreconditionFailed);
  }
  EXPECT_TRUE(fill->stale());
  EXPECT_EQ(fill->presentBytes(), 0u);
}

TEST_F(FillTest, OnCompleteRunsOnceOnTheTierThreadAndTheFileHoldsTheObject) {
  startTier();
  const std::string data = pattern(3 * kChunk + kChunk / 2, 9);
  cold_.putObject("whole", data);
  auto fill = makeFill("whole");
  std::atomic<int> runs{0};
  std::promise<std::thread::id> ran;
  fill->setOnComplete([&] {
    if (runs++ == 0) {
      ran.set_value(std::this_thread::get_id());
    }
  });
  auto r = readBlocking(*fill, 0, data.size(), 20'000);
  ASSERT_TRUE(r) << r.error().toString();
  auto where = ran.get_future();
  ASSERT_EQ(where.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(where.get(), tierId_);
  EXPECT_TRUE(fill->complete());

  // Reading it again fetches nothing and does not run the callback again.
  auto again = readBlocking(*fill, 0, data.size(), 100'000);
  ASSERT_TRUE(again);
  EXPECT_EQ(cold_.counts().gets, 4u);
  std::promise<void> barrier;  // everything queued on the tier thread before it has run
  asio::post(tier_, [&] { barrier.set_value(); });
  barrier.get_future().wait();
  EXPECT_EQ(runs.load(), 1);

  std::ifstream in(fill->path(), std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(file.str() == data);

  // A callback set on a complete fill (here an empty object's) runs once, on the executor.
  cold_.putObject("empty", "");
  auto empty = makeFill("empty");
  std::promise<void> emptyRan;
  empty->setOnComplete([&] { emptyRan.set_value(); });
  EXPECT_EQ(emptyRan.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST_F(FillTest, TheFillFileIsRemovedWithTheFill) {
  startTier();
  cold_.putObject("gone", pattern(kChunk + 1, 10));
  auto fill = makeFill("gone");
  const auto path = fill->path();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(path.parent_path(), options_.dir);
  fill.reset();
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace ember::tier

// The in-memory cold store twin (mem_cold_store.h) keeps the ColdStore contract other tests use.
#include "tier/mem_cold_store.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace ember::tier {
namespace {

class StringSink final : public ByteSink {
 public:
  asio::awaitable<Status> write(std::span<const char> data) override {
    out.append(data.data(), data.size());
    ++writes;
    co_return Status::ok();
  }
  std::string out;
  int writes = 0;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string s) : data_(std::move(s)) {}
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    const size_t n = std::min(buf.size(), data_.size() - at_);
    std::copy_n(data_.data() + at_, n, buf.data());
    at_ += n;
    co_return n;
  }

 private:
  std::string data_;
  size_t at_ = 0;
};

class MemColdStoreTest : public ::testing::Test {
 protected:
  template <typename T>
  T run(asio::awaitable<T> aw) {
    auto fut = asio::co_spawn(io_, std::move(aw), asio::use_future);
    io_.restart();
    io_.run();
    return fut.get();
  }
  Result<std::string> get(const std::string& key, std::optional<cold::ByteRange> range) {
    StringSink sink;
    auto r = run(store_.get(key, range, sink));
    if (!r) {
      return unexpected(r.error());
    }
    return sink.out;
  }
  // Every key of a listing, paging with maxKeys; prefixes marked with a trailing '*'.
  std::vector<std::string> listAll(const std::string& prefix, int maxKeys,
                                   std::optional<std::string> delimiter, int* pages = nullptr) {
    std::vector<std::string> out;
    std::string marker;
    int n = 0;
    do {
      auto page = run(store_.list(prefix, marker, maxKeys, delimiter));
      EXPECT_TRUE(page);
      if (!page) {
        break;
      }
      ++n;
      EXPECT_LE(page->objects.size() + page->prefixes.size(), static_cast<size_t>(maxKeys));
      for (const auto& o : page->objects) {
        out.push_back(o.key);
      }
      for (const auto& p : page->prefixes) {
        out.push_back(p + "*");
      }
      marker = page->nextMarker;
    } while (!marker.empty());
    if (pages) {
      *pages = n;
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  asio::io_context io_;
  MemColdStore store_{io_.get_executor()};
};

TEST_F(MemColdStoreTest, GetHonoursRangesAndCountsCalls) {
  const std::string data(200'000, 'x');
  const std::string etag = store_.putObject("k", data);
  auto whole = get("k", std::nullopt);
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, data);
  auto mid = get("k", cold::ByteRange{10, 5});
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->size(), 5u);
  auto tail = get("k", cold::ByteRange{199'990, 100});  // cut at the end
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->size(), 10u);
  auto open = get("k", cold::ByteRange{100'000, std::nullopt});
  ASSERT_TRUE(open);
  EXPECT_EQ(open->size(), 100'000u);
  auto past = get("k", cold::ByteRange{200'000, 1});
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code(), Code::kInvalidRange);
  auto missing = get("nope", std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);

  EXPECT_EQ(store_.counts().gets, 6u);
  ASSERT_EQ(store_.getCalls().size(), 6u);
  EXPECT_EQ(store_.getCalls()[1].offset, 10u);
  EXPECT_EQ(store_.getCalls()[1].length, std::optional<uint64_t>(5));

  auto head = run(store_.head("k"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, etag);

  store_.failNextGets(1);
  auto failed = get("k", std::nullopt);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Code::kUnavailable);
  EXPECT_TRUE(get("k", std::nullopt));
}

TEST_F(MemColdStoreTest, PutAndDelete) {
  StringSource src("hello");
  auto etag = run(store_.put("a/b", src, 5, cold::PutOptions{}));
  ASSERT_TRUE(etag);
  EXPECT_EQ(store_.object("a/b")->bytes, "hello");
  EXPECT_EQ(store_.object("a/b")->etag, *etag);
  StringSource shortSrc("hel");
  auto bad = run(store_.put("a/c", shortSrc, 5, cold::PutOptions{}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kIncompleteBody);
  EXPECT_FALSE(store_.object("a/c"));
  EXPECT_TRUE(run(store_.del("a/b")));
  EXPECT_EQ(run(store_.del("a/b")).code(), Code::kNotFound);
  EXPECT_EQ(store_.counts().puts, 2u);
  EXPECT_EQ(store_.counts().dels, 2u);
}

TEST_F(MemColdStoreTest, ListPagesWithPrefixMarkerAndDelimiter) {
  for (const char* k : {"a", "b/1", "b/2", "b/3/x", "c/1", "c/2", "d", "e/f/g"}) {
    store_.putObject(k, "v");
  }
  using V = std::vector<std::string>;
  const V flat = {"a", "b/1", "b/2", "b/3/x", "c/1", "c/2", "d", "e/f/g"};
  const V rolled = {"a", "b/*", "c/*", "d", "e/*"};
  for (int maxKeys : {1, 2, 3, 1000}) {
    int pages = 0;
    EXPECT_EQ(listAll("", maxKeys, std::nullopt, &pages), flat) << maxKeys;
    EXPECT_EQ(pages, (8 + maxKeys - 1) / maxKeys);
    EXPECT_EQ(listAll("", maxKeys, "/", &pages), rolled) << maxKeys;
    EXPECT_EQ(pages, (5 + maxKeys - 1) / maxKeys);
    EXPECT_EQ(listAll("b/", maxKeys, "/"), (V{"b/1", "b/2", "b/3/*"})) << maxKeys;
    EXPECT_EQ(listAll("c", maxKeys, std::nullopt), (V{"c/1", "c/2"})) << maxKeys;
  }
  EXPECT_TRUE(listAll("zz", 10, "/").empty());
  auto page = run(store_.list("", "b/", 2, std::string("/")));  // after the "b/" roll-up
  ASSERT_TRUE(page);
  ASSERT_EQ(page->prefixes.size(), 1u);
  EXPECT_EQ(page->prefixes[0], "c/");
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "d");
  EXPECT_EQ(page->nextMarker, "d");
  EXPECT_FALSE(run(store_.list("", "", 0, std::nullopt)));
}

}  // namespace
}  // namespace ember::tier

#pragma once
// Test harness for the core tests (objects, blocks, appends, leases, bucket metadata) over the
// in-memory store twin: coroutines run to completion on a private io_context.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "core/namespace.h"
#include "store/mem/mem_store.h"

namespace ember::core::testing {

// A ByteSource over a string that hands out bytes in small uneven pieces.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data, size_t piece = 7777)
      : data_(std::move(data)), piece_(piece) {}
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    size_t n = std::min({buf.size(), data_.size() - pos_, piece_});
    std::copy_n(data_.data() + pos_, n, buf.data());
    pos_ += n;
    co_return n;
  }

 private:
  std::string data_;
  size_t piece_;
  size_t pos_ = 0;
};

class StringSink : public ByteSink {
 public:
  asio::awaitable<Status> write(std::span<const char> data) override {
    out.append(data.data(), data.size());
    co_return Status::ok();
  }
  std::string out;
};

inline std::string pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(seed + (i * 31) % 97);
  }
  return s;
}

template <typename T>
Code codeOf(const Result<T>& r) {
  return r ? Code::kOk : r.error().code();
}
inline Code codeOf(const Status& s) { return s.code(); }

class BlobCoreTestBase : public ::testing::Test {
 protected:
  explicit BlobCoreTestBase(NamespaceOptions o = defaultOptions())
      : pool_(2), mem_(store::MemStore::create()), ns_(mem_, pool_, o) {}

  static NamespaceOptions defaultOptions() {
    NamespaceOptions o;
    o.ioChunkBytes = 4096;
    return o;
  }

  void SetUp() override { ASSERT_TRUE(run(ns_.createBucket("bkt", "alice", "")).isOk()); }

  template <typename T>
  T run(asio::awaitable<T> aw) {
    auto fut = asio::co_spawn(ioc_, std::move(aw), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return fut.get();
  }

  Result<ObjectRecord> put(const std::string& key, const std::string& data,
                           store::ObjectKind kind = store::ObjectKind::kBlock,
                           store::CommitCheck check = nullptr) {
    PutInput in;
    in.bucket = "bkt";
    in.key = key;
    in.owner = "alice";
    in.expectedSize = data.size();
    in.kind = kind;
    in.check = std::move(check);
    StringSource src(data);
    return run(ns_.putObject(std::move(in), src));
  }

  Result<std::string> get(const std::string& key) {
    ReadInput in;
    in.bucket = "bkt";
    in.key = key;
    auto h = run(ns_.openRead(std::move(in)));
    if (!h) {
      return unexpected(h.error());
    }
    StringSink sink;
    Status s = run(ns_.streamRead(*h, sink));
    if (!s) {
      return unexpected(s);
    }
    return sink.out;
  }

  Result<PartRecord> stage(const std::string& key, const std::string& id, const std::string& data,
                           BodyVerifier verify = nullptr) {
    StageBlockInput in;
    in.bucket = "bkt";
    in.key = key;
    in.blockId = id;
    in.owner = "alice";
    in.expectedSize = data.size();
    in.verify = std::move(verify);
    StringSource src(data);
    return run(ns_.stageBlock(std::move(in), src));
  }

  Result<ObjectRecord> commit(const std::string& key, std::vector<BlockRefInput> blocks,
                              store::CommitCheck check = nullptr) {
    CommitBlocksInput in;
    in.bucket = "bkt";
    in.key = key;
    in.owner = "alice";
    in.blocks = std::move(blocks);
    in.check = std::move(check);
    return run(ns_.commitBlockList(std::move(in)));
  }

  Result<BlockListView> blocks(const std::string& key) {
    return run(ns_.getBlockList("bkt", key, true, true));
  }

  size_t files() { return mem_->fileExtentCountForTest(); }

  asio::io_context ioc_;
  BlockingPool pool_;
  std::shared_ptr<store::MemStore> mem_;
  Namespace ns_;
};

inline BlockRefInput latest(std::string id) { return {BlockSource::kLatest, std::move(id)}; }
inline BlockRefInput committedRef(std::string id) {
  return {BlockSource::kCommitted, std::move(id)};
}
inline BlockRefInput uncommittedRef(std::string id) {
  return {BlockSource::kUncommitted, std::move(id)};
}

}  // namespace ember::core::testing

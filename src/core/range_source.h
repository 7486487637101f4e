#pragma once
// A ByteSource over a ReadHandle's range: lets server-side copies (UploadPartCopy, Put Block From
// URL) reuse the streaming write path of uploads. Reads run on the blocking pool.

#include <algorithm>

#include "core/namespace.h"

namespace ember::core {

class RangeSource : public ByteSource {
 public:
  // `h` must outlive the source; reads cover [h.offset, h.offset + h.length).
  RangeSource(ReadHandle& h, BlockingPool& pool) : h_(h), pool_(pool) {}

  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    uint64_t left = h_.length - done_;
    if (left == 0) {
      co_return size_t{0};
    }
    std::span<char> want = buf.first(static_cast<size_t>(std::min<uint64_t>(buf.size(), left)));
    uint64_t at = h_.offset + done_;
    auto n = co_await offload(pool_, [this, at, want] { return h_.reader->readAt(at, want); });
    EMBER_CO_TRY(n);
    if (*n == 0) {
      co_return unexpected(Code::kCorruption, "source object shorter than its record");
    }
    done_ += *n;
    co_return *n;
  }

 private:
  ReadHandle& h_;
  BlockingPool& pool_;
  uint64_t done_ = 0;
};

}  // namespace ember::core

#pragma once
// Internal to src/http: a connection's receive buffer. Bytes are appended at the back by socket
// reads and consumed from the front by the decoder; the live bytes stay contiguous because Beast
// needs a complete head in one piece.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace ember::http::detail {

class ReadBuffer {
 public:
  std::string_view data() const { return {buf_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return cap_; }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ >= end_) {
      begin_ = end_ = 0;
    }
  }

  // Returns the free space at the back after making room: the buffer grows to `capacity` if it is
  // smaller, and live bytes move to the front when less than half of it is free at the back.
  // Empty only when the live bytes fill the whole buffer.
  std::span<char> prepare(size_t capacity) {
    if (capacity > cap_) {
      auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
      if (!empty()) {
        std::memcpy(bigger.get(), buf_.get() + begin_, size());
      }
      end_ = size();
      begin_ = 0;
      buf_ = std::move(bigger);
      cap_ = capacity;
    } else if (begin_ > 0 && cap_ - end_ < cap_ / 2) {
      std::memmove(buf_.get(), buf_.get() + begin_, size());
      end_ = size();
      begin_ = 0;
    }
    return {buf_.get() + end_, cap_ - end_};
  }

  void commit(size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace ember::http::detail

// Connection::BodyReader: the request body as a ByteSource. Content-Length bodies bypass the
// parser (large reads go straight from the socket into the handler's buffer); chunked bodies go
// through RequestDecoder::putBody from the connection's receive buffer.

#include <algorithm>
#include <cstring>

#include <boost/asio/error.hpp>

#include "http/connection.h"

namespace ember::http::detail {

namespace {

constexpr size_t kReadBuffer = 8 * 1024;
constexpr size_t kChunkedReadBuffer = 64 * 1024;
// Handler buffers at least this large are filled directly by the socket read.
constexpr size_t kDirectReadMin = 8 * 1024;
constexpr size_t kDrainBuffer = 16 * 1024;

}  // namespace

void Connection::BodyReader::reset() {
  read_ = 0;
  done_ = c_.decoder_.framing() == BodyFraming::kNone;
  continuePending_ = c_.decoder_.expectContinue();
  continueSent_ = false;
  status_ = Status();
}

std::optional<uint64_t> Connection::BodyReader::contentLength() const {
  return c_.req_.contentLength;
}

Status Connection::BodyReader::fail(Status s) {
  status_ = s;
  return s;
}

Status Connection::BodyReader::ioError(const ErrorCode& ec) const {
  if (c_.forced_) {
    return Status(Code::kUnavailable, "server is shutting down");
  }
  if (c_.timedOut_ || ec == asio::error::timed_out) {
    return Status(Code::kTimeout, "request body stalled");
  }
  if (ec == asio::error::eof) {
    return Status(Code::kIncompleteBody, "client closed the connection before the end of the body");
  }
  return Status(Code::kIncompleteBody, "reading the request body: " + ec.message());
}

asio::awaitable<Result<size_t>> Connection::BodyReader::read(std::span<char> buf) {
  if (!status_.isOk()) {
    co_return unexpected(status_);
  }
  if (done_) {
    co_return size_t{0};
  }
  if (buf.empty()) {
    co_return unexpected(Code::kInvalidArgument, "read into an empty buffer");
  }
  if (continuePending_) {
    continuePending_ = false;
    // Once a final response is on the wire an interim one may no longer be sent.
    if (!c_.writer_.flushedAny()) {
      asio::const_buffer b(kContinueResponse.data(), kContinueResponse.size());
      ErrorCode ec = co_await c_.writeAll(&b, 1);
      if (ec) {
        co_return unexpected(fail(Status(Code::kUnavailable, "sending 100 Continue failed")));
      }
      continueSent_ = true;
    }
  }
  if (c_.decoder_.framing() == BodyFraming::kContentLength) {
    co_return co_await readLength(buf);
  }
  co_return co_await readChunked(buf);
}

asio::awaitable<Result<size_t>> Connection::BodyReader::readLength(std::span<char> buf) {
  const uint64_t length = *c_.req_.contentLength;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), length - read_));
  const TimePoint deadline = Clock::now() + c_.core_->options.bodyStallTimeout;
  size_t n = 0;
  if (c_.rbuf_.empty() && want >= kDirectReadMin) {
    auto [ec, got] = co_await c_.readSome(buf.first(want), deadline);
    if (ec) {
      co_return unexpected(fail(ioError(ec)));
    }
    n = got;
  } else {
    if (c_.rbuf_.empty()) {
      std::span<char> space = c_.rbuf_.prepare(std::max(kReadBuffer, c_.rbuf_.capacity()));
      auto [ec, got] = co_await c_.readSome(space, deadline);
      if (ec) {
        co_return unexpected(fail(ioError(ec)));
      }
      c_.rbuf_.commit(got);
    }
    n = std::min(want, c_.rbuf_.size());
    std::memcpy(buf.data(), c_.rbuf_.data().data(), n);
    c_.rbuf_.consume(n);
  }
  read_ += n;
  done_ = read_ == length;
  co_return n;
}

asio::awaitable<Result<size_t>> Connection::BodyReader::readChunked(std::span<char> buf) {
  for (;;) {
    if (!c_.rbuf_.empty()) {
      Result<RequestDecoder::BodyStep> step = c_.decoder_.putBody(c_.rbuf_.data(), buf);
      if (!step) {
        co_return unexpected(fail(step.error()));
      }
      c_.rbuf_.consume(step->consumed);
      read_ += step->produced;
      done_ = step->done;
      if (step->produced > 0 || done_) {
        co_return step->produced;
      }
    }
    // The decoder needs more input (it stops only when out of input or output).
    std::span<char> space = c_.rbuf_.prepare(std::max(kChunkedReadBuffer, c_.rbuf_.capacity()));
    if (space.empty()) {
      co_return unexpected(
          fail(Status(Code::kInvalidArgument, "chunk header or trailer too long")));
    }
    auto [ec, got] =
        co_await c_.readSome(space, Clock::now() + c_.core_->options.bodyStallTimeout);
    if (ec) {
      co_return unexpected(fail(ioError(ec)));
    }
    c_.rbuf_.commit(got);
  }
}

asio::awaitable<bool> Connection::BodyReader::drain(uint64_t limit) {
  if (done_) {
    co_return true;
  }
  if (c_.decoder_.framing() == BodyFraming::kContentLength &&
      *c_.req_.contentLength - read_ > limit) {
    co_return false;
  }
  auto scratch = std::make_unique_for_overwrite<char[]>(kDrainBuffer);
  uint64_t drained = 0;
  while (!done_ && drained < limit) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kDrainBuffer, limit - drained));
    Result<size_t> r = co_await read(std::span<char>(scratch.get(), n));
    if (!r) {
      co_return false;
    }
    drained += *r;
  }
  co_return done_;
}

}  // namespace ember::http::detail

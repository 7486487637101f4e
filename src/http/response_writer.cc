// Connection::Writer: the ResponseWriter handed to handlers, and ResponseWriter::respond().
//
// start() only serializes the head into the connection's write buffer; the first write() or
// finish() sends it, so a small response (head + body) leaves in one send, and a large body goes
// out as one gathered write (head, chunk framing and the caller's bytes, no copy).

#include <boost/asio/error.hpp>
#include <fmt/format.h>

#include "http/connection.h"
#include "http/response_head.h"

namespace ember::http {

asio::awaitable<Status> ResponseWriter::respond(Response head, std::string_view body) {
  Status s = co_await start(std::move(head), body.size());
  if (!s.isOk()) {
    co_return s;
  }
  s = co_await write(std::span<const char>(body.data(), body.size()));
  if (!s.isOk()) {
    co_return s;
  }
  co_return co_await finish();
}

asio::awaitable<Result<std::string>> readWholeBody(RequestBody& body, size_t max) {
  if (body.contentLength() && *body.contentLength() > max) {
    co_return unexpected(Code::kEntityTooLarge, "The request body is too large.");
  }
  std::string out;
  char buf[16 * 1024];
  for (;;) {
    auto n = co_await body.read(std::span<char>(buf, sizeof(buf)));
    EMBER_CO_TRY(n);
    if (*n == 0) {
      break;
    }
    out.append(buf, *n);
    if (out.size() > max) {
      co_return unexpected(Code::kEntityTooLarge, "The request body is too large.");
    }
  }
  co_return out;
}

namespace detail {

namespace {

// Bodies up to this size are copied behind the head and sent with it in one buffer.
constexpr size_t kCoalesceLimit = 16 * 1024;

}  // namespace

void Connection::Writer::reset(bool isHead, bool http10, bool clientKeepAlive) {
  isHead_ = isHead;
  http10_ = http10;
  clientKeepAlive_ = clientKeepAlive;
  started_ = false;
  finished_ = false;
  incomplete_ = false;
  broken_ = false;
  closeAfter_ = false;
  flushedAny_ = false;
  mode_ = Mode::kNone;
  remaining_ = 0;
  bodyBytes_ = 0;
  status_ = 0;
  c_.wbuf_.clear();
}

asio::awaitable<Status> Connection::Writer::start(Response head,
                                                  std::optional<uint64_t> contentLength) {
  if (started_) {
    co_return Status(Code::kInvalidArgument, "response already started");
  }
  if (head.status < 200 || head.status > 599) {
    co_return Status(Code::kInvalidArgument, fmt::format("invalid status {}", head.status));
  }
  HeadOptions opts;
  bool noBody = isHead_ || head.status == 204 || head.status == 304;
  if (noBody) {
    mode_ = Mode::kNone;
    opts.framing = ResponseFraming::kNone;
    // HEAD advertises the length a GET would have; 204/304 carry no framing at all.
    opts.headContentLength = isHead_ && contentLength.has_value() && head.status != 204 &&
                             head.status != 304;
    opts.contentLength = contentLength.value_or(0);
  } else if (contentLength) {
    mode_ = Mode::kLength;
    remaining_ = *contentLength;
    opts.framing = ResponseFraming::kContentLength;
    opts.contentLength = *contentLength;
  } else if (http10_) {
    mode_ = Mode::kUntilClose;  // HTTP/1.0 has no chunked encoding: the close ends the body
    opts.framing = ResponseFraming::kUntilClose;
  } else {
    mode_ = Mode::kChunked;
    opts.framing = ResponseFraming::kChunked;
  }
  bool close = c_.willClose() || mode_ == Mode::kUntilClose;
  opts.close = close;
  opts.keepAlive = !close && http10_ && clientKeepAlive_;
  c_.wbuf_.clear();
  if (!appendResponseHead(c_.wbuf_, head, opts)) {
    c_.wbuf_.clear();
    mode_ = Mode::kNone;
    co_return Status(Code::kInvalidArgument, "response header with an invalid name or value");
  }
  // A response that announced "Connection: close" must be followed by a close.
  closeAfter_ = closeAfter_ || close;
  started_ = true;
  status_ = head.status;
  co_return Status();
}

asio::awaitable<Status> Connection::Writer::write(std::span<const char> data) {
  if (!started_) {
    co_return Status(Code::kInvalidArgument, "write() before start()");
  }
  if (broken_) {
    co_return Status(Code::kUnavailable, "the client connection is gone");
  }
  if (finished_) {
    co_return Status(Code::kInvalidArgument, "write() after finish()");
  }
  if (data.empty() || mode_ == Mode::kNone) {
    co_return Status();  // HEAD, 204 and 304 ignore body bytes
  }
  if (mode_ == Mode::kLength) {
    if (data.size() > remaining_) {
      closeAfter_ = true;
      co_return Status(Code::kInvalidArgument, "response body longer than its Content-Length");
    }
    remaining_ -= data.size();
  } else if (mode_ == Mode::kChunked) {
    appendChunkHeader(c_.wbuf_, data.size());
  }
  bodyBytes_ += data.size();
  std::string_view trailer = mode_ == Mode::kChunked ? "\r\n" : "";
  co_return co_await flush(data, trailer);
}

asio::awaitable<Status> Connection::Writer::finish() {
  if (!started_) {
    co_return Status(Code::kInvalidArgument, "finish() before start()");
  }
  if (finished_) {
    if (broken_) {
      co_return Status(Code::kUnavailable, "the client connection is gone");
    }
    co_return incomplete_ ? Status(Code::kIncompleteBody, "response body incomplete") : Status();
  }
  finished_ = true;
  if (broken_) {
    co_return Status(Code::kUnavailable, "the client connection is gone");
  }
  if (mode_ == Mode::kLength && remaining_ > 0) {
    // The connection closes after this: the client detects the truncation by the length. The
    // head still goes out so that the client sees what the handler meant to send.
    incomplete_ = true;
    closeAfter_ = true;
    uint64_t missing = remaining_;
    if (!c_.wbuf_.empty()) {
      Status ignored = co_await flush({}, {});
      ignored.ignoreError();
    }
    co_return Status(Code::kIncompleteBody,
                     fmt::format("response ended {} bytes short of its Content-Length", missing));
  }
  std::string_view last = mode_ == Mode::kChunked ? "0\r\n\r\n" : "";
  if (c_.wbuf_.empty() && last.empty()) {
    co_return Status();
  }
  co_return co_await flush({}, last);
}

asio::awaitable<Status> Connection::Writer::flush(std::span<const char> data,
                                                  std::string_view trailer) {
  std::string& w = c_.wbuf_;
  ErrorCode ec;
  if (w.size() + data.size() + trailer.size() <= kCoalesceLimit) {
    w.append(data.data(), data.size());
    w.append(trailer);
    asio::const_buffer b(w.data(), w.size());
    ec = co_await c_.writeAll(&b, 1);
  } else {
    asio::const_buffer bufs[3] = {asio::const_buffer(w.data(), w.size()),
                                  asio::const_buffer(data.data(), data.size()),
                                  asio::const_buffer(trailer.data(), trailer.size())};
    ec = co_await c_.writeAll(bufs, 3);
  }
  w.clear();
  if (ec) {
    broken_ = true;
    closeAfter_ = true;
    if (c_.forced_) {
      co_return Status(Code::kUnavailable, "server is shutting down");
    }
    if (ec == asio::error::timed_out) {
      co_return Status(Code::kTimeout, "response write stalled");
    }
    co_return Status(Code::kUnavailable, "writing the response: " + ec.message());
  }
  flushedAny_ = true;
  co_return Status();
}

}  // namespace detail
}  // namespace ember::http

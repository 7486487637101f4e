#pragma once
// Streaming byte interfaces shared by the HTTP layer, the protocol adapters and the namespace core.
// Bodies are never held whole in memory: data flows through these in bounded chunks.

#include <cstddef>
#include <span>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"

namespace ember {

namespace asio = boost::asio;

// A pull-based source of bytes, e.g. a request body after transfer/aws-chunked decoding.
// Single consumer; read() must not be called again before the previous call completes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to buf.size() bytes. Returns the number of bytes read; 0 means end of stream.
  // Errors: kIncompleteBody (peer closed early), kTimeout, kSignatureMismatch / kBadDigest from
  // verifying decoders, kEntityTooLarge.
  virtual asio::awaitable<Result<size_t>> read(std::span<char> buf) = 0;
};

// A push-based sink, e.g. a response body.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of data or fails (the peer went away: kUnavailable).
  virtual asio::awaitable<Status> write(std::span<const char> data) = 0;
};

}  // namespace ember

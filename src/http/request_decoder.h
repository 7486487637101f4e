#pragma once
// Internal to src/http: the incremental HTTP/1.1 request decoder. It is the whole parsing and
// validation half of the server, without sockets, so that unit tests and the fuzzer
// (tests/fuzz/fuzz_http_request.cc) drive exactly the code the connections run. Beast's
// basic_parser does the syntax; this class adds Ember's limits and request-smuggling rules and
// fills an http::Request directly (no intermediate field container).
//
// One decoder serves a connection for its lifetime: reset() before every request. Not
// thread-safe; it belongs to one connection's executor.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/http.h"

namespace ember::http {

struct DecoderLimits {
  size_t maxHeaderBytes = 64 * 1024;  // request line + fields + final CRLF
  size_t maxHeaderCount = 200;        // fields in the head (and, separately, in chunk trailers)
  uint64_t maxBodyBytes = 5ULL << 40;
};

enum class BodyFraming {
  kNone,           // no body (no Content-Length, or Content-Length: 0)
  kContentLength,  // exactly Request::contentLength bytes follow the head
  kChunked,        // Transfer-Encoding: chunked
};

class RequestDecoder {
 public:
  explicit RequestDecoder(DecoderLimits limits);
  ~RequestDecoder();
  RequestDecoder(const RequestDecoder&) = delete;
  RequestDecoder& operator=(const RequestDecoder&) = delete;

  // Starts a new request whose head will be written into *req: method, target, path, query,
  // headers, contentLength and keepAlive are cleared now (strings keep their capacity) and filled
  // by putHead(). The other fields of Request belong to the caller. *req must outlive the request.
  void reset(Request* req);

  enum class HeadState { kNeedMore, kDone, kError };
  struct HeadStep {
    size_t consumed = 0;  // drop this many bytes from the front of the input
    HeadState state = HeadState::kNeedMore;
  };
  // Feeds bytes of the request head. The bytes not consumed must be offered again, followed by
  // newly received ones, on the next call: the parser needs complete lines (after its first
  // incomplete attempt, the complete head) to be contiguous. Consumes nothing past the head.
  // Empty lines before the request line are skipped (RFC 9112 2.2).
  // REQUIRES: reset() was called and no earlier call of this request returned kDone or kError.
  HeadStep putHead(std::string_view in);

  // After kError: the status to answer (400, 413, 431, 501 or 505) and a short reason for logs.
  int errorStatus() const;
  const std::string& errorDetail() const;

  // After kDone.
  BodyFraming framing() const;
  bool expectContinue() const;  // "Expect: 100-continue" on an HTTP/1.1 request with a body
  // "Expect: 100-continue" on an HTTP/1.1 request whose body is empty (Content-Length: 0).
  bool expectContinueWithoutBody() const;
  int version() const;          // 10 or 11

  struct BodyStep {
    size_t consumed = 0;  // input bytes to drop
    size_t produced = 0;  // decoded body bytes written to the front of `out`
    bool done = false;    // the body (and any chunk trailer) is complete
  };
  // Decodes body bytes from `in` into `out` (either framing; chunk sizes, extensions and trailers
  // are removed). Stops when `out` is full or `in` is exhausted; like putHead, unconsumed input
  // must be offered again. Errors: kInvalidArgument (malformed chunked encoding),
  // kEntityTooLarge (more than maxBodyBytes). After an error the decoder must be reset.
  // REQUIRES: the head is done; out is not empty.
  Result<BodyStep> putBody(std::string_view in, std::span<char> out);
  bool bodyDone() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember::http

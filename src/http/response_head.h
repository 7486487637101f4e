#pragma once
// Internal to src/http: serializing a response head. Plain functions, no sockets, so the wire
// format is unit-tested directly. The server writes heads itself (no Beast serializer): one
// reusable buffer per connection and no per-field allocation.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/http.h"

namespace ember::http::detail {

enum class ResponseFraming {
  kNone,           // no body and no framing header (HEAD, 204, 304)
  kContentLength,  // Content-Length: contentLength
  kChunked,        // Transfer-Encoding: chunked
  kUntilClose,     // HTTP/1.0 client without a known length: the body ends at connection close
};

struct HeadOptions {
  ResponseFraming framing = ResponseFraming::kContentLength;
  uint64_t contentLength = 0;  // kContentLength; also sent for kNone when headContentLength
  bool headContentLength = false;  // HEAD: advertise the length a GET would have
  bool close = false;              // "Connection: close"
  bool keepAlive = false;          // "Connection: keep-alive" (HTTP/1.0 clients that asked)
};

// "OK", "Not Found", ...; "Unknown" for codes without a registered phrase.
std::string_view reasonPhrase(int status);

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per thread and
// recomputed once a second. The view is valid until the next call on the same thread.
std::string_view httpDate();

// Appends "HTTP/1.1 <status> <reason>", the handler's fields, Server/Date (unless the handler set
// them), the framing and Connection fields the server owns, and the final empty line.
// Content-Length, Transfer-Encoding and Connection from the handler are ignored: the writer owns
// framing. Returns false, leaving `out` unspecified, if a field name is not a token or a value
// contains CR, LF or NUL (response splitting).
bool appendResponseHead(std::string& out, const Response& head, const HeadOptions& opts);

// Appends the hex chunk-size line for a chunk of n bytes ("1f40\r\n").
void appendChunkHeader(std::string& out, size_t n);

}  // namespace ember::http::detail

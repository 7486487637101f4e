#pragma once
// emberctl's requests to emberd's admin endpoint: blocking calls, each on its own io_context. The
// only emberctl file that sees Asio (through http/client.h).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ember::ctl {

// The admin endpoint's base URL, "http://host:port" (or https), from a URL the user gave
// ("http://10.0.0.5:9001", "http://[::1]:9001/", "127.0.0.1:9001" is taken as http). With `port`
// set, it replaces the URL's port. Errors: kInvalidArgument (not an http(s) URL, a path other
// than "/", a query).
Result<std::string> adminBaseUrl(std::string_view url, std::optional<uint16_t> port = {});

// The "admin" port in emberd's --port-file ({"s3": N, "admin": M, ...}). Errors: kIOError (the
// file cannot be read), kInvalidArgument (not JSON, no "admin" port).
Result<uint16_t> portFromPortFile(const std::string& path);

struct AdminReply {
  int status = 0;
  std::string contentType;
  std::string body;
};

// Sends `method` to base + target ("/tier/flush?bucket=b") and reads the whole reply (at most
// 64 MiB). Any HTTP status is a reply. Errors: kUnavailable (cannot connect: refused, DNS, reset),
// kTimeout (no connection within connectTimeout, no reply within readTimeout), kInvalidArgument
// (a bad URL), the body's read errors.
Result<AdminReply> adminRequest(const std::string& method, const std::string& base,
                                const std::string& target,
                                std::chrono::milliseconds readTimeout = std::chrono::seconds(30),
                                std::chrono::milliseconds connectTimeout = std::chrono::seconds(5));

// Percent-encodes a query parameter value (everything but A-Z a-z 0-9 - . _ ~).
std::string encodeQueryValue(std::string_view value);

}  // namespace ember::ctl

#pragma once
// Bearer tokens for Azure Storage from a managed-identity style token endpoint (the Azure
// Instance Metadata Service shape):
//   GET <endpoint>?resource=https://storage.azure.com/&api-version=2018-02-01
//   Metadata: true
// answered with JSON {"access_token": "...", "expires_on": <unix seconds, number or numeric
// string>, ...}. The token is cached and reused until `refreshMargin` before it expires; callers
// that need a token while one is being fetched wait for that fetch (one fetch at a time). Use from
// one executor (single-threaded, or a strand), like the ColdStore that owns it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/status.h"
#include "http/client.h"

namespace ember::cold {

struct AzureToken {
  std::string accessToken;
  int64_t expiresOn = 0;  // unix seconds
};

// Parses the token endpoint's JSON. Errors: kCorruption naming what is missing or malformed.
Result<AzureToken> parseTokenResponse(std::string_view json);

// The token request URL for an endpoint (which may already carry a query).
std::string tokenRequestUrl(std::string_view endpoint);

class AzureTokenProvider {
 public:
  // Fetches a fresh token (production: fetchFromEndpoint below).
  using Fetch = std::function<asio::awaitable<Result<AzureToken>>()>;
  // `now` returns unix seconds (default: the system clock). `executor` runs the waits of callers
  // that arrive during a fetch.
  AzureTokenProvider(asio::any_io_executor executor, Fetch fetch,
                     std::chrono::seconds refreshMargin, std::function<int64_t()> now = {});

  // The cached token when it is valid for longer than the margin, else a new one. Errors: the
  // fetch's (the cache is kept: an old token still valid is not returned once inside the margin).
  asio::awaitable<Result<std::string>> token();
  uint64_t fetches() const { return fetches_; }

  // A Fetch that asks the endpoint over HTTP(S) (deadlines from the arguments). Errors:
  // kUnavailable/kTimeout (connection), kPermissionDenied (401/403), kUnavailable (other non-200),
  // kCorruption (unparsable reply).
  static Fetch fetchFromEndpoint(asio::any_io_executor executor, std::string endpoint,
                                 std::shared_ptr<http::TlsContext> tls,
                                 std::chrono::milliseconds connectTimeout,
                                 std::chrono::milliseconds readTimeout);

 private:
  Fetch fetch_;
  std::chrono::seconds margin_;
  std::function<int64_t()> now_;
  AzureToken cached_;
  uint64_t fetches_ = 0;
  bool fetching_ = false;
  Status lastError_;            // the outcome of the last fetch, for callers that waited on it
  asio::steady_timer fetched_;  // cancelled when a fetch ends
};

}  // namespace ember::cold

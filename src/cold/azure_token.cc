// Managed-identity style bearer tokens (azure_token.h).
#include "cold/azure_token.h"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/time_util.h"

namespace ember::cold {

Result<AzureToken> parseTokenResponse(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return unexpected(Code::kCorruption, "the token endpoint's reply is not a JSON object");
  }
  AzureToken t;
  auto at = j.find("access_token");
  if (at == j.end() || !at->is_string() || at->get<std::string>().empty()) {
    return unexpected(Code::kCorruption, "the token endpoint's reply has no access_token");
  }
  t.accessToken = at->get<std::string>();
  auto eo = j.find("expires_on");
  if (eo != j.end() && eo->is_number_integer()) {
    t.expiresOn = eo->get<int64_t>();
  } else if (eo != j.end() && eo->is_string()) {
    const std::string s = eo->get<std::string>();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), t.expiresOn);
    if (ec != std::errc() || end != s.data() + s.size()) {
      return unexpected(Code::kCorruption, "the token endpoint's expires_on is not a number");
    }
  } else {
    return unexpected(Code::kCorruption, "the token endpoint's reply has no expires_on");
  }
  for (char c : t.accessToken) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return unexpected(Code::kCorruption, "the access token has a character a header cannot");
    }
  }
  return t;
}

std::string tokenRequestUrl(std::string_view endpoint) {
  std::string u(endpoint);
  u += u.find('?') == std::string::npos ? '?' : '&';
  u += "resource=https%3A%2F%2Fstorage.azure.com%2F&api-version=2018-02-01";
  return u;
}

AzureTokenProvider::AzureTokenProvider(asio::any_io_executor executor, Fetch fetch,
                                       std::chrono::seconds refreshMargin,
                                       std::function<int64_t()> now)
    : fetch_(std::move(fetch)),
      margin_(refreshMargin),
      now_(now ? std::move(now) : std::function<int64_t()>([] { return nowSeconds(); })),
      fetched_(std::move(executor)) {}

asio::awaitable<Result<std::string>> AzureTokenProvider::token() {
  auto valid = [this] {
    return !cached_.accessToken.empty() && now_() + margin_.count() < cached_.expiresOn;
  };
  if (fetching_) {
    // Someone is fetching: wait for that fetch, then take its outcome.
    while (fetching_) {
      fetched_.expires_at(asio::steady_timer::time_point::max());
      co_await fetched_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (valid()) {
      co_return cached_.accessToken;
    }
    co_return unexpected(lastError_.isOk() ? makeError(Code::kUnavailable, "no valid token")
                                           : lastError_);
  }
  if (valid()) {
    co_return cached_.accessToken;
  }
  ++fetches_;
  fetching_ = true;
  auto t = co_await fetch_();
  fetching_ = false;
  if (t) {
    cached_ = std::move(*t);
    lastError_ = Status::ok();
  } else {
    lastError_ = t.error();
  }
  fetched_.cancel();  // the waiters resume after this coroutine next suspends or ends
  if (!lastError_.isOk()) {
    co_return unexpected(lastError_);
  }
  co_return cached_.accessToken;
}

AzureTokenProvider::Fetch AzureTokenProvider::fetchFromEndpoint(
    asio::any_io_executor executor, std::string endpoint, std::shared_ptr<http::TlsContext> tls,
    std::chrono::milliseconds connectTimeout, std::chrono::milliseconds readTimeout) {
  return [executor, endpoint, tls, connectTimeout,
          readTimeout]() -> asio::awaitable<Result<AzureToken>> {
    http::FetchRequest req;
    req.url = tokenRequestUrl(endpoint);
    req.headers.add("Metadata", "true");
    req.connectTimeout = connectTimeout;
    req.readTimeout = readTimeout;
    req.allowRestrictedAddresses = true;  // IMDS lives at a link-local address
    req.tls = tls;
    req.maxBodyBytes = 1 << 20;
    auto r = co_await http::fetch(executor, std::move(req));
    EMBER_CO_TRY(r);
    std::string body;
    char buf[8192];
    for (;;) {
      auto n = co_await (*r)->body().read(std::span<char>(buf, sizeof(buf)));
      EMBER_CO_TRY(n);
      if (*n == 0) {
        break;
      }
      body.append(buf, *n);
    }
    const int st = (*r)->status();
    if (st == 401 || st == 403) {
      co_return unexpected(Code::kPermissionDenied,
                           "the token endpoint refused: HTTP " + std::to_string(st));
    }
    if (st != 200) {
      co_return unexpected(Code::kUnavailable,
                           "the token endpoint answered HTTP " + std::to_string(st));
    }
    co_return parseTokenResponse(body);
  };
}

}  // namespace ember::cold

// The outbound HTTP/1.1 client (client.h): resolve with a deadline, check the addresses, connect,
// optionally TLS, write one request, parse the response head with Beast, and hand the body out
// through a ByteSource that reads straight into the caller's buffer (Beast's buffer_body), so
// memory stays bounded by the caller's buffer plus one read buffer whatever the body size.
#include "http/client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

namespace ember::http {

struct TlsContext::Impl {
  asio::ssl::context ctx{asio::ssl::context::tls_client};
};

TlsContext::TlsContext() : impl_(std::make_unique<Impl>()) {}
TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::create(const std::string& caFile) {
  std::shared_ptr<TlsContext> t;
  try {
    t.reset(new TlsContext());
  } catch (const std::exception& e) {
    return unexpected(Code::kInternal, std::string("cannot create a TLS context: ") + e.what());
  }
  asio::ssl::context& ctx = t->impl_->ctx;
  boost::system::error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression,
                  ec);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_default_verify_paths(ec);
  if (ec) {
    return unexpected(Code::kInternal, "cannot load the system trust store: " + ec.message());
  }
  if (!caFile.empty()) {
    ctx.load_verify_file(caFile, ec);
    if (ec) {
      return unexpected(Code::kInvalidArgument,
                        "cannot load CA file " + caFile + ": " + ec.message());
    }
  }
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  return t;
}

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Parser = bhttp::response_parser<bhttp::buffer_body>;
using Clock = std::chrono::steady_clock;

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadBufferBytes = 64 * 1024;  // socket reads; body bytes pass through it
constexpr int kMaxInterimResponses = 8;         // 1xx answers skipped before the real one

std::shared_ptr<TlsContext> defaultTls() {
  static const Result<std::shared_ptr<TlsContext>> ctx = TlsContext::create();
  return ctx ? *ctx : nullptr;
}

Status ioStatus(const ErrorCode& ec, std::string_view what, const Url& url) {
  if (ec == bhttp::error::body_limit) {
    return makeError(Code::kEntityTooLarge,
                     fmt::format("the response body from {} is too large", url.authority()));
  }
  if (ec == beast::error::timeout) {
    return makeError(Code::kTimeout, fmt::format("{} {}: timed out", what, url.authority()));
  }
  return makeError(Code::kUnavailable,
                   fmt::format("{} {}: {}", what, url.authority(), ec.message()));
}

bool tokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Status validateHeaders(const Headers& headers) {
  for (const Headers::Field& f : headers.fields()) {
    if (f.name.empty()) {
      return makeError(Code::kInvalidArgument, "empty header name");
    }
    for (char c : f.name) {
      if (!tokenChar(c)) {
        return makeError(Code::kInvalidArgument, "bad header name " + f.name);
      }
    }
    if (f.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return makeError(Code::kInvalidArgument, "header " + f.name + " has a bad value");
    }
    if (iequals(f.name, "host") || iequals(f.name, "connection") ||
        iequals(f.name, "content-length") || iequals(f.name, "transfer-encoding")) {
      return makeError(Code::kInvalidArgument, "header " + f.name + " is set by the client");
    }
  }
  return Status::ok();
}

std::string requestHead(const std::string& method, const Url& url, const Headers& headers,
                        const std::string& userAgent,
                        std::optional<uint64_t> contentLength = std::nullopt) {
  std::string h = method + " " + url.target() + " HTTP/1.1\r\nHost: " + url.authority() +
                  "\r\nConnection: close\r\n";
  if (contentLength) {
    h += "Content-Length: " + std::to_string(*contentLength) + "\r\n";
  }
  if (!userAgent.empty() && !headers.has("user-agent")) {
    h += "User-Agent: " + userAgent + "\r\n";
  }
  for (const Headers::Field& f : headers.fields()) {
    h += f.name + ": " + f.value + "\r\n";
  }
  h += "\r\n";
  return h;
}

void prepareParser(std::optional<Parser>& parser, const FetchRequest& req) {
  parser.emplace();
  parser->header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(req.maxHeaderBytes, std::numeric_limits<std::uint32_t>::max())));
  parser->body_limit(req.maxBodyBytes);
  if (req.method == "HEAD") {
    parser->skip(true);
  }
}

// A response over Stream (TcpStream or TlsStream). It is its own body source.
template <class Stream>
class Response final : public ClientResponse, private ByteSource {
 public:
  // `tls` (null for plain TCP) keeps the SSL_CTX alive as long as the stream; `args` construct
  // the stream.
  template <class... Args>
  Response(std::chrono::milliseconds readTimeout, std::shared_ptr<TlsContext> tls,
           Args&&... args)
      : tls_(std::move(tls)), stream_(std::forward<Args>(args)...), buffer_(kReadBufferBytes),
        readTimeout_(readTimeout) {}

  ByteSource& body() override { return *this; }

  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    if (!failed_.isOk()) {
      co_return unexpected(failed_);
    }
    if (done_ || buf.empty()) {
      co_return size_t{0};
    }
    for (;;) {
      if (parser_->is_done()) {
        done_ = true;
        co_return size_t{0};
      }
      bhttp::buffer_body::value_type& b = parser_->get().body();
      b.data = buf.data();
      b.size = buf.size();
      b.more = true;
      beast::get_lowest_layer(stream_).expires_after(readTimeout_);
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, *parser_, kUse);
      (void)n;
      const size_t got = buf.size() - b.size;
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        failed_ = bodyError(ec);
        if (got > 0) {
          co_return got;  // the error comes with the next read
        }
        co_return unexpected(failed_);
      }
      if (got > 0) {
        co_return got;
      }
    }
  }

  // Connects to the first reachable endpoint, shakes hands (TLS), sends `head`, and reads the
  // response head (skipping 1xx interim responses).
  asio::awaitable<Status> exchange(const Url& url, const FetchRequest& req,
                                   const std::vector<tcp::endpoint>& endpoints,
                                   const std::string& head, Clock::time_point connectDeadline,
                                   const OutboundBody* body = nullptr) {
    url_ = url;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_at(connectDeadline);
    auto [cec, ep] = co_await lowest.async_connect(endpoints, kUse);
    (void)ep;
    if (cec) {
      co_return ioStatus(cec, "connect to", url);
    }
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      SSL* ssl = stream_.native_handle();
      boost::system::error_code ipec;
      boost::asio::ip::make_address(url.host, ipec);
      const bool ipLiteral = !ipec;
      if (!ipLiteral) {
        SSL_set_tlsext_host_name(ssl, url.host.c_str());
      }
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int ok = ipLiteral ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(),
                                                             url.host.size());
      if (ok != 1) {
        co_return makeError(Code::kInternal, "cannot set the TLS peer name " + url.host);
      }
      stream_.set_verify_mode(asio::ssl::verify_peer);
      lowest.expires_at(connectDeadline);
      auto [hec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, kUse);
      if (hec) {
        co_return ioStatus(hec, "TLS handshake with", url);
      }
    }
    lowest.expires_after(readTimeout_);
    auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(head), kUse);
    (void)wn;
    if (wec) {
      co_return ioStatus(wec, "send request to", url);
    }
    // A server may answer before it has read the whole body (401, 403, 413) and close: when
    // sending the body fails on the socket, the answer is still read if there is one.
    Status bodyStatus;
    if (body != nullptr) {
      bodyStatus = co_await writeBody(*body, url);
      if (!bodyStatus.isOk() && !bodySocketFailed_) {
        co_return bodyStatus;  // the source failed: nothing to wait for
      }
    }
    for (int interim = 0;; ++interim) {
      prepareParser(parser_, req);
      lowest.expires_after(readTimeout_);
      auto [rec, rn] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, kUse);
      (void)rn;
      if (rec) {
        co_return bodyStatus.isOk() ? ioStatus(rec, "read response from", url) : bodyStatus;
      }
      const int st = parser_->get().result_int();
      if (st >= 200 || st == 101 || interim >= kMaxInterimResponses) {
        break;
      }
    }
    const auto& msg = parser_->get();
    status_ = msg.result_int();
    reason_ = std::string(msg.reason());
    for (const auto& f : msg) {
      headers_.add(std::string(f.name_string()), std::string(f.value()));
    }
    if (auto len = parser_->content_length()) {
      contentLength_ = *len;
    }
    co_return Status::ok();
  }

 private:
  // Writes the request body: the in-memory data, or exactly body.size bytes of the source, in
  // bounded pieces (each write under the read deadline).
  asio::awaitable<Status> writeBody(const OutboundBody& body, const Url& url) {
    auto& lowest = beast::get_lowest_layer(stream_);
    if (body.source == nullptr) {
      if (body.data.empty()) {
        co_return Status::ok();
      }
      lowest.expires_after(readTimeout_);
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(body.data), kUse);
      (void)n;
      bodySocketFailed_ = static_cast<bool>(ec);
      co_return ec ? ioStatus(ec, "send request body to", url) : Status::ok();
    }
    std::vector<char> chunk(std::min<uint64_t>(kReadBufferBytes, std::max<uint64_t>(body.size, 1)));
    uint64_t left = body.size;
    while (left > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      auto got = co_await body.source->read(std::span<char>(chunk.data(), want));
      EMBER_CO_TRY(got);
      if (*got == 0) {
        co_return makeError(Code::kIncompleteBody,
                            fmt::format("the request body for {} ended {} bytes early",
                                        url.authority(), left));
      }
      lowest.expires_after(readTimeout_);
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(chunk.data(), *got), kUse);
      (void)n;
      if (ec) {
        bodySocketFailed_ = true;
        co_return ioStatus(ec, "send request body to", url);
      }
      left -= *got;
    }
    co_return Status::ok();
  }

  Status bodyError(const ErrorCode& ec) const {
    if (ec == beast::error::timeout) {
      return makeError(Code::kTimeout, "reading the response body from " + url_.authority() +
                                           " timed out");
    }
    if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      return makeError(Code::kIncompleteBody,
                       url_.authority() + " closed the connection before the body ended");
    }
    if (ec == bhttp::error::body_limit) {
      return makeError(Code::kEntityTooLarge,
                       "the response body from " + url_.authority() + " is too large");
    }
    return makeError(Code::kUnavailable,
                     "reading the response body from " + url_.authority() + ": " + ec.message());
  }

  std::shared_ptr<TlsContext> tls_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::chrono::milliseconds readTimeout_;
  bool done_ = false;
  bool bodySocketFailed_ = false;  // writing the request body failed on the socket
  Status failed_;
};

// DNS lookup bounded by `deadline`, then the SSRF address check. The resolver is shared with the
// timer's handler, which may run after this coroutine has finished.
asio::awaitable<Result<std::vector<tcp::endpoint>>> resolve(asio::any_io_executor ex,
                                                            const Url& url,
                                                            Clock::time_point deadline,
                                                            bool allowRestricted) {
  auto resolver = std::make_shared<tcp::resolver>(ex);
  asio::steady_timer timer(ex);
  timer.expires_at(deadline);
  timer.async_wait([resolver](const ErrorCode& ec) {
    if (!ec) {
      resolver->cancel();
    }
  });
  const std::string service = std::to_string(url.port);
  auto [ec, results] =
      co_await resolver->async_resolve(url.host, service, tcp::resolver::numeric_service, kUse);
  timer.cancel();
  if (ec) {
    if (Clock::now() >= deadline) {
      co_return unexpected(Code::kTimeout, "looking up " + url.host + " timed out");
    }
    co_return unexpected(Code::kUnavailable,
                         "cannot resolve " + url.host + ": " + ec.message());
  }
  std::vector<tcp::endpoint> out;
  size_t refused = 0;
  for (const auto& r : results) {
    tcp::endpoint ep = r.endpoint();
    if (!allowRestricted && isRestrictedAddress(ep.address().to_string())) {
      ++refused;
      continue;
    }
    out.push_back(ep);
  }
  if (out.empty()) {
    if (refused > 0) {
      co_return unexpected(Code::kPermissionDenied,
                           url.host + " resolves only to loopback, link-local or other "
                                      "restricted addresses, which this request may not reach");
    }
    co_return unexpected(Code::kUnavailable, "cannot resolve " + url.host + ": no addresses");
  }
  co_return out;
}

asio::awaitable<Result<std::unique_ptr<ClientResponse>>> fetchOnce(
    asio::any_io_executor ex, const Url& url, const FetchRequest& req, const Headers& headers,
    const OutboundBody* body = nullptr) {
  bool allowRestricted = req.allowRestrictedAddresses;
  if (req.allowList != nullptr) {
    HostAllowList::Match m = req.allowList->match(url);
    if (m == HostAllowList::Match::kNone) {
      co_return unexpected(Code::kPermissionDenied,
                           "host " + url.authority() + " is not in the allow-list");
    }
    allowRestricted = m == HostAllowList::Match::kExact;
  }
  const Clock::time_point deadline = Clock::now() + req.connectTimeout;
  auto endpoints = co_await resolve(ex, url, deadline, allowRestricted);
  EMBER_CO_TRY(endpoints);
  std::optional<uint64_t> contentLength;
  if (body != nullptr &&
      (req.method == "PUT" || req.method == "POST" || body->length() > 0)) {
    contentLength = body->length();
  }
  const std::string head = requestHead(req.method, url, headers, req.userAgent, contentLength);
  if (url.https()) {
    std::shared_ptr<TlsContext> tls = req.tls ? req.tls : defaultTls();
    if (!tls) {
      co_return unexpected(Code::kInternal, "no TLS context (the system trust store failed "
                                            "to load)");
    }
    auto r = std::make_unique<Response<TlsStream>>(req.readTimeout, tls, ex, tls->impl().ctx);
    Status s = co_await r->exchange(url, req, *endpoints, head, deadline, body);
    EMBER_CO_TRY(s);
    co_return std::unique_ptr<ClientResponse>(std::move(r));
  }
  auto r = std::make_unique<Response<TcpStream>>(req.readTimeout, nullptr, ex);
  Status s = co_await r->exchange(url, req, *endpoints, head, deadline, body);
  EMBER_CO_TRY(s);
  co_return std::unique_ptr<ClientResponse>(std::move(r));
}

bool isRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<ClientResponse>>> send(asio::any_io_executor executor,
                                                              FetchRequest request,
                                                              OutboundBody body) {
  const std::string& m = request.method;
  if (m != "GET" && m != "HEAD" && m != "PUT" && m != "POST" && m != "DELETE") {
    co_return unexpected(Code::kInvalidArgument,
                         "send supports GET, HEAD, PUT, POST and DELETE only");
  }
  EMBER_CO_TRY(validateHeaders(request.headers));
  auto url = parseUrl(request.url);
  EMBER_CO_TRY(url);
  co_return co_await fetchOnce(executor, *url, request, request.headers, &body);
}

asio::awaitable<Result<std::unique_ptr<ClientResponse>>> fetch(asio::any_io_executor executor,
                                                               FetchRequest request) {
  if (request.method != "GET" && request.method != "HEAD") {
    co_return unexpected(Code::kInvalidArgument, "fetch supports GET and HEAD only");
  }
  EMBER_CO_TRY(validateHeaders(request.headers));
  auto url = parseUrl(request.url);
  EMBER_CO_TRY(url);
  Headers headers = request.headers;
  for (int hop = 0;; ++hop) {
    auto r = co_await fetchOnce(executor, *url, request, headers);
    EMBER_CO_TRY(r);
    const int status = (*r)->status();
    const std::string* location = (*r)->headers().find("location");
    if (!isRedirect(status) || location == nullptr || request.maxRedirects <= 0) {
      co_return std::move(*r);
    }
    if (hop >= request.maxRedirects) {
      co_return unexpected(Code::kUnavailable,
                           fmt::format("more than {} redirects", request.maxRedirects));
    }
    auto next = resolveLocation(*url, *location);
    if (!next) {
      co_return unexpected(Code::kUnavailable,
                           "redirect to a bad Location: " + next.error().message());
    }
    if (next->scheme != url->scheme || next->host != url->host || next->port != url->port) {
      headers.remove("authorization");  // credentials stay with the origin they were meant for
    }
    url = std::move(next);
  }
}

}  // namespace ember::http

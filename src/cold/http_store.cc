// Protocol-neutral half of the cold connectors (http_store.h).
#include "cold/http_store.h"

#include <algorithm>
#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "cold/signing.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace ember::cold {

namespace {

constexpr size_t kCopyBufferBytes = 256 * 1024;
constexpr size_t kMaxErrorBody = 16 * 1024;

// A ByteSource over a shared, immutable string (a buffered body sent again on every attempt).
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::shared_ptr<const std::string> s) : s_(std::move(s)) {}
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    const size_t n = std::min(buf.size(), s_->size() - pos_);
    std::copy_n(s_->data() + pos_, n, buf.data());
    pos_ += n;
    co_return n;
  }

 private:
  std::shared_ptr<const std::string> s_;
  size_t pos_ = 0;
};

std::string between(std::string_view text, std::string_view open, std::string_view close) {
  size_t a = text.find(open);
  if (a == std::string_view::npos) {
    return {};
  }
  a += open.size();
  size_t b = text.find(close, a);
  return b == std::string_view::npos ? std::string() : std::string(text.substr(a, b - a));
}

asio::awaitable<std::string> readErrorBody(http::ClientResponse& r) {
  std::string out;
  char buf[4096];
  while (out.size() < kMaxErrorBody) {
    auto n = co_await r.body().read(std::span<char>(buf, sizeof(buf)));
    if (!n || *n == 0) {
      break;
    }
    out.append(buf, *n);
  }
  co_return out;
}

std::optional<uint64_t> parseU64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

// Parses an XML reply body into `doc` and returns its root element, which must be `rootName`;
// kCorruption naming `call` (the service's operation) when it does not parse or has another root.
Result<pugi::xml_node> xmlRoot(pugi::xml_document& doc, const std::string& body,
                               const char* rootName, std::string_view call) {
  if (!doc.load_buffer(body.data(), body.size())) {
    return unexpected(Code::kCorruption, fmt::format("{} returned XML that does not parse", call));
  }
  pugi::xml_node root = doc.child(rootName);
  if (!root) {
    return unexpected(Code::kCorruption, fmt::format("{} returned no {}", call, rootName));
  }
  return root;
}

}  // namespace

Code codeForHttpStatus(int status) {
  switch (status) {
    case 304: return Code::kNotModified;
    case 401:
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 408: return Code::kTimeout;
    case 412: return Code::kPreconditionFailed;
    case 416: return Code::kInvalidRange;
    case 429:
    case 503: return Code::kBusy;
    default: break;
  }
  if (status >= 500) {
    return Code::kUnavailable;
  }
  return Code::kInvalidArgument;
}

std::string unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

ColdObjectInfo infoFromHeaders(const http::ClientResponse& r, std::string key) {
  ColdObjectInfo info;
  info.key = std::move(key);
  const Headers& h = r.headers();
  bool haveSize = false;
  if (const std::string* cr = h.find("content-range")) {
    size_t slash = cr->rfind('/');
    if (slash != std::string::npos) {
      if (auto total = parseU64(std::string_view(*cr).substr(slash + 1))) {
        info.size = *total;
        haveSize = true;
      }
    }
  }
  if (!haveSize) {
    if (const std::string* cl = h.find("content-length")) {
      info.size = parseU64(trimBlanks(*cl)).value_or(0);
    }
  }
  info.etag = unquote(h.get("etag"));
  if (const std::string* lm = h.find("last-modified")) {
    info.lastModifiedMs = parseHttpDate(*lm).value_or(0);
  }
  info.contentType = std::string(h.get("content-type"));
  return info;
}

void addMetadata(Headers& h, const PutOptions& options, std::string_view headerPrefix) {
  for (const auto& [k, v] : options.metadata) {
    h.set(std::string(headerPrefix) + toLower(k), v);
  }
}

asio::awaitable<Result<std::string>> readExactly(ByteSource& source, uint64_t n) {
  std::string out;
  out.resize(n);
  uint64_t got = 0;
  while (got < n) {
    auto r = co_await source.read(std::span<char>(out.data() + got, n - got));
    EMBER_CO_TRY(r);
    if (*r == 0) {
      co_return unexpected(Code::kIncompleteBody,
                           fmt::format("the source ended after {} of {} bytes", got, n));
    }
    got += *r;
  }
  co_return out;
}

HttpColdStore::HttpColdStore(asio::any_io_executor executor, ColdStoreConfig config,
                             http::Url endpoint, std::shared_ptr<http::TlsContext> tls)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      basePath_(endpoint_.path == "/" ? std::string() : endpoint_.path),
      tls_(std::move(tls)),
      policy_(config_.retry),
      breaker_(config_.breaker) {
  while (!basePath_.empty() && basePath_.back() == '/') {
    basePath_.pop_back();
  }
}

Outbound HttpColdStore::objectRequest(std::string_view method, std::string_view name) const {
  Outbound req;
  req.method = std::string(method);
  req.rawPath = basePath_ + "/" + config_.location.container + "/" + encodePath(name);
  return req;
}

Outbound HttpColdStore::listRequest(const ListDialect& d, const std::string& prefix,
                                    const std::string& marker, int maxKeys,
                                    const std::optional<std::string>& delimiter) const {
  const ColdLocation& loc = config_.location;
  Outbound req;
  req.rawPath = basePath_ + "/" + loc.container;
  std::string q(d.fixed);
  q += "&prefix=" + encodeQuery(loc.prefix.empty() ? prefix : loc.prefix + "/" + prefix);
  if (!marker.empty()) {
    q += fmt::format("&{}={}", d.marker, encodeQuery(marker));
  }
  q += fmt::format("&{}={}", d.maxKeys, std::clamp(maxKeys, 1, 5000));
  if (delimiter && !delimiter->empty()) {
    q += "&delimiter=" + encodeQuery(*delimiter);
  }
  req.rawQuery = std::move(q);
  return req;
}

std::string HttpColdStore::url(const Outbound& req) const {
  std::string u = endpoint_.scheme + "://" + endpoint_.authority() + req.rawPath;
  if (!req.rawQuery.empty()) {
    u += "?" + req.rawQuery;
  }
  return u;
}

asio::awaitable<Result<std::unique_ptr<http::ClientResponse>>> HttpColdStore::once(
    const Outbound& req, const std::vector<int>& accept) {
  http::FetchRequest fr;
  fr.method = req.method;
  fr.url = url(req);
  fr.headers = req.headers;
  fr.connectTimeout = config_.connectTimeout;
  fr.readTimeout = config_.readTimeout;
  fr.allowRestrictedAddresses = true;  // the endpoint is the operator's configuration
  fr.tls = tls_;
  std::optional<StringSource> src;
  http::OutboundBody body;
  if (req.body) {
    src.emplace(req.body);
    body.source = &*src;
    body.size = req.body->size();
  }
  auto r = co_await http::send(executor_, std::move(fr), std::move(body));
  EMBER_CO_TRY(r);
  const int st = (*r)->status();
  if ((st >= 200 && st < 300) || std::find(accept.begin(), accept.end(), st) != accept.end()) {
    co_return std::move(*r);
  }
  std::string text = req.method == "HEAD" ? std::string() : co_await readErrorBody(**r);
  std::string code((*r)->headers().get("x-ms-error-code"));
  if (code.empty()) {
    code = between(text, "<Code>", "</Code>");
  }
  std::string message = between(text, "<Message>", "</Message>");
  if (size_t nl = message.find('\n'); nl != std::string::npos) {
    message.resize(nl);
  }
  std::string what = fmt::format("{} {}{}: HTTP {}", req.method, endpoint_.authority(),
                                 req.rawPath, st);
  if (!code.empty()) {
    what += " " + printableExcerpt(code, 64);
  }
  if (!message.empty()) {
    what += ": " + printableExcerpt(message, 200);
  }
  co_return unexpected(codeForHttpStatus(st), std::move(what));
}

asio::awaitable<void> HttpColdStore::sleepFor(std::chrono::milliseconds d) {
  asio::steady_timer t(executor_);
  t.expires_after(d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<Result<std::unique_ptr<http::ClientResponse>>> HttpColdStore::call(
    Outbound req, std::vector<int> accept) {
  RetryHooks hooks;
  hooks.sleep = [this](std::chrono::milliseconds d) { return sleepFor(d); };
  hooks.onAttempt = [this] { ++stats_.attempts; };
  hooks.onRetry = [this] { ++stats_.retries; };
  hooks.onRejected = [this] { ++stats_.breakerRejections; };
  co_return co_await withRetries<std::unique_ptr<http::ClientResponse>>(
      policy_, breaker_, hooks,
      [this, &req, &accept]() -> asio::awaitable<Result<std::unique_ptr<http::ClientResponse>>> {
        Outbound signedReq = req;
        Status s = co_await sign(signedReq);
        EMBER_CO_TRY(s);
        co_return co_await once(signedReq, accept);
      });
}

asio::awaitable<Result<TextReply>> HttpColdStore::callText(Outbound req, size_t maxBody) {
  // The body is read inside the retry loop's reach: a reply cut short is retried as a whole.
  for (int attempt = 1;; ++attempt) {
    auto r = co_await call(req);
    EMBER_CO_TRY(r);
    TextReply out;
    out.status = (*r)->status();
    out.headers = (*r)->headers();
    char buf[16384];
    Status failed;
    for (;;) {
      auto n = co_await (*r)->body().read(std::span<char>(buf, sizeof(buf)));
      if (!n) {
        failed = n.error();
        break;
      }
      if (*n == 0) {
        break;
      }
      if (out.body.size() + *n > maxBody) {
        co_return unexpected(Code::kCorruption, "the reply body is larger than expected");
      }
      out.body.append(buf, *n);
    }
    if (failed.isOk()) {
      co_return out;
    }
    if (!policy_.shouldRetry(attempt, failed)) {
      co_return unexpected(std::move(failed));
    }
    ++stats_.retries;
    co_await sleepFor(policy_.backoff(attempt));
  }
}

asio::awaitable<Result<std::string>> HttpColdStore::callForEtag(Outbound req) {
  auto r = co_await call(std::move(req));
  EMBER_CO_TRY(r);
  co_return unquote((*r)->headers().get("etag"));
}

asio::awaitable<Status> HttpColdStore::del(std::string key) {
  countCall();
  auto r = co_await call(objectRequest("DELETE", config_.location.objectName(key)));
  EMBER_CO_TRY(r);
  co_return Status::ok();
}

asio::awaitable<Result<ColdListPage>> HttpColdStore::list(std::string prefix, std::string marker,
                                                         int maxKeys,
                                                         std::optional<std::string> delimiter) {
  countCall();
  const ListDialect& d = listDialect();
  auto r = co_await callText(listRequest(d, prefix, marker, maxKeys, delimiter));
  EMBER_CO_TRY(r);
  pugi::xml_document doc;
  auto root = xmlRoot(doc, r->body, d.root, d.call);
  EMBER_CO_TRY(root);
  co_return listPage(*root);
}

asio::awaitable<Result<ColdObjectInfo>> HttpColdStore::head(std::string key) {
  countCall();
  auto r = co_await call(objectRequest("HEAD", config_.location.objectName(key)));
  EMBER_CO_TRY(r);
  co_return infoFromHeaders(**r, std::move(key));
}

asio::awaitable<Result<ColdObjectInfo>> HttpColdStore::get(std::string key,
                                                           std::optional<ByteRange> range,
                                                           ByteSink& sink) {
  if (range && range->length && *range->length == 0) {
    // Nothing to stream; still answer for the object (and a start past its end).
    auto info = co_await head(key);
    EMBER_CO_TRY(info);
    if (range->offset > info->size) {
      co_return unexpected(Code::kInvalidRange, "the range starts after the end of the object");
    }
    co_return info;
  }
  countCall();
  const std::string name = config_.location.objectName(key);
  const uint64_t start = range ? range->offset : 0;
  std::optional<uint64_t> end;  // exclusive
  if (range && range->length) {
    end = range->offset + *range->length;
  }
  uint64_t delivered = 0;
  std::optional<ColdObjectInfo> info;
  std::vector<char> buf(kCopyBufferBytes);
  for (int resume = 1;; ++resume) {
    Outbound req = objectRequest("GET", name);
    const uint64_t from = start + delivered;
    if (range || delivered > 0) {
      req.headers.set(std::string(rangeHeader()),
                      end ? fmt::format("bytes={}-{}", from, *end - 1)
                          : fmt::format("bytes={}-", from));
    }
    if (info && !info->etag.empty()) {
      req.headers.set("If-Match", "\"" + info->etag + "\"");
    }
    auto r = co_await call(req);
    EMBER_CO_TRY(r);
    if (!info) {
      info = infoFromHeaders(**r, key);
    }
    // A server that ignored the Range answers 200 with the whole object: skip to `from`.
    uint64_t skip = (*r)->status() == 200 ? from : 0;
    Status failed;
    for (;;) {
      auto n = co_await (*r)->body().read(std::span<char>(buf.data(), buf.size()));
      if (!n) {
        failed = n.error();
        break;
      }
      if (*n == 0) {
        break;
      }
      std::span<const char> piece(buf.data(), *n);
      const uint64_t drop = std::min<uint64_t>(skip, piece.size());
      skip -= drop;
      piece = piece.subspan(drop);
      if (end && start + delivered + piece.size() > *end) {
        piece = piece.first(*end - (start + delivered));
      }
      if (!piece.empty()) {
        Status w = co_await sink.write(piece);
        EMBER_CO_TRY(w);
        delivered += piece.size();
      }
      if (end && start + delivered >= *end) {
        break;  // the range is complete (a server that ignored it may still be sending)
      }
    }
    if (failed.isOk()) {
      co_return *info;
    }
    if (!policy_.shouldRetry(resume, failed)) {
      co_return unexpected(std::move(failed));
    }
    ++stats_.retries;
    co_await sleepFor(policy_.backoff(resume));
  }
}

asio::awaitable<Result<std::string>> HttpColdStore::put(std::string key, ByteSource& source,
                                                        uint64_t size, PutOptions options) {
  countCall();
  const std::string name = config_.location.objectName(key);
  if (size < config_.multipartThreshold) {
    auto body = co_await readExactly(source, size);
    EMBER_CO_TRY(body);
    co_return co_await putSingle(name, std::make_shared<const std::string>(std::move(*body)),
                                 options);
  }
  co_return co_await putParts(name, source, size, options);
}

asio::awaitable<Result<std::string>> HttpColdStore::putParts(const std::string& name,
                                                             ByteSource& source, uint64_t size,
                                                             const PutOptions& options) {
  auto uploadId = co_await beginParts(name, options);
  EMBER_CO_TRY(uploadId);
  const uint64_t partSize = config_.partSize;
  const size_t parts = static_cast<size_t>((size + partSize - 1) / partSize);
  std::vector<std::string> tokens(parts);
  // The window: parts in flight, the first error, and a timer cancelled whenever a part ends.
  struct Window {
    explicit Window(asio::any_io_executor ex) : wake(std::move(ex)) {}
    int inFlight = 0;
    Status error;
    asio::steady_timer wake;
  };
  auto w = std::make_shared<Window>(executor_);
  auto waitBelow = [w](int limit) -> asio::awaitable<void> {
    while (w->inFlight > limit) {
      w->wake.expires_at(asio::steady_timer::time_point::max());
      co_await w->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  };
  const int parallel = std::max(1, config_.parallelParts);
  for (size_t i = 0; i < parts && w->error.isOk(); ++i) {
    co_await waitBelow(parallel - 1);
    if (!w->error.isOk()) {
      break;
    }
    const uint64_t n = std::min<uint64_t>(partSize, size - i * partSize);
    auto body = co_await readExactly(source, n);
    if (!body) {
      w->error = body.error();
      break;
    }
    ++w->inFlight;
    auto shared = std::make_shared<const std::string>(std::move(*body));
    asio::co_spawn(
        executor_,
        [this, &name, &tokens, uploadId = *uploadId, i, shared, w]() -> asio::awaitable<void> {
          auto r = co_await putPart(name, uploadId, static_cast<int>(i), shared);
          if (r) {
            tokens[i] = std::move(*r);
          } else if (w->error.isOk()) {
            w->error = r.error();
          }
          --w->inFlight;
          w->wake.cancel();
        },
        asio::detached);
  }
  co_await waitBelow(0);  // every spawned part refers to `name` and `tokens`
  if (!w->error.isOk()) {
    co_await abortParts(name, *uploadId);
    co_return unexpected(w->error);
  }
  co_return co_await commitParts(name, *uploadId, tokens, options);
}

}  // namespace ember::cold

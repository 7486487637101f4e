// Response helpers shared by the S3 operation handlers.
#include <array>

#include <spdlog/spdlog.h>

#include "common/metrics.h"
#include "core/namespace.h"
#include "s3/context.h"
#include "s3/errors.h"

namespace ember::s3 {

std::string Ctx::resource() const {
  if (bucket.empty()) {
    return "/";
  }
  std::string r = key.empty() ? "/" + bucket : "/" + bucket + "/" + key;
  // Error documents must stay valid UTF-8: a key that is not falls back to the raw path.
  if (core::validateKey(r).code() == Code::kInvalidKey) {
    return req.path;
  }
  return r;
}

std::string quoteEtag(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

namespace {

// Error counters by core code (several codes may share an S3 code and so a series), looked up
// once rather than per error.
metrics::Counter& errorCounter(Code code) {
  constexpr int kCodes = static_cast<int>(Code::kInternal) + 1;
  static const auto counters = [] {
    std::array<metrics::Counter*, kCodes> a{};
    for (int i = 0; i < kCodes; ++i) {
      a[i] = &metrics::Registry::global().counter(
          "ember_s3_errors_total", "S3 error responses by S3 error code",
          {{"code", std::string(s3ErrorFor(static_cast<Code>(i)).code)}});
    }
    return a;
  }();
  return *counters[static_cast<int>(code)];
}

http::Response baseResponse(Ctx& c, int status) {
  http::Response r;
  r.status = status;
  r.headers.add("x-amz-request-id", c.req.requestId);
  r.headers.add("x-amz-id-2", c.req.requestId);
  return r;
}
}  // namespace

asio::awaitable<Status> sendError(Ctx& c, const Status& s, http::Headers extra) {
  S3Error e = s3ErrorFor(s.code());
  errorCounter(s.code()).inc();
  if (e.httpStatus >= 500) {
    spdlog::warn("{} {} {}: {}", c.req.requestId, c.req.method, c.req.target, s.toString());
  }
  if (c.out.started()) {
    // Too late for an error document: the only honest signal left is closing the connection.
    c.out.closeAfter();
    co_return s;
  }
  http::Response r = baseResponse(c, e.httpStatus);
  for (auto& f : extra.fields()) {
    r.headers.add(f.name, f.value);
  }
  if (e.httpStatus == 304 || c.req.method == "HEAD") {
    co_return co_await c.out.respond(std::move(r), "");
  }
  r.headers.add("Content-Type", "application/xml");
  std::string body = renderErrorXml(e, s.message(), c.resource(), c.req.requestId);
  co_return co_await c.out.respond(std::move(r), body);
}

asio::awaitable<Status> sendXml(Ctx& c, int status, std::string body, http::Headers extra) {
  http::Response r = baseResponse(c, status);
  for (auto& f : extra.fields()) {
    r.headers.add(f.name, f.value);
  }
  r.headers.add("Content-Type", "application/xml");
  co_return co_await c.out.respond(std::move(r), body);
}

asio::awaitable<Status> sendEmpty(Ctx& c, int status, http::Headers extra) {
  http::Response r = baseResponse(c, status);
  for (auto& f : extra.fields()) {
    r.headers.add(f.name, f.value);
  }
  co_return co_await c.out.respond(std::move(r), "");
}

asio::awaitable<Status> checkSourceAccess(Ctx& c, const std::string& srcBucket) {
  auto b = co_await c.ns.getBucket(srcBucket);
  if (b && b->owner != c.owner()) {
    co_return makeError(Code::kPermissionDenied, "Access Denied");
  }
  co_return Status::ok();
}

asio::awaitable<Result<std::string>> readSmallBody(Ctx& c) {
  auto body = co_await http::readWholeBody(c.body, c.options.maxXmlBodyBytes);
  if (!body && body.error().code() == Code::kEntityTooLarge) {
    co_return unexpected(Code::kMalformedXml, "request body too large");  // S3 says MalformedXML
  }
  co_return body;
}

}  // namespace ember::s3

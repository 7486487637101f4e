// Response helpers shared by the Blob operation handlers.
#include <array>

#include <spdlog/spdlog.h>

#include "blob/context.h"
#include "blob/lease_view.h"
#include "blob/wire.h"
#include "common/digest.h"
#include "common/metrics.h"
#include "common/time_util.h"
#include "core/lease.h"

namespace ember::blob {

std::string Ctx::serviceEndpoint() const {
  std::string host(req.headers.get("host", "127.0.0.1"));
  return "http://" + host + "/" + (account ? account->name : std::string()) + "/";
}

std::optional<std::string> Ctx::leaseId() const {
  if (const std::string* v = req.headers.find("x-ms-lease-id")) {
    return *v;
  }
  return std::nullopt;
}

namespace {

metrics::Counter& errorCounter(std::string_view code) {
  static std::mutex mu;
  static std::map<std::string, metrics::Counter*, std::less<>> counters;
  std::lock_guard lock(mu);
  auto it = counters.find(code);
  if (it == counters.end()) {
    it = counters
             .emplace(std::string(code),
                      &metrics::Registry::global().counter(
                          "ember_blob_errors_total", "Blob error responses by Azure error code",
                          {{"code", std::string(code)}}))
             .first;
  }
  return *it->second;
}

}  // namespace

http::Response baseResponse(const Ctx& c, int status) {
  http::Response r;
  r.status = status;
  r.headers.add("x-ms-request-id", c.req.requestId);
  r.headers.add("x-ms-version", c.version);
  if (const std::string* id = c.req.headers.find("x-ms-client-request-id")) {
    r.headers.add("x-ms-client-request-id", *id);
  }
  return r;
}

asio::awaitable<Status> sendError(Ctx& c, const Status& s, http::Headers extra) {
  BlobError e = blobErrorFor(s, c.scope());
  errorCounter(e.code).inc();
  if (e.status >= 500) {
    spdlog::warn("{} {} {}: {}", c.req.requestId, c.req.method, c.req.target, s.toString());
  }
  if (c.out.started()) {
    c.out.closeAfter();  // too late for an error document: the connection drop is the signal
    co_return s;
  }
  http::Response r = baseResponse(c, e.status);
  for (auto& f : extra.fields()) {
    r.headers.add(f.name, f.value);
  }
  r.headers.add("x-ms-error-code", std::string(e.code));
  if (e.status == 401) {
    r.headers.add("WWW-Authenticate",
                  "Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/"
                  "authorize resource_id=https://storage.azure.com");
  }
  if (e.status == 304 || c.req.method == "HEAD") {
    co_return co_await c.out.respond(std::move(r), "");
  }
  std::vector<std::pair<std::string, std::string>> elements;
  std::string_view detail = errorDetail(s);
  if (e.authDetail && !detail.empty()) {
    elements.emplace_back("AuthenticationErrorDetail", std::string(detail));
  }
  r.headers.add("Content-Type", "application/xml");
  // Azure's message for the code, with our detail when it says more (e.g. which header).
  std::string message(e.message);
  const bool detailed = s.code() == Code::kInvalidHeader || s.code() == Code::kMissingHeader ||
                        s.code() == Code::kInvalidQueryParam || s.code() == Code::kNotImplemented ||
                        s.code() == Code::kCopySourceFailed;
  if (!e.authDetail && detailed && !detail.empty() && detail != e.message) {
    message += " " + std::string(detail);
  }
  std::string body = renderBlobErrorXml(e.code, message, c.req.requestId, nowMillis(), elements);
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

asio::awaitable<Result<std::string>> readSmallBody(Ctx& c) {
  co_return co_await http::readWholeBody(c.body, c.options.maxXmlBodyBytes);
}

asio::awaitable<Result<store::BucketRecord>> requireContainer(Ctx& c) {
  auto b = co_await c.ns.getBucket(c.container);
  if (!b) {
    co_return unexpected(b.error());
  }
  if (b->owner != c.owner()) {
    // Each account is its own namespace: another account's container does not exist here.
    co_return unexpected(Code::kNoSuchBucket, "The specified container does not exist.");
  }
  co_return *b;
}

Result<core::BodyVerifier> md5Verifier(const Ctx& c, bool blobMd5) {
  std::optional<std::string> want;
  std::optional<std::string> wantBlob;
  if (const std::string* v = c.req.headers.find("content-md5")) {
    auto raw = base64Decode(*v);
    if (!raw || raw->size() != 16) {
      return unexpected(Code::kInvalidDigest, "The MD5 value specified in the request is invalid.");
    }
    want = *raw;
  }
  if (blobMd5) {
    if (const std::string* v = c.req.headers.find("x-ms-blob-content-md5")) {
      auto raw = base64Decode(*v);
      if (!raw || raw->size() != 16) {
        return unexpected(Code::kInvalidDigest,
                          "The MD5 value specified in the request is invalid.");
      }
      wantBlob = *raw;
    }
  }
  if (!want && !wantBlob) {
    return core::BodyVerifier();
  }
  return core::BodyVerifier([want, wantBlob](const core::Digests& d) -> Status {
    // x-ms-blob-content-md5 describes the whole blob and wins over the transactional header.
    const std::optional<std::string>& check = wantBlob ? wantBlob : want;
    if (*check != d.md5) {
      return makeError(Code::kBadDigest,
                       "The MD5 value specified in the request did not match with the MD5 "
                       "value calculated by the server.");
    }
    return Status::ok();
  });
}

void blobHeaders(http::Headers& h, const store::ObjectRecord& rec, bool metadataOnly) {
  h.add("ETag", quoteEtag(rec.etag));
  h.add("Last-Modified", rfc1123(rec.mtimeMs));
  for (const auto& [name, value] : rec.userMeta) {
    h.add("x-ms-meta-" + name, value);
  }
  if (metadataOnly) {
    return;
  }
  const int64_t now = nowMillis();
  LeaseView lease = leaseView(rec.lease, now);
  h.add("x-ms-creation-time", rfc1123(rec.createdMs != 0 ? rec.createdMs : rec.mtimeMs));
  h.add("x-ms-blob-type", rec.kind == store::ObjectKind::kAppend ? "AppendBlob" : "BlockBlob");
  h.add("x-ms-lease-status", lease.status);
  h.add("x-ms-lease-state", lease.state);
  if (!lease.duration.empty()) {
    h.add("x-ms-lease-duration", lease.duration);
  }
  h.add("x-ms-server-encrypted", "true");
  if (rec.kind == store::ObjectKind::kAppend) {
    h.add("x-ms-blob-committed-block-count", std::to_string(rec.blockCount));
    h.add("x-ms-blob-sealed", rec.sealed ? "true" : "false");
  }
  static const std::pair<const char*, const char*> kCopy[] = {
      {"copy-id", "x-ms-copy-id"},
      {"copy-status", "x-ms-copy-status"},
      {"copy-source", "x-ms-copy-source"},
      {"copy-progress", "x-ms-copy-progress"},
      {"copy-completion-time", "x-ms-copy-completion-time"}};
  for (const auto& [attr, header] : kCopy) {
    for (const auto& [k, v] : rec.attrs) {
      if (k == attr) {
        h.add(header, v);
      }
    }
  }
  for (const auto& [k, v] : rec.attrs) {
    if (k == core::kTierStateAttr) {
      h.add(k, v);  // buckets mapped to a cold store: the object's tier state
    }
  }
  const store::ContentHeaders& ch = rec.content;
  h.add("Content-Type", ch.contentType.empty() ? "application/octet-stream" : ch.contentType);
  if (!ch.contentEncoding.empty()) h.add("Content-Encoding", ch.contentEncoding);
  if (!ch.contentLanguage.empty()) h.add("Content-Language", ch.contentLanguage);
  if (!ch.contentDisposition.empty()) h.add("Content-Disposition", ch.contentDisposition);
  if (!ch.cacheControl.empty()) h.add("Cache-Control", ch.cacheControl);
}

}  // namespace ember::blob

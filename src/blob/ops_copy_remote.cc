// Copies from remote sources: Copy Blob, Put Blob From URL and Put Block From URL whose
// x-ms-copy-source names another host (ops_copy.cc decides which sources are local).
//
// SSRF: nothing is fetched unless the host is on BlobOptions::copySourceHosts; the client then
// refuses loopback and link-local addresses for wildcard entries, never follows redirects (a
// redirect is a source failure), and bounds every step with a deadline (http/client.h).
//
// The source is fetched with one GET (ranged for x-ms-source-range) of the URL as given, so a SAS
// in its query authorizes it; x-ms-copy-source-authorization ("Bearer <token>") is passed as
// Authorization, with our x-ms-version and the x-ms-source-if-* conditions as If-*. The body
// streams straight into putObject/stageBlock with the source's Content-Length as the expected
// size (a source that sends none is refused: a copy of unknown size could not be checked for
// truncation), so memory stays bounded whatever the size. Like local copies, a remote copy
// completes before the response, also for async Copy Blob.
//
// Failure mapping (CannotVerifyCopySource, with x-ms-copy-source-status-code and, when the source
// sent one, x-ms-copy-source-error-code):
//   host not allowed / restricted address    403
//   source answered 4xx or 5xx               the source's status (404 missing, 403 bad SAS...)
//   source condition failed (304/412)        412 ConditionNotMet, as for a local source
//   redirect, no Content-Length, wrong range 400 (the source URL cannot be copied as is)
//   connect/TLS/read failure                 502; timeouts 504
#include <charconv>

#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "blob/ops_copy_remote.h"
#include "blob/wire.h"
#include "common/digest.h"
#include "common/time_util.h"

namespace ember::blob {

namespace {

constexpr int kBadSourceStatus = 400;
constexpr int kTransportStatus = 502;
constexpr int kTimeoutStatus = 504;

// The x-ms-source-if-* conditions, sent to the source as the plain If-* headers.
constexpr std::pair<std::string_view, std::string_view> kSourceConditions[] = {
    {"x-ms-source-if-match", "If-Match"},
    {"x-ms-source-if-none-match", "If-None-Match"},
    {"x-ms-source-if-modified-since", "If-Modified-Since"},
    {"x-ms-source-if-unmodified-since", "If-Unmodified-Since"},
};

struct SourceRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;
};

// x-ms-source-range: "bytes=s-e" or "bytes=s-".
Result<SourceRange> parseSourceRange(std::string_view v) {
  auto bad = [v]() {
    return unexpected(Code::kInvalidHeader,
                      "x-ms-source-range " + std::string(v) + " is not bytes=start-end.");
  };
  if (!v.starts_with("bytes=")) {
    return bad();
  }
  v.remove_prefix(6);
  size_t dash = v.find('-');
  if (dash == std::string_view::npos || dash == 0) {
    return bad();
  }
  SourceRange r;
  auto [p1, e1] = std::from_chars(v.data(), v.data() + dash, r.first);
  if (e1 != std::errc() || p1 != v.data() + dash) {
    return bad();
  }
  std::string_view rest = v.substr(dash + 1);
  if (!rest.empty()) {
    uint64_t last = 0;
    auto [p2, e2] = std::from_chars(rest.data(), rest.data() + rest.size(), last);
    if (e2 != std::errc() || p2 != rest.data() + rest.size() || last < r.first) {
      return bad();
    }
    r.last = last;
  }
  return r;
}

// Checks a 206's Content-Range ("bytes s-e/total") against the range asked for.
bool rangeMatches(std::string_view contentRange, const SourceRange& want, uint64_t length) {
  if (!contentRange.starts_with("bytes ")) {
    return false;
  }
  contentRange.remove_prefix(6);
  uint64_t s = 0;
  uint64_t e = 0;
  size_t dash = contentRange.find('-');
  size_t slash = contentRange.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return false;
  }
  auto [p1, e1] = std::from_chars(contentRange.data(), contentRange.data() + dash, s);
  auto [p2, e2] = std::from_chars(contentRange.data() + dash + 1, contentRange.data() + slash, e);
  if (e1 != std::errc() || e2 != std::errc() || p1 != contentRange.data() + dash ||
      p2 != contentRange.data() + slash) {
    return false;
  }
  return s == want.first && e >= s && (!want.last || e <= *want.last) && e - s + 1 == length;
}

// x-ms-source-content-md5: the MD5 the fetched bytes must have.
Result<core::BodyVerifier> sourceMd5Verifier(const Ctx& c) {
  const std::string* v = c.req.headers.find("x-ms-source-content-md5");
  if (v == nullptr) {
    return core::BodyVerifier();
  }
  auto raw = base64Decode(*v);
  if (!raw || raw->size() != 16) {
    return unexpected(Code::kInvalidDigest, "The MD5 value specified in the request is invalid.");
  }
  return core::BodyVerifier([want = *raw](const core::Digests& d) -> Status {
    if (d.md5 != want) {
      return makeError(Code::kBadDigest, "The MD5 value specified in the request did not match "
                                         "with the MD5 value calculated by the server.");
    }
    return Status::ok();
  });
}

// The source's answer, or why the copy is refused (with the response when the source answered).
struct Source {
  std::unique_ptr<http::ClientResponse> response;
  Status error;
  uint64_t length = 0;
};

Status transportError(const Status& s, std::string_view what) {
  const int status = s.code() == Code::kTimeout            ? kTimeoutStatus
                     : s.code() == Code::kPermissionDenied ? 403
                                                           : kTransportStatus;
  return sourceError(status, std::string(what) + ": " + s.message());
}

// Checks the allow-list and the request's source headers, GETs the source and checks its answer.
asio::awaitable<Source> openSource(Ctx& c, const CopySource& src,
                                   const std::optional<SourceRange>& range) {
  Source out;
  if (c.options.copySourceHosts.match(src.parsed) == http::HostAllowList::Match::kNone) {
    spdlog::warn("{} copy source host {} refused: it is not in [blob] copy_source_hosts",
                 c.req.requestId, src.parsed.authority());
    out.error = sourceError(403, "Copying from " + src.parsed.authority() +
                                     " is not allowed: remote copy source hosts must be listed "
                                     "in [blob] copy_source_hosts.");
    co_return out;
  }
  http::FetchRequest req;
  req.url = src.url;
  req.allowList = &c.options.copySourceHosts;
  req.tls = c.options.copySourceTls;
  req.connectTimeout = c.options.copySourceConnectTimeout;
  req.readTimeout = c.options.copySourceReadTimeout;
  req.maxRedirects = 0;
  req.headers.add("x-ms-version", c.version);
  req.headers.add("x-ms-date", rfc1123(nowMillis()));
  if (const std::string* auth = c.req.headers.find("x-ms-copy-source-authorization")) {
    if (auth->size() < 7 || !iequals(std::string_view(*auth).substr(0, 7), "bearer ")) {
      out.error = makeError(Code::kInvalidHeader,
                            "x-ms-copy-source-authorization must use the Bearer scheme.");
      co_return out;
    }
    req.headers.add("Authorization", *auth);
  }
  bool conditional = false;
  for (const auto& [from, to] : kSourceConditions) {
    if (const std::string* v = c.req.headers.find(from)) {
      req.headers.add(std::string(to), *v);
      conditional = true;
    }
  }
  if (range) {
    std::string value = "bytes=" + std::to_string(range->first) + "-" +
                        (range->last ? std::to_string(*range->last) : std::string());
    req.headers.add("Range", std::move(value));
  }
  const std::string where = src.parsed.withoutQuery();
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto fetched = co_await http::fetch(ex, std::move(req));
  if (!fetched) {
    out.error = transportError(fetched.error(), "Fetching the copy source " + where);
    spdlog::info("{} {}", c.req.requestId, out.error.message());
    co_return out;
  }
  out.response = std::move(*fetched);
  const http::ClientResponse& r = *out.response;
  const int status = r.status();
  const int expected = range ? 206 : 200;
  std::string why;
  if (conditional && (status == 304 || status == 412)) {
    out.error = makeError(Code::kPreconditionFailed, "The source condition specified using HTTP "
                                                     "conditional header(s) is not met.");
  } else if (status >= 400 && status <= 599) {
    std::string code(r.headers().get("x-ms-error-code"));
    out.error = sourceError(status, "The copy source " + where + " answered " +
                                        std::to_string(status) +
                                        (code.empty() ? std::string() : " " + code) + ".");
  } else if (status == 301 || status == 302 || status == 303 || status == 307 ||
             status == 308) {
    why = "answered " + std::to_string(status) + " (a redirect, which is not followed)";
  } else if (status != expected) {
    why = "answered " + std::to_string(status) + " where " + std::to_string(expected) +
          " was expected";
  } else if (!r.contentLength()) {
    why = "sent no Content-Length";
  } else if (range && !rangeMatches(r.headers().get("content-range"), *range,
                                    *r.contentLength())) {
    why = "answered a range other than the one asked for";
  }
  if (!why.empty()) {
    out.error = sourceError(kBadSourceStatus, "The copy source " + where + " " + why + ".");
  }
  if (!out.error.isOk()) {
    spdlog::info("{} {}", c.req.requestId, out.error.message());
    co_return out;
  }
  out.length = *r.contentLength();
  co_return out;
}

asio::awaitable<Status> sendSourceError(Ctx& c, const Source& s) {
  http::Headers extra;
  if (s.error.code() == Code::kCopySourceFailed && s.response) {
    extra.add("x-ms-copy-source-status-code", std::to_string(s.response->status()));
    if (const std::string* code = s.response->headers().find("x-ms-error-code")) {
      extra.add("x-ms-copy-source-error-code", *code);
    }
  }
  co_return co_await sendError(c, s.error, std::move(extra));
}

// The source body, remembering whether a failure came from the source (vs. the local write).
class SourceBody final : public ByteSource {
 public:
  explicit SourceBody(ByteSource& in) : in_(in) {}
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    auto n = co_await in_.read(buf);
    if (!n && failure_.isOk()) {
      failure_ = n.error();
    }
    co_return n;
  }
  // The error to answer for a failed write: the source's when reading it failed.
  Status blame(const Status& writeError, std::string_view where) const {
    if (failure_.isOk()) {
      return writeError;
    }
    return transportError(failure_, "Reading the copy source " + std::string(where));
  }

 private:
  ByteSource& in_;
  Status failure_;
};

store::ContentHeaders sourceContent(const Headers& h) {
  store::ContentHeaders ch;
  ch.contentType = std::string(h.get("content-type"));
  ch.contentEncoding = std::string(h.get("content-encoding"));
  ch.contentLanguage = std::string(h.get("content-language"));
  ch.contentDisposition = std::string(h.get("content-disposition"));
  ch.cacheControl = std::string(h.get("cache-control"));
  return ch;
}

// The destination's conditions and lease, checked before fetching anything so that a doomed
// copy costs no transfer (the commit checks them again).
asio::awaitable<Status> precheckDestination(Ctx& c, const store::CommitCheck& check) {
  auto cur = co_await c.ns.headObject(c.container, c.blob);
  if (cur) {
    co_return check(&*cur);
  }
  if (cur.error().code() == Code::kNoSuchKey) {
    co_return check(nullptr);
  }
  co_return cur.error();
}

}  // namespace

asio::awaitable<Status> copyBlobFromRemote(Ctx& c, const CopySource& src, RemoteCopyInput in) {
  auto verify = sourceMd5Verifier(c);
  if (!verify) {
    co_return co_await sendError(c, verify.error());
  }
  store::CommitCheck check = writeCheck(c, std::move(in.conditions));
  Status dest = co_await precheckDestination(c, check);
  if (!dest) {
    co_return co_await sendError(c, dest);
  }
  const std::optional<SourceRange> whole;
  Source s = co_await openSource(c, src, whole);
  if (!s.error.isOk()) {
    co_return co_await sendSourceError(c, s);
  }
  const Headers& sh = s.response->headers();
  core::PutInput put;
  put.bucket = c.container;
  put.key = c.blob;
  put.owner = c.owner();
  put.content = sourceContent(sh);
  put.expectedSize = s.length;
  put.verify = std::move(*verify);
  put.check = std::move(check);
  if (in.fromUrl) {
    // Put Blob From URL: the source's content properties unless x-ms-copy-source-blob-properties
    // is false, the request's x-ms-blob-content-* over them; metadata only as given.
    store::ContentHeaders given = blobContentHeaders(c);
    if (c.req.headers.get("x-ms-copy-source-blob-properties") == "false") {
      put.content = given;
    } else {
      for (auto [dst, v] : {std::pair{&put.content.contentType, &given.contentType},
                            {&put.content.contentEncoding, &given.contentEncoding},
                            {&put.content.contentLanguage, &given.contentLanguage},
                            {&put.content.contentDisposition, &given.contentDisposition},
                            {&put.content.cacheControl, &given.cacheControl}}) {
        if (!v->empty()) {
          *dst = *v;
        }
      }
      auto md5 = base64Decode(sh.get("content-md5"));
      if (md5 && md5->size() == 16) {
        put.contentMd5 = std::string(sh.get("content-md5"));
      }
    }
    put.userMeta = std::move(in.metadata);
  } else {
    // Copy Blob: the source's metadata (x-ms-meta-* of an Azure source) unless some is given,
    // and its kind (a copy of an append blob is an append blob).
    auto srcMeta = parseBlobMetadata(sh);
    put.userMeta = !in.metadata.empty() || !srcMeta ? std::move(in.metadata) : std::move(*srcMeta);
    if (sh.get("x-ms-blob-type") == "AppendBlob") {
      put.kind = store::ObjectKind::kAppend;
    }
  }
  SourceBody body(s.response->body());
  auto rec = co_await c.ns.putObject(std::move(put), body);
  if (!rec) {
    Status failed = body.blame(rec.error(), src.parsed.withoutQuery());
    co_return co_await sendError(c, failed);
  }
  if (in.fromUrl) {
    // A Put Blob replaces the blob whole: blocks staged for it are dropped.
    Status dropped = co_await c.ns.dropStagedBlocks(c.container, c.blob);
    dropped.ignoreError();
    co_return co_await finishPutBlobFromUrl(c, *rec);
  }
  co_return co_await finishCopyBlob(c, src, *rec);
}

asio::awaitable<Status> putBlockFromRemote(Ctx& c, const CopySource& src, std::string blockId) {
  auto verify = sourceMd5Verifier(c);
  if (!verify) {
    co_return co_await sendError(c, verify.error());
  }
  std::optional<SourceRange> range;
  if (const std::string* r = c.req.headers.find("x-ms-source-range")) {
    auto parsed = parseSourceRange(*r);
    if (!parsed) {
      co_return co_await sendError(c, parsed.error());
    }
    range = *parsed;
  }
  Source s = co_await openSource(c, src, range);
  if (!s.error.isOk()) {
    co_return co_await sendSourceError(c, s);
  }
  core::StageBlockInput in;
  in.bucket = c.container;
  in.key = c.blob;
  in.blockId = std::move(blockId);
  in.owner = c.owner();
  in.expectedSize = s.length;
  in.verify = std::move(*verify);
  SourceBody body(s.response->body());
  auto part = co_await c.ns.stageBlock(std::move(in), body);
  if (!part) {
    Status failed = body.blame(part.error(), src.parsed.withoutQuery());
    co_return co_await sendError(c, failed);
  }
  http::Headers h;
  if (auto raw = hexDecode(part->etag)) {
    h.add("Content-MD5", base64Encode(*raw));
  }
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

}  // namespace ember::blob

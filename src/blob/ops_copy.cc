// Copy operations: Copy Blob (async and sync), Put Blob From URL, Put Block From URL, Abort Copy.
//
// A copy source on this endpoint (the request's own host and port, a loopback alias of it, or a
// virtual host <account>.blob.<domain> of an account served here) is resolved locally and copied
// at once, so every copy completes before the response (x-ms-copy-status: success) and Abort Copy
// always finds nothing pending. Source authorization: a SAS in the source URL is verified for
// read; without one the source must belong to the caller's account.
//
// A source on any other host is remote: ops_copy_remote.cc fetches it over HTTP(S) when the host
// is on the copy-source allow-list (BlobOptions::copySourceHosts) and refuses it otherwise. The
// account name alone never makes a source local: two servers may serve accounts of one name.
#include <charconv>

#include "auth/azure_sas.h"
#include "auth/sigv4.h"
#include "blob/context.h"
#include "blob/ops_copy_remote.h"
#include "blob/wire.h"
#include "common/digest.h"
#include "common/time_util.h"
#include "core/lease.h"

namespace ember::blob {

namespace {

bool isLoopbackName(std::string_view h) {
  return h == "localhost" || h.ends_with(".localhost") || h == "::1" ||
         (h.starts_with("127.") && h.find_first_not_of("0123456789.") == std::string_view::npos);
}

// Whether `u` names this endpoint: the request's Host (same host and port), a loopback alias of
// it on the same port, or a virtual host of one of our accounts on the same port. Without a Host
// header (HTTP/1.0) there is nothing to compare, and a source is local unless it is on the
// allow-list.
bool onThisEndpoint(const Ctx& c, const http::Url& u) {
  const std::string* host = c.req.headers.find("host");
  if (host == nullptr) {
    return c.options.copySourceHosts.match(u) == http::HostAllowList::Match::kNone;
  }
  auto self = http::parseUrl(u.scheme + "://" + *host + "/");
  if (!self || self->port != u.port) {
    return false;
  }
  if (self->host == u.host || (isLoopbackName(self->host) && isLoopbackName(u.host))) {
    return true;
  }
  for (const std::string& d : c.options.domains) {
    const std::string suffix = ".blob." + toLower(d);
    if (u.host.size() > suffix.size() && u.host.ends_with(suffix)) {
      const std::string_view acct(u.host.data(), u.host.size() - suffix.size());
      for (const BlobAccount& a : c.options.accounts) {
        if (a.name == acct) {
          return true;
        }
      }
    }
  }
  return false;
}

// Parses x-ms-copy-source and, for a local source, checks that the caller may read it. A remote
// source comes back with `remote` set; its authorization is the source server's business.
Result<CopySource> resolveSource(const Ctx& c) {
  CopySource src;
  src.url = std::string(c.req.headers.get("x-ms-copy-source"));
  auto parsed = http::parseUrl(src.url);
  if (!parsed) {
    return unexpected(Code::kInvalidHeader,
                      "x-ms-copy-source is not a valid http(s) URL: " + parsed.error().message());
  }
  src.parsed = std::move(*parsed);
  if (!onThisEndpoint(c, src.parsed)) {
    src.remote = true;
    return src;
  }
  std::string_view path = std::string_view(src.parsed.path).substr(1);
  std::string_view query = src.parsed.query;
  std::string decoded = auth::uriDecodeLenient(path);
  std::string_view p = decoded;
  // Virtual-host style names the account in the host; path style in the first segment.
  std::string hostAccount;
  std::string_view h = src.parsed.host;
  for (const std::string& d : c.options.domains) {
    std::string suffix = ".blob." + d;
    if (h.size() > suffix.size() && iequals(h.substr(h.size() - suffix.size()), suffix)) {
      hostAccount = toLower(h.substr(0, h.size() - suffix.size()));
    }
  }
  if (!hostAccount.empty()) {
    src.account = hostAccount;
  } else {
    size_t s = p.find('/');
    src.account = std::string(p.substr(0, s));
    p = s == std::string_view::npos ? std::string_view() : p.substr(s + 1);
  }
  size_t s = p.find('/');
  if (s == std::string_view::npos || s == 0 || s + 1 >= p.size()) {
    return unexpected(Code::kInvalidHeader, "x-ms-copy-source does not name a blob.");
  }
  src.container = std::string(p.substr(0, s));
  src.blob = std::string(p.substr(s + 1));
  const BlobAccount* owner = nullptr;
  for (const BlobAccount& a : c.options.accounts) {
    if (a.name == src.account) {
      owner = &a;
    }
  }
  if (owner == nullptr) {
    return unexpected(sourceError(404, "The copy source names an account this server does not "
                                       "serve."));
  }
  if (auth::hasSas(query)) {
    std::vector<auth::AzureAccount> keys;
    auth::AzureAccount acct{owner->name, owner->keys};
    auth::AzureAccountLookup lookup = [&acct](std::string_view name) {
      return name == acct.name ? &acct : nullptr;
    };
    std::string ip = c.req.remoteAddress.substr(0, c.req.remoteAddress.rfind(':'));
    auth::SasInput in{query, src.account, src.container, src.blob, nowSeconds(), ip, false};
    auto grant = auth::verifySas(in, lookup);
    if (!grant) {
      return unexpected(sourceError(403, grant.error().message()));
    }
    if (Status ok = auth::sasPermits(*grant, 'r', auth::ResourceLevel::kObject, src.container,
                                     src.blob);
        !ok) {
      return unexpected(sourceError(403, ok.message()));
    }
  } else if (c.req.headers.has("x-ms-copy-source-authorization")) {
    return unexpected(sourceError(403, "Bearer source authorization is not supported yet."));
  } else if (c.account == nullptr || owner->name != c.account->name) {
    return unexpected(sourceError(403, "The copy source is in another account and the request "
                                       "carries no SAS for it."));
  }
  return src;
}

// Source-side failures of a copy name the source (CannotVerifyCopySource with its status).
Status asSourceError(const Status& s) {
  if (s.code() == Code::kNoSuchKey || s.code() == Code::kNoSuchBucket) {
    return sourceError(404, "The specified blob does not exist.");
  }
  return s;
}

}  // namespace

Status sourceError(int status, std::string message) {
  return makeError(Code::kCopySourceFailed, std::to_string(status) + ":" + std::move(message));
}

std::string newCopyId() {
  std::string h = core::newId();
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

asio::awaitable<Status> finishPutBlobFromUrl(Ctx& c, const store::ObjectRecord& rec) {
  http::Headers h;
  h.add("ETag", quoteEtag(rec.etag));
  h.add("Last-Modified", rfc1123(rec.mtimeMs));
  h.add("Content-MD5", rec.contentMd5);
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

asio::awaitable<Status> finishCopyBlob(Ctx& c, const CopySource& src,
                                       const store::ObjectRecord& rec) {
  // The copy is complete; record its status on the destination as Azure does.
  const std::string copyId = newCopyId();
  const std::string progress = std::to_string(rec.size) + "/" + std::to_string(rec.size);
  store::StringPairs attrs = {{"copy-id", copyId},
                              {"copy-status", "success"},
                              {"copy-source", src.url.substr(0, src.url.find('?'))},
                              {"copy-progress", progress},
                              {"copy-completion-time", rfc1123(rec.mtimeMs)}};
  store::RecordUpdate update = [attrs](store::ObjectRecord& r) {
    r.attrs = attrs;
    return Status::ok();
  };
  auto updated = co_await c.ns.updateObject(c.container, c.blob, update);
  const store::ObjectRecord& out = updated ? *updated : rec;
  http::Headers h;
  h.add("ETag", quoteEtag(out.etag));
  h.add("Last-Modified", rfc1123(out.mtimeMs));
  h.add("x-ms-copy-id", copyId);
  h.add("x-ms-copy-status", "success");
  if (iequals(c.req.headers.get("x-ms-requires-sync"), "true")) {
    h.add("Content-MD5", rec.contentMd5);
  }
  co_return co_await sendEmpty(c, 202, std::move(h));
}

asio::awaitable<Status> copyBlob(Ctx& c) {
  const std::string type(c.req.headers.get("x-ms-blob-type"));
  const bool fromUrl = !type.empty();  // Put Blob From URL names the type; Copy Blob does not
  if (fromUrl && type != "BlockBlob") {
    co_return co_await sendError(
        c, makeError(Code::kInvalidHeader, "Put Blob From URL creates block blobs only."));
  }
  auto meta = parseBlobMetadata(c.req.headers);
  auto cond = parseBlobConditions(c.req.headers, false);
  auto srcCond = parseBlobConditions(c.req.headers, true);
  if (!meta || !cond || !srcCond) {
    co_return co_await sendError(c, !meta ? meta.error() : !cond ? cond.error() : srcCond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto src = resolveSource(c);
  if (!src) {
    co_return co_await sendError(c, src.error());
  }
  if (src->remote) {
    RemoteCopyInput remote{fromUrl, std::move(*meta), std::move(*cond)};
    co_return co_await copyBlobFromRemote(c, *src, std::move(remote));
  }
  auto srcRec = co_await c.ns.headObject(src->container, src->blob);
  if (!srcRec) {
    co_return co_await sendError(c, asSourceError(srcRec.error()));
  }
  core::CopyInput in;
  in.srcBucket = src->container;
  in.srcKey = src->blob;
  in.srcConditions = *srcCond;
  in.dst.bucket = c.container;
  in.dst.key = c.blob;
  in.dst.owner = c.owner();
  in.dst.check = writeCheck(c, std::move(*cond));
  in.directive = core::MetadataDirective::kReplace;
  in.dst.content = srcRec->content;
  in.dst.userMeta = meta->empty() && !fromUrl ? srcRec->userMeta : *meta;
  if (fromUrl) {
    store::ContentHeaders given = blobContentHeaders(c);
    if (c.req.headers.get("x-ms-copy-source-blob-properties") == "false") {
      in.dst.content = given;
    } else {
      auto take = [](std::string& dst, const std::string& v) {
        if (!v.empty()) {
          dst = v;
        }
      };
      take(in.dst.content.contentType, given.contentType);
      take(in.dst.content.contentEncoding, given.contentEncoding);
      take(in.dst.content.contentLanguage, given.contentLanguage);
      take(in.dst.content.contentDisposition, given.contentDisposition);
      take(in.dst.content.cacheControl, given.cacheControl);
    }
  }
  if (in.srcBucket == in.dst.bucket && in.srcKey == in.dst.key) {
    in.dst.userMeta = meta->empty() ? srcRec->userMeta : *meta;  // a copy onto itself
  }
  auto rec = co_await c.ns.copyObject(std::move(in));
  if (!rec) {
    Status s = rec.error();
    if (s.code() == Code::kPreconditionFailed && srcCond->ifMatch) {
      s = makeError(Code::kPreconditionFailed, "The source condition specified using HTTP "
                                               "conditional header(s) is not met.");
    }
    co_return co_await sendError(c, s);
  }
  if (fromUrl) {
    co_return co_await finishPutBlobFromUrl(c, *rec);
  }
  co_return co_await finishCopyBlob(c, *src, *rec);
}

asio::awaitable<Status> putBlockFromUrl(Ctx& c) {
  auto id = decodeBlockId(c.queryValue("blockid"));
  if (!id) {
    co_return co_await sendError(c, id.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto src = resolveSource(c);
  if (!src) {
    co_return co_await sendError(c, src.error());
  }
  if (src->remote) {
    co_return co_await putBlockFromRemote(c, *src, std::move(*id));
  }
  auto srcRec = co_await c.ns.headObject(src->container, src->blob);
  if (!srcRec) {
    co_return co_await sendError(c, asSourceError(srcRec.error()));
  }
  std::optional<core::ByteRange> range;
  if (const std::string* r = c.req.headers.find("x-ms-source-range")) {
    Headers probe;
    probe.add("x-ms-range", *r);
    auto parsed = parseBlobRange(probe, srcRec->size);
    if (!parsed) {
      co_return co_await sendError(c, parsed.error());
    }
    range = *parsed;
  }
  core::StageBlockInput in;
  in.bucket = c.container;
  in.key = c.blob;
  in.blockId = std::move(*id);
  in.owner = c.owner();
  auto part = co_await c.ns.stageBlockFromObject(std::move(in), src->container, src->blob, range);
  if (!part) {
    co_return co_await sendError(c, asSourceError(part.error()));
  }
  http::Headers h;
  if (auto raw = hexDecode(part->etag)) {
    h.add("Content-MD5", base64Encode(*raw));
  }
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

asio::awaitable<Status> abortCopy(Ctx& c) {
  if (toLower(c.req.headers.get("x-ms-copy-action")) != "abort") {
    co_return co_await sendError(
        c, makeError(Code::kMissingHeader, "An HTTP header that's mandatory for this request "
                                           "is not specified: x-ms-copy-action"));
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto rec = co_await c.ns.headObject(c.container, c.blob);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  std::string copyId = c.queryValue("copyid");
  for (const auto& [k, v] : rec->attrs) {
    if (k == "copy-id" && v == copyId) {
      co_return co_await sendError(
          c, makeError(Code::kNoPendingCopy, "There is currently no pending copy operation."));
    }
  }
  co_return co_await sendError(
      c, makeError(Code::kCopyIdMismatch,
                   "The specified copy ID did not match the copy ID for the pending copy "
                   "operation."));
}

}  // namespace ember::blob

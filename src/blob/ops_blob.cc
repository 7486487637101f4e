// Blob operations: Put Blob, Get Blob / Get Blob Properties, Delete Blob, metadata and properties,
// tier, leases.
#include <charconv>

#include "blob/context.h"
#include "blob/wire.h"
#include "common/digest.h"
#include "common/time_util.h"
#include "core/lease.h"

namespace ember::blob {

namespace {

constexpr uint64_t kMaxRangeMd5Bytes = 4ULL << 20;

http::Headers writeHeaders(const store::ObjectRecord& rec) {
  http::Headers h;
  h.add("ETag", quoteEtag(rec.etag));
  h.add("Last-Modified", rfc1123(rec.mtimeMs));
  return h;
}

}  // namespace

store::CommitCheck writeCheck(const Ctx& c, core::Conditions cond) {
  std::optional<std::string> leaseId = c.leaseId();
  return [cond = std::move(cond), leaseId](const store::ObjectRecord* cur) -> Status {
    EMBER_TRY(checkBlobConditions(cond, cur, false));
    if (cur != nullptr) {
      return core::checkLeaseForWrite(cur->lease, leaseId, nowMillis());
    }
    if (leaseId) {
      return makeError(Code::kLeaseNotPresent,
                       "There is currently no lease on the blob.");
    }
    return Status::ok();
  };
}

store::ContentHeaders blobContentHeaders(const Ctx& c) {
  const Headers& h = c.req.headers;
  store::ContentHeaders ch;
  ch.contentType = std::string(h.get("x-ms-blob-content-type"));
  ch.contentEncoding = std::string(h.get("x-ms-blob-content-encoding"));
  ch.contentLanguage = std::string(h.get("x-ms-blob-content-language"));
  ch.contentDisposition = std::string(h.get("x-ms-blob-content-disposition"));
  ch.cacheControl = std::string(h.get("x-ms-blob-cache-control"));
  return ch;
}

std::string newPropertyEtag() { return hexEncode(md5Raw(core::newId())) + "-1"; }

asio::awaitable<Status> putBlob(Ctx& c) {
  const std::string type(c.req.headers.get("x-ms-blob-type"));
  if (type.empty()) {
    co_return co_await sendError(
        c, makeError(Code::kMissingHeader, "An HTTP header that's mandatory for this request "
                                           "is not specified: x-ms-blob-type"));
  }
  if (type != "BlockBlob" && type != "AppendBlob") {
    co_return co_await sendError(c, makeError(type == "PageBlob" ? Code::kNotImplemented
                                                                 : Code::kInvalidHeader,
                                              "x-ms-blob-type " + type + " is not supported."));
  }
  if (!c.req.contentLength) {
    co_return co_await sendError(
        c, makeError(Code::kMissingContentLength, "Content-Length is required."));
  }
  const bool append = type == "AppendBlob";
  if (append && *c.req.contentLength != 0) {
    co_return co_await sendError(
        c, makeError(Code::kInvalidHeader,
                     "The value for Content-Length must be 0 when creating an append blob."));
  }
  auto meta = parseBlobMetadata(c.req.headers);
  auto cond = parseBlobConditions(c.req.headers, false);
  auto verify = md5Verifier(c, true);
  if (!meta || !cond || !verify) {
    co_return co_await sendError(c, !meta ? meta.error() : !cond ? cond.error() : verify.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  core::PutInput in;
  in.bucket = c.container;
  in.key = c.blob;
  in.owner = c.owner();
  in.content = blobContentHeaders(c);
  // Plain Content-* describe the blob too when no x-ms-blob-content-* says otherwise.
  if (in.content.contentType.empty()) {
    in.content.contentType = std::string(c.req.headers.get("content-type"));
  }
  if (in.content.contentEncoding.empty()) {
    in.content.contentEncoding = std::string(c.req.headers.get("content-encoding"));
  }
  if (in.content.contentLanguage.empty()) {
    in.content.contentLanguage = std::string(c.req.headers.get("content-language"));
  }
  if (in.content.contentDisposition.empty()) {
    in.content.contentDisposition = std::string(c.req.headers.get("content-disposition"));
  }
  if (in.content.cacheControl.empty()) {
    in.content.cacheControl = std::string(c.req.headers.get("cache-control"));
  }
  in.userMeta = std::move(*meta);
  in.expectedSize = c.req.contentLength;
  in.verify = std::move(*verify);
  in.kind = append ? store::ObjectKind::kAppend : store::ObjectKind::kBlock;
  in.contentMd5 = std::string(c.req.headers.get("x-ms-blob-content-md5"));
  in.check = writeCheck(c, std::move(*cond));
  auto rec = co_await c.ns.putObject(std::move(in), c.body);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  // A Put Blob replaces the blob whole: blocks staged for it are dropped.
  Status dropped = co_await c.ns.dropStagedBlocks(c.container, c.blob);
  dropped.ignoreError();
  http::Headers h = writeHeaders(*rec);
  if (!append && !rec->contentMd5.empty()) {
    h.add("Content-MD5", rec->contentMd5);
  }
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

asio::awaitable<Status> getBlob(Ctx& c, bool head) {
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!cond) {
    co_return co_await sendError(c, cond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  core::ReadInput in;
  in.bucket = c.container;
  in.key = c.blob;
  auto h = co_await c.ns.openRead(std::move(in));
  if (!h) {
    co_return co_await sendError(c, h.error());
  }
  const store::ObjectRecord& rec = h->record();
  if (Status s = checkBlobConditions(*cond, &rec, true); !s) {
    co_return co_await sendError(c, s, writeHeaders(rec));
  }
  if (auto id = c.leaseId()) {
    if (Status s = core::checkLeaseForRead(rec.lease, *id, nowMillis()); !s) {
      co_return co_await sendError(c, s);
    }
  }
  auto range = parseBlobRange(c.req.headers, rec.size);
  if (!range) {
    http::Headers extra;
    if (range.error().code() == Code::kInvalidRange) {
      extra.add("Content-Range", "bytes */" + std::to_string(rec.size));
    }
    co_return co_await sendError(c, range.error(), std::move(extra));
  }
  if (*range) {
    h->offset = (*range)->first;
    h->length = (*range)->length;
    h->partial = true;
  }
  http::Response resp = baseResponse(c, h->partial ? 206 : 200);
  blobHeaders(resp.headers, rec, false);
  if (c.sas) {
    // A service SAS may sign response header overrides (rscc, rscd, rsce, rscl, rsct).
    const auto& o = c.sas->responseOverrides;
    const std::pair<const char*, const std::string*> overrides[] = {
        {"Cache-Control", &o.cacheControl},       {"Content-Disposition", &o.contentDisposition},
        {"Content-Encoding", &o.contentEncoding}, {"Content-Language", &o.contentLanguage},
        {"Content-Type", &o.contentType}};
    for (const auto& [name, value] : overrides) {
      if (!value->empty()) {
        resp.headers.set(name, *value);
      }
    }
  }
  resp.headers.add("Accept-Ranges", "bytes");
  if (head) {
    resp.headers.add("x-ms-access-tier", "Hot");
    resp.headers.add("x-ms-access-tier-inferred", "true");
  }
  if (h->partial) {
    uint64_t last = h->length == 0 ? h->offset : h->offset + h->length - 1;
    resp.headers.add("Content-Range", "bytes " + std::to_string(h->offset) + "-" +
                                          std::to_string(last) + "/" + std::to_string(rec.size));
    if (!rec.contentMd5.empty()) {
      resp.headers.add("x-ms-blob-content-md5", rec.contentMd5);
    }
  } else if (!rec.contentMd5.empty()) {
    resp.headers.add("Content-MD5", rec.contentMd5);
  }
  if (iequals(c.req.headers.get("x-ms-range-get-content-md5"), "true")) {
    if (!h->partial || h->length > kMaxRangeMd5Bytes) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidHeader, "OutOfRangeInput: x-ms-range-get-content-md5 needs a "
                                             "range of at most 4 MiB."));
    }
    // The range's MD5 goes in a header, so the (small) range is read before it is sent.
    std::string data(h->length, '\0');
    size_t done = 0;
    while (done < data.size()) {
      auto n = h->reader->readAt(h->offset + done, std::span<char>(data).subspan(done));
      if (!n || *n == 0) {
        co_return co_await sendError(c, n ? makeError(Code::kCorruption, "short object")
                                          : n.error());
      }
      done += *n;
    }
    resp.headers.add("Content-MD5", base64Encode(md5Raw(data)));
    Status s = co_await c.out.start(std::move(resp), data.size());
    if (!s || head) {
      co_return s;
    }
    s = co_await c.out.write(data);
    if (!s) {
      co_return s;
    }
    co_return co_await c.out.finish();
  }
  Status s = co_await c.out.start(std::move(resp), h->length);
  if (!s || head) {
    co_return s;
  }
  http::ResponseSink sink(c.out);
  s = co_await c.ns.streamRead(*h, sink);
  if (!s) {
    c.out.closeAfter();  // the body is short: the client must see the connection drop
    co_return s;
  }
  co_return co_await c.out.finish();
}

asio::awaitable<Status> deleteBlob(Ctx& c) {
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!cond) {
    co_return co_await sendError(c, cond.error());
  }
  if (c.req.headers.get("x-ms-delete-snapshots") == "only") {
    co_return co_await sendEmpty(c, 202);  // blobs have no snapshots here
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  store::CommitCheck base = writeCheck(c, std::move(*cond));
  store::CommitCheck check = [base](const store::ObjectRecord* cur) -> Status {
    if (cur == nullptr) {
      return makeError(Code::kNoSuchKey, "The specified blob does not exist.");
    }
    return base(cur);
  };
  auto r = co_await c.ns.deleteObject(c.container, c.blob, {}, check);
  if (!r) {
    co_return co_await sendError(c, r.error());
  }
  Status dropped = co_await c.ns.dropStagedBlocks(c.container, c.blob);
  dropped.ignoreError();
  co_return co_await sendEmpty(c, 202);
}

asio::awaitable<Status> getBlobMetadata(Ctx& c, bool head) {
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto rec = co_await c.ns.headObject(c.container, c.blob);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!cond) {
    co_return co_await sendError(c, cond.error());
  }
  if (Status s = checkBlobConditions(*cond, &*rec, true); !s) {
    co_return co_await sendError(c, s);
  }
  http::Headers h;
  blobHeaders(h, *rec, true);
  (void)head;
  co_return co_await sendEmpty(c, 200, std::move(h));
}

namespace {

// A metadata-only write: conditions and lease, then `edit`, then a new ETag and mtime.
asio::awaitable<Status> rewriteBlob(Ctx& c, std::function<Status(store::ObjectRecord&)> edit,
                                    int status, bool sealedHeader) {
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!cond) {
    co_return co_await sendError(c, cond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  store::CommitCheck check = writeCheck(c, std::move(*cond));
  store::RecordUpdate update = [check, edit](store::ObjectRecord& r) -> Status {
    EMBER_TRY(check(&r));
    EMBER_TRY(edit(r));
    r.etag = newPropertyEtag();
    r.mtimeMs = nowMillis();
    return Status::ok();
  };
  auto rec = co_await c.ns.updateObject(c.container, c.blob, update);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  http::Headers h = writeHeaders(*rec);
  if (sealedHeader) {
    h.add("x-ms-blob-sealed", "true");
  } else {
    h.add("x-ms-request-server-encrypted", "true");
  }
  co_return co_await sendEmpty(c, status, std::move(h));
}

}  // namespace

asio::awaitable<Status> setBlobMetadata(Ctx& c) {
  auto meta = parseBlobMetadata(c.req.headers);
  if (!meta) {
    co_return co_await sendError(c, meta.error());
  }
  co_return co_await rewriteBlob(
      c,
      [m = std::move(*meta)](store::ObjectRecord& r) {
        r.userMeta = m;
        return Status::ok();
      },
      200, false);
}

asio::awaitable<Status> setBlobProperties(Ctx& c) {
  std::string md5(c.req.headers.get("x-ms-blob-content-md5"));
  if (!md5.empty()) {
    auto raw = base64Decode(md5);
    if (!raw || raw->size() != 16) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidDigest, "The MD5 value specified in the request is invalid."));
    }
  }
  // Properties the request omits are cleared, as Azure does.
  store::ContentHeaders content = blobContentHeaders(c);
  co_return co_await rewriteBlob(
      c,
      [content, md5](store::ObjectRecord& r) {
        std::string expires = r.content.expires;
        r.content = content;
        r.content.expires = expires;
        r.contentMd5 = md5;
        return Status::ok();
      },
      200, false);
}

asio::awaitable<Status> setBlobTier(Ctx& c) {
  std::string tier(c.req.headers.get("x-ms-access-tier"));
  if (tier != "Hot" && tier != "Cool" && tier != "Cold") {
    co_return co_await sendError(
        c, makeError(Code::kInvalidHeader,
                     "x-ms-access-tier: only Hot, Cool and Cold are accepted (all are served "
                     "from the warm tier)."));
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto rec = co_await c.ns.headObject(c.container, c.blob);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  co_return co_await sendEmpty(c, 200);
}

Result<core::LeaseInput> parseLeaseInput(const Ctx& c) {
  const Headers& h = c.req.headers;
  std::string action = toLower(h.get("x-ms-lease-action"));
  core::LeaseInput in;
  if (action.empty()) {
    return unexpected(Code::kMissingHeader, "An HTTP header that's mandatory for this request "
                                            "is not specified: x-ms-lease-action");
  }
  if (action == "acquire") in.action = core::LeaseAction::kAcquire;
  else if (action == "renew") in.action = core::LeaseAction::kRenew;
  else if (action == "change") in.action = core::LeaseAction::kChange;
  else if (action == "release") in.action = core::LeaseAction::kRelease;
  else if (action == "break") in.action = core::LeaseAction::kBreak;
  else return unexpected(Code::kInvalidHeader, "x-ms-lease-action is not valid.");
  in.leaseId = std::string(h.get("x-ms-lease-id"));
  in.proposedId = std::string(h.get("x-ms-proposed-lease-id"));
  auto intHeader = [&h](std::string_view name) -> Result<std::optional<int32_t>> {
    const std::string* v = h.find(name);
    if (v == nullptr) {
      return std::optional<int32_t>();
    }
    int32_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) {
      return unexpected(Code::kInvalidHeader, std::string(name) + " is not a number.");
    }
    return std::optional<int32_t>(n);
  };
  auto duration = intHeader("x-ms-lease-duration");
  auto breakPeriod = intHeader("x-ms-lease-break-period");
  if (!duration || !breakPeriod) {
    return unexpected(!duration ? duration.error() : breakPeriod.error());
  }
  if (in.action == core::LeaseAction::kAcquire) {
    if (!*duration) {
      return unexpected(Code::kMissingHeader, "An HTTP header that's mandatory for this request "
                                              "is not specified: x-ms-lease-duration");
    }
    in.durationSec = **duration;
  }
  in.breakPeriodSec = *breakPeriod;
  if ((in.action == core::LeaseAction::kRenew || in.action == core::LeaseAction::kChange ||
       in.action == core::LeaseAction::kRelease) &&
      in.leaseId.empty()) {
    return unexpected(Code::kMissingHeader, "An HTTP header that's mandatory for this request "
                                            "is not specified: x-ms-lease-id");
  }
  if (in.action == core::LeaseAction::kChange && in.proposedId.empty()) {
    return unexpected(Code::kMissingHeader, "An HTTP header that's mandatory for this request "
                                            "is not specified: x-ms-proposed-lease-id");
  }
  return in;
}

asio::awaitable<Status> sendLeaseResult(Ctx& c, const core::LeaseInput& in,
                                        const core::LeaseResult& r) {
  http::Headers h;
  if (!r.etag.empty()) {
    h.add("ETag", quoteEtag(r.etag));
    h.add("Last-Modified", rfc1123(r.mtimeMs));
  }
  int status = 200;
  switch (in.action) {
    case core::LeaseAction::kAcquire:
      status = 201;
      h.add("x-ms-lease-id", r.leaseId);
      break;
    case core::LeaseAction::kRenew:
    case core::LeaseAction::kChange:
      h.add("x-ms-lease-id", r.leaseId);
      break;
    case core::LeaseAction::kRelease:
      break;
    case core::LeaseAction::kBreak:
      status = 202;
      h.add("x-ms-lease-time", std::to_string(r.leaseTimeSec));
      break;
  }
  co_return co_await sendEmpty(c, status, std::move(h));
}

asio::awaitable<Status> leaseBlob(Ctx& c) {
  auto in = parseLeaseInput(c);
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!in || !cond) {
    co_return co_await sendError(c, !in ? in.error() : cond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  core::Conditions conditions = *cond;
  std::function<Status(const store::ObjectRecord&)> check =
      [conditions](const store::ObjectRecord& rec) {
        return checkBlobConditions(conditions, &rec, false);
      };
  auto r = co_await c.ns.leaseObject(c.container, c.blob, *in, check);
  if (!r) {
    co_return co_await sendError(c, r.error());
  }
  co_return co_await sendLeaseResult(c, *in, *r);
}

}  // namespace ember::blob

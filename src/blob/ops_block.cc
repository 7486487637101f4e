// Block blob and append blob operations: Put Block, Put Block List, Get Block List, Append Block,
// Seal.
#include <atomic>
#include <charconv>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "blob/context.h"
#include "blob/wire.h"
#include "blob/xml.h"
#include "common/digest.h"
#include "common/time_util.h"
#include "core/lease.h"

namespace ember::blob {

namespace {

Result<std::optional<uint64_t>> uintHeader(const Ctx& c, std::string_view name) {
  const std::string* v = c.req.headers.find(name);
  if (v == nullptr) {
    return std::optional<uint64_t>();
  }
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return unexpected(Code::kInvalidHeader,
                      "The value for one of the HTTP headers is not in the correct format: " +
                          std::string(name));
  }
  return std::optional<uint64_t>(n);
}

constexpr int64_t kStagedBlockLifetimeMs = 7LL * 24 * 3600 * 1000;  // Azure: one week
constexpr int64_t kReapIntervalMs = 3600LL * 1000;

// At most hourly, a Put Block starts a sweep (in the background) that drops blocks left
// uncommitted for a week.
void maybeReapStagedBlocks(Ctx& c, const asio::any_io_executor& ex) {
  static std::atomic<int64_t> lastReap{0};
  int64_t now = nowMillis();
  int64_t last = lastReap.load(std::memory_order_relaxed);
  if (now - last < kReapIntervalMs ||
      !lastReap.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return;
  }
  core::Namespace& ns = c.ns;
  asio::co_spawn(
      ex,
      [&ns, now]() -> asio::awaitable<void> {
        auto n = co_await ns.reapStagedBlocks(now - kStagedBlockLifetimeMs);
        if (n && *n > 0) {
          spdlog::info("blob: dropped the staged blocks of {} blob(s) left uncommitted for a week",
                       *n);
        }
      },
      asio::detached);
}

// Fails when the blob exists with an active lease the request does not name.
asio::awaitable<Status> checkBlobLease(Ctx& c) {
  auto rec = co_await c.ns.headObject(c.container, c.blob);
  if (!rec) {
    co_return Status::ok();  // staging blocks for a blob that does not exist yet
  }
  if (rec->kind == store::ObjectKind::kAppend) {
    co_return makeError(Code::kWrongObjectKind, "The blob type is invalid for this operation.");
  }
  co_return core::checkLeaseForWrite(rec->lease, c.leaseId(), nowMillis());
}

}  // namespace

asio::awaitable<Status> putBlock(Ctx& c) {
  if (!c.hasQuery("blockid") || c.queryValue("blockid").empty()) {
    co_return co_await sendError(
        c, makeError(Code::kInvalidQueryParam, "The blockid query parameter is required."));
  }
  auto id = decodeBlockId(c.queryValue("blockid"));
  auto verify = md5Verifier(c, false);
  if (!id || !verify) {
    co_return co_await sendError(c, !id ? id.error() : verify.error());
  }
  if (!c.req.contentLength) {
    co_return co_await sendError(
        c, makeError(Code::kMissingContentLength, "Content-Length is required."));
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  if (Status s = co_await checkBlobLease(c); !s) {
    co_return co_await sendError(c, s);
  }
  core::StageBlockInput in;
  in.bucket = c.container;
  in.key = c.blob;
  in.blockId = std::move(*id);
  in.owner = c.owner();
  in.expectedSize = c.req.contentLength;
  in.verify = std::move(*verify);
  auto part = co_await c.ns.stageBlock(std::move(in), c.body);
  if (!part) {
    co_return co_await sendError(c, part.error());
  }
  maybeReapStagedBlocks(c, co_await asio::this_coro::executor);
  http::Headers h;
  if (auto raw = hexDecode(part->etag)) {
    h.add("Content-MD5", base64Encode(*raw));
  }
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

asio::awaitable<Status> putBlockList(Ctx& c) {
  auto meta = parseBlobMetadata(c.req.headers);
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!meta || !cond) {
    co_return co_await sendError(c, !meta ? meta.error() : cond.error());
  }
  std::string md5(c.req.headers.get("x-ms-blob-content-md5"));
  if (!md5.empty()) {
    auto raw = base64Decode(md5);
    if (!raw || raw->size() != 16) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidDigest, "The MD5 value specified in the request is invalid."));
    }
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto body = co_await readSmallBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  auto refs = parseBlockList(*body);
  if (!refs) {
    co_return co_await sendError(c, refs.error());
  }
  core::CommitBlocksInput in;
  in.bucket = c.container;
  in.key = c.blob;
  in.owner = c.owner();
  for (const BlockRef& r : *refs) {
    auto id = decodeBlockId(r.id);
    if (!id) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidBlockList, "The specified block list is invalid."));
    }
    core::BlockRefInput ref;
    ref.id = std::move(*id);
    ref.source = r.kind == BlockRef::Kind::kCommitted     ? core::BlockSource::kCommitted
                 : r.kind == BlockRef::Kind::kUncommitted ? core::BlockSource::kUncommitted
                                                          : core::BlockSource::kLatest;
    in.blocks.push_back(std::move(ref));
  }
  in.content = blobContentHeaders(c);
  in.userMeta = std::move(*meta);
  in.contentMd5 = md5;
  store::CommitCheck base = writeCheck(c, std::move(*cond));
  in.check = [base](const store::ObjectRecord* cur) -> Status {
    if (cur != nullptr && cur->kind == store::ObjectKind::kAppend) {
      return makeError(Code::kWrongObjectKind, "The blob type is invalid for this operation.");
    }
    return base(cur);
  };
  auto rec = co_await c.ns.commitBlockList(std::move(in));
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  http::Headers h;
  h.add("ETag", quoteEtag(rec->etag));
  h.add("Last-Modified", rfc1123(rec->mtimeMs));
  if (!rec->contentMd5.empty()) {
    h.add("Content-MD5", rec->contentMd5);
  }
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

asio::awaitable<Status> getBlockList(Ctx& c) {
  std::string type = toLower(c.queryValue("blocklisttype"));
  if (type.empty()) {
    type = "committed";
  }
  if (type != "committed" && type != "uncommitted" && type != "all") {
    co_return co_await sendError(
        c, makeError(Code::kInvalidQueryParam, "blocklisttype must be committed, uncommitted or "
                                               "all."));
  }
  const bool committed = type != "uncommitted";
  const bool uncommitted = type != "committed";
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto view = co_await c.ns.getBlockList(c.container, c.blob, committed, uncommitted);
  if (!view) {
    co_return co_await sendError(c, view.error());
  }
  if (!view->object && view->uncommitted.empty()) {
    co_return co_await sendError(c, makeError(Code::kNoSuchKey,
                                              "The specified blob does not exist."));
  }
  std::vector<std::pair<std::string, uint64_t>> com;
  std::vector<std::pair<std::string, uint64_t>> unc;
  for (const core::BlockInfo& i : view->committed) {
    com.emplace_back(i.id, i.size);
  }
  for (const core::BlockInfo& i : view->uncommitted) {
    unc.emplace_back(i.id, i.size);
  }
  http::Headers h;
  if (view->object) {
    h.add("ETag", quoteEtag(view->object->etag));
    h.add("Last-Modified", rfc1123(view->object->mtimeMs));
    h.add("x-ms-blob-content-length", std::to_string(view->object->size));
  } else {
    h.add("x-ms-blob-content-length", "0");
  }
  co_return co_await sendXml(c, 200, blockListXml(com, unc, committed, uncommitted),
                             std::move(h));
}

asio::awaitable<Status> appendBlock(Ctx& c) {
  auto pos = uintHeader(c, "x-ms-blob-condition-appendpos");
  auto max = uintHeader(c, "x-ms-blob-condition-maxsize");
  auto cond = parseBlobConditions(c.req.headers, false);
  auto verify = md5Verifier(c, false);
  if (!pos || !max || !cond || !verify) {
    Status s = !pos ? pos.error() : !max ? max.error() : !cond ? cond.error() : verify.error();
    co_return co_await sendError(c, s);
  }
  if (!c.req.contentLength) {
    co_return co_await sendError(
        c, makeError(Code::kMissingContentLength, "Content-Length is required."));
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  core::AppendInput in;
  in.bucket = c.container;
  in.key = c.blob;
  in.appendPosition = *pos;
  in.maxSize = *max;
  in.expectedSize = c.req.contentLength;
  in.verify = std::move(*verify);
  store::CommitCheck check = writeCheck(c, std::move(*cond));
  in.check = [check](const store::ObjectRecord& cur) { return check(&cur); };
  const uint64_t n = *c.req.contentLength;
  auto rec = co_await c.ns.appendBlock(std::move(in), c.body);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  http::Headers h;
  h.add("ETag", quoteEtag(rec->etag));
  h.add("Last-Modified", rfc1123(rec->mtimeMs));
  h.add("x-ms-blob-append-offset", std::to_string(rec->size - n));
  h.add("x-ms-blob-committed-block-count", std::to_string(rec->blockCount));
  h.add("x-ms-request-server-encrypted", "true");
  co_return co_await sendEmpty(c, 201, std::move(h));
}

asio::awaitable<Status> sealBlob(Ctx& c) {
  auto pos = uintHeader(c, "x-ms-blob-condition-appendpos");
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!pos || !cond) {
    co_return co_await sendError(c, !pos ? pos.error() : cond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  store::CommitCheck check = writeCheck(c, std::move(*cond));
  std::optional<uint64_t> appendPos = *pos;
  store::RecordUpdate update = [check, appendPos](store::ObjectRecord& r) -> Status {
    EMBER_TRY(check(&r));
    if (r.kind != store::ObjectKind::kAppend) {
      return makeError(Code::kWrongObjectKind,
                       "The blob type is invalid for this operation.");
    }
    if (appendPos && *appendPos != r.size) {
      return makeError(Code::kAppendPositionMismatch,
                       "The append position condition specified was not met.");
    }
    if (!r.sealed) {
      r.sealed = true;
      r.etag = newPropertyEtag();
      r.mtimeMs = nowMillis();
    }
    return Status::ok();
  };
  auto rec = co_await c.ns.updateObject(c.container, c.blob, update);
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  http::Headers h;
  h.add("ETag", quoteEtag(rec->etag));
  h.add("Last-Modified", rfc1123(rec->mtimeMs));
  h.add("x-ms-blob-sealed", "true");
  co_return co_await sendEmpty(c, 200, std::move(h));
}

}  // namespace ember::blob

// Append objects (Blob append blobs): Append Block. The body (at most maxAppendBytes) is received
// whole, hashed and verified, then appended by the store under its per-key serialization, where
// the conditions (lease, ETag, append position, max size) are checked against the current record.
#include <chrono>

#include "common/time_util.h"
#include "core/namespace.h"
#include "core/small_body.h"

namespace ember::core {

namespace {

Status emptyBody() {
  return makeError(Code::kInvalidHeader,
                   "InvalidHeaderValue: Content-Length must be greater than zero");
}

Status tooLarge() {
  return makeError(Code::kEntityTooLarge, "The request body is too large");
}

// The store's AppendCheck for `in`, in Azure's order: the caller's conditions and lease, then
// the object's kind and seal, the append-position and max-size conditions, the block count.
// `committed` receives the record the check completed (without inline bytes).
store::AppendCheck appendCheck(const AppendInput& in, uint64_t n, uint32_t maxAppends,
                               ObjectRecord& committed) {
  return [&in, n, maxAppends, &committed](const ObjectRecord& cur, ObjectRecord& next) -> Status {
    if (in.check) {
      EMBER_TRY(in.check(cur));
    }
    if (cur.kind != store::ObjectKind::kAppend) {
      return makeError(Code::kWrongObjectKind, "The blob type is invalid for this operation.");
    }
    if (cur.sealed) {
      return makeError(Code::kObjectSealed, "The blob is sealed and can no longer be appended to.");
    }
    if (in.appendPosition && *in.appendPosition != cur.size) {
      return makeError(Code::kAppendPositionMismatch,
                       "The append position condition specified was not met.");
    }
    if (in.maxSize && *in.maxSize < cur.size + n) {
      return makeError(Code::kMaxSizeExceeded,
                       "The max blob size condition specified was not met.");
    }
    if (cur.blockCount >= maxAppends) {
      return makeError(Code::kBlockCountExceeded,
                       "The committed block count cannot exceed the maximum limit of " +
                           std::to_string(maxAppends) + " blocks.");
    }
    next.blockCount = cur.blockCount + 1;
    next.mtimeMs = nowMillis();
    next.etag = hexEncode(md5Raw(newId())) + "-" + std::to_string(next.blockCount);
    next.contentMd5.clear();  // Azure keeps no Content-MD5 for append blobs
    next.checksums.clear();   // stored checksums described the old bytes
    next.checksumType.clear();
    committed = next;
    for (store::Extent& x : committed.extents) {
      x.data.clear();
    }
    return Status::ok();
  };
}

}  // namespace

asio::awaitable<Result<ObjectRecord>> Namespace::appendBlock(AppendInput in, ByteSource& body) {
  const uint64_t limit = options_.maxAppendBytes;
  if (in.expectedSize && *in.expectedSize == 0) {
    co_return unexpected(emptyBody());
  }
  if (in.expectedSize && *in.expectedSize > limit) {
    co_return unexpected(tooLarge());
  }
  Status overLimit = tooLarge();
  auto received = co_await readSmallBody(body, in.expectedSize, limit, std::move(overLimit));
  EMBER_CO_TRY(received);
  std::string data = std::move(*received);
  if (data.empty()) {
    co_return unexpected(emptyBody());
  }
  const uint32_t maxAppends = options_.maxAppends;
  auto work = [this, in = std::move(in), data = std::move(data),
               maxAppends]() -> Result<ObjectRecord> {
    // MD5 for Content-MD5; CRC-64/NVME for x-ms-content-crc64 verifiers that want it.
    Digests digests;
    digests.size = data.size();
    digests.md5 = md5Raw(data);
    auto crc = Hasher::create(ChecksumAlgo::kCRC64NVME);
    crc->update(data);
    digests.sums.emplace(ChecksumAlgo::kCRC64NVME, crc->finish());
    if (in.verify) {
      EMBER_TRY(in.verify(digests));
    }
    // The result is the record the check completed: the same as the store's answer, which the
    // in-memory twin returns moved-from (empty strings) after committing it.
    ObjectRecord committed;
    store::AppendCheck check = appendCheck(in, data.size(), maxAppends, committed);
    auto r = store_->appendObject(in.bucket, in.key, data, check);
    EMBER_TRY(r);
    return committed;
  };
  co_return co_await offload(pool_, std::move(work));
}

}  // namespace ember::core

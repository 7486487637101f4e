// Multipart uploads: create, upload part (from a body or a copy source), complete, abort, list.
#include <chrono>

#include "common/time_util.h"
#include "common/headers.h"
#include "core/namespace.h"
#include "core/range_source.h"

namespace ember::core {

namespace {

std::string findChecksum(const StringPairs& sums, std::string_view algo) {
  for (const auto& [a, v] : sums) {
    if (iequals(a, algo)) {
      return v;
    }
  }
  return {};
}

}  // namespace

asio::awaitable<Result<UploadRecord>> Namespace::createUpload(UploadRecord upload) {
  EMBER_CO_TRY(validateKey(upload.key));
  upload.uploadId = newId() + newId().substr(0, 8);
  upload.initiatedMs = nowMillis();
  co_return co_await offload(pool_, [this, upload]() -> Result<UploadRecord> {
    EMBER_TRY(store_->createUpload(upload));
    return upload;
  });
}

asio::awaitable<Result<UploadRecord>> Namespace::getUpload(std::string bucket, std::string key,
                                                           std::string uploadId) {
  co_return co_await offload(pool_, [this, bucket, key, uploadId] {
    return store_->getUpload(bucket, key, uploadId);
  });
}

asio::awaitable<Result<PartRecord>> Namespace::uploadPart(PartInput in, ByteSource& body) {
  if (in.partNumber < 1 || in.partNumber > options_.maxParts) {
    co_return unexpected(Code::kInvalidArgument,
                         "Part number must be an integer between 1 and 10000, inclusive");
  }
  auto upload = co_await getUpload(in.bucket, in.key, in.uploadId);
  EMBER_CO_TRY(upload);
  if (auto a = parseChecksumAlgo(upload->checksumAlgorithm)) {
    in.checksums.insert(*a);
  }
  std::set<ChecksumAlgo> compute = in.checksums;
  compute.insert(in.verifyOnly.begin(), in.verifyOnly.end());
  auto written = co_await writeBody(body, compute, in.expectedSize, options_.maxPartSize);
  EMBER_CO_TRY(written);
  if (in.verify) {
    EMBER_CO_TRY(in.verify(written->digests));
  }
  PartRecord part;
  part.number = in.partNumber;
  part.size = written->digests.size;
  part.etag = hexEncode(written->digests.md5);
  part.mtimeMs = nowMillis();
  for (const auto& [a, raw] : written->digests.sums) {
    if (!in.checksums.contains(a)) {
      continue;
    }
    part.checksums.emplace_back(std::string(checksumName(a)), base64Encode(raw));
  }
  part.extent = std::move(written->extent);
  std::string uploadId = in.uploadId;
  co_return co_await offload(pool_, [this, uploadId, part]() -> Result<PartRecord> {
    PartRecord copy = part;
    copy.extent.data.clear();
    EMBER_TRY(store_->putPart(uploadId, part));
    return copy;
  });
}

asio::awaitable<Result<PartRecord>> Namespace::uploadPartCopy(PartInput in, std::string srcBucket,
                                                              std::string srcKey,
                                                              Conditions srcConditions,
                                                              std::optional<std::string> srcRange) {
  auto src = co_await openRead(ReadInput{srcBucket, srcKey, {}, {}, {}});
  EMBER_CO_TRY(src);
  Status cond = checkReadConditions(srcConditions, src->record());
  if (cond.code() == Code::kNotModified) {
    cond = makeError(Code::kPreconditionFailed, cond.message());
  }
  EMBER_CO_TRY(cond);
  if (srcRange) {
    // x-amz-copy-source-range must be exactly "bytes=first-last" inside the source object.
    auto r = parseCopyRange(*srcRange, src->record().size);
    EMBER_CO_TRY(r);
    src->offset = r->first;
    src->length = r->length;
  }
  // Stream the source range through a ByteSource adapter into the normal part path.
  RangeSource source(*src, pool_);
  in.expectedSize = src->length;
  co_return co_await uploadPart(std::move(in), source);
}

asio::awaitable<Result<ObjectRecord>> Namespace::completeUpload(std::string bucket,
                                                                std::string key,
                                                                std::string uploadId,
                                                                std::vector<CompletePart> parts,
                                                                Conditions conditions) {
  auto upload = co_await getUpload(bucket, key, uploadId);
  EMBER_CO_TRY(upload);
  if (parts.empty()) {
    co_return unexpected(Code::kMalformedXml, "You must specify at least one part");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].number <= parts[i - 1].number) {
      co_return unexpected(Code::kInvalidPartOrder,
                           "The list of parts was not in ascending order. Parts must be ordered "
                           "by part number.");
    }
  }
  auto stored = co_await listParts(uploadId, 0, options_.maxParts);
  EMBER_CO_TRY(stored);
  std::map<uint32_t, const PartRecord*> byNumber;
  for (const PartRecord& p : *stored) {
    byNumber.emplace(p.number, &p);
  }
  ObjectRecord rec;
  std::string md5s;
  std::string algo = upload->checksumAlgorithm;
  std::optional<ChecksumAlgo> sumAlgo = parseChecksumAlgo(algo);
  std::string partSums;
  for (size_t i = 0; i < parts.size(); ++i) {
    const CompletePart& want = parts[i];
    auto found = byNumber.find(want.number);
    if (found == byNumber.end() || found->second->etag != want.etag) {
      co_return unexpected(Code::kInvalidPart,
                           "One or more of the specified parts could not be found. The part may "
                           "not have been uploaded, or the specified entity tag may not match "
                           "the part's entity tag.");
    }
    const PartRecord& p = *found->second;
    for (const auto& [a, v] : want.checksums) {
      std::string have = findChecksum(p.checksums, a);
      if (!have.empty() && have != v) {
        co_return unexpected(Code::kInvalidPart, "The checksum of part " +
                                                     std::to_string(p.number) +
                                                     " does not match the one given.");
      }
    }
    if (i + 1 < parts.size() && p.size < options_.minPartSize) {
      co_return unexpected(Code::kEntityTooSmall,
                           "Your proposed upload is smaller than the minimum allowed size");
    }
    auto raw = hexDecode(p.etag);
    EMBER_CO_TRY(raw);
    md5s += *raw;
    if (sumAlgo) {
      auto partRaw = base64Decode(findChecksum(p.checksums, algo));
      if (partRaw) {
        partSums += *partRaw;
      }
    }
    rec.size += p.size;
    rec.partSizes.push_back(p.size);
    if (p.size > 0) {
      rec.extents.push_back(p.extent);
    }
  }
  rec.bucket = bucket;
  rec.key = key;
  rec.etag = hexEncode(md5Raw(md5s)) + "-" + std::to_string(parts.size());
  rec.mtimeMs = nowMillis();
  rec.createdMs = rec.mtimeMs;
  rec.owner = upload->owner;
  rec.content = upload->content;
  rec.userMeta = upload->userMeta;
  if (sumAlgo && *sumAlgo != ChecksumAlgo::kCRC64NVME) {
    auto h = Hasher::create(*sumAlgo);
    h->update(partSums);
    rec.checksums.emplace_back(std::string(checksumName(*sumAlgo)),
                               base64Encode(h->finish()) + "-" + std::to_string(parts.size()));
    rec.checksumType = "COMPOSITE";
  }
  rec.versionId = newId();
  co_return co_await offload(pool_, [this, uploadId, rec = std::move(rec), conditions]() mutable
                             -> Result<ObjectRecord> {
    ObjectRecord copy = rec;
    copy.extents.clear();
    EMBER_TRY(store_->completeUpload(uploadId, std::move(rec),
                                     [&conditions](const ObjectRecord* cur) {
                                       return checkWriteConditions(conditions, cur);
                                     }));
    return copy;
  });
}

asio::awaitable<Status> Namespace::abortUpload(std::string bucket, std::string key,
                                               std::string uploadId) {
  auto upload = co_await getUpload(bucket, key, uploadId);
  EMBER_CO_TRY(upload);
  co_return co_await offload(pool_, [this, uploadId] { return store_->abortUpload(uploadId); });
}

asio::awaitable<Result<std::vector<PartRecord>>> Namespace::listParts(std::string uploadId,
                                                                      uint32_t afterPart,
                                                                      uint32_t max) {
  co_return co_await offload(pool_, [this, uploadId, afterPart, max] {
    return store_->listParts(uploadId, afterPart, max);
  });
}

}  // namespace ember::core

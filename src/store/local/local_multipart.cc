// LocalStore multipart uploads. Parts are committed one by one (synced, like objects);
// completeUpload turns the chosen parts' extents into an object version in one batch that also
// removes the upload, so an upload is either fully in progress or fully completed.

#include <unordered_set>

#include "store/local/data_files.h"
#include "store/local/index.h"
#include "store/local/local_internal.h"
#include "store/local/reclaimer.h"
#include "store/local/record_codec.h"
#include "store/record_util.h"

namespace ember::store {

using local::Cf;
using local::toSlice;
using local::toView;

namespace local {
namespace {

class LocalUploadIterator final : public UploadIterator {
 public:
  LocalUploadIterator(std::shared_ptr<LocalStore> owner, rocksdb::DB& db,
                      rocksdb::ColumnFamilyHandle* cf, std::string_view bucket)
      : owner_(std::move(owner)),
        bucket_(bucket),
        scan_(db, cf, bucketLowerBound(bucket), bucketUpperBound(bucket)) {
    scan_.it().SeekToFirst();
  }

  void seek(std::string_view key, std::string_view uploadId) override {
    cached_ = false;
    scan_.it().Seek(toSlice(uploadKey(bucket_, key, uploadId)));
  }
  bool valid() const override { return status_.isOk() && scan_.it().Valid(); }
  void next() override {
    cached_ = false;
    scan_.it().Next();
  }
  const UploadRecord& record() override {
    if (!cached_) {
      cached_ = true;
      auto u = decodeUpload(toView(scan_.it().value()));
      if (u) {
        record_ = std::move(*u);
      } else {
        status_ = u.error();
        record_ = UploadRecord();
      }
    }
    return record_;
  }
  Status status() const override {
    if (!status_) {
      return status_;
    }
    return fromRocks(scan_.it().status());
  }

 private:
  std::shared_ptr<LocalStore> owner_;  // outlives scan_
  const std::string bucket_;
  RangeScan scan_;
  UploadRecord record_;
  bool cached_ = false;
  Status status_;
};

Result<UploadRecord> loadUpload(Index& index, std::string_view uploadId) {
  auto value = index.get(Cf::kUploadIds, uploadId);
  if (!value) {
    return unexpected(value.error());
  }
  if (!*value) {
    return unexpected(Code::kNoSuchUpload, "no such upload: " + std::string(uploadId));
  }
  return decodeUpload(**value);
}

// Parts with number >= `from`, ascending, at most `max`.
Result<std::vector<PartRecord>> loadParts(Index& index, std::string_view uploadId, uint32_t from,
                                          uint32_t max) {
  std::vector<PartRecord> parts;
  RangeScan scan(index.db(), index.cf(Cf::kParts), partLowerBound(uploadId),
                 partUpperBound(uploadId));
  for (scan.it().Seek(toSlice(partKey(uploadId, from))); scan.it().Valid() && parts.size() < max;
       scan.it().Next()) {
    auto p = decodePart(toView(scan.it().value()));
    if (!p) {
      return unexpected(p.error());
    }
    parts.push_back(std::move(*p));
  }
  EMBER_TRY(fromRocks(scan.it().status()));
  return parts;
}

// Removes the upload and all its parts from `batch`'s view, marking their files for reclaim.
// Returns the raw ids of the part files that `keep` does not name.
std::vector<std::string> removeUpload(Index& index, rocksdb::WriteBatch& batch,
                                      const UploadRecord& upload,
                                      const std::vector<PartRecord>& parts,
                                      const std::unordered_set<std::string>& keep) {
  batch.Delete(index.cf(Cf::kUploads), toSlice(uploadKey(upload.bucket, upload.key,
                                                         upload.uploadId)))
      .PermitUncheckedError();
  batch.Delete(index.cf(Cf::kUploadIds), toSlice(upload.uploadId)).PermitUncheckedError();
  std::vector<std::string> drop;
  for (const PartRecord& p : parts) {
    batch.Delete(index.cf(Cf::kParts), toSlice(partKey(upload.uploadId, p.number)))
        .PermitUncheckedError();
    if (p.extent.kind != Extent::Kind::kFile) {
      continue;
    }
    std::string raw = *rawFromHexId(p.extent.id);
    if (keep.count(raw) != 0) {
      continue;
    }
    batch.Put(index.cf(Cf::kPending), toSlice(pendingFileKey(raw)),
              rocksdb::Slice(&kFileReclaim, 1))
        .PermitUncheckedError();
    drop.push_back(std::move(raw));
  }
  return drop;
}

}  // namespace
}  // namespace local

Status LocalStore::createUpload(const UploadRecord& upload) {
  if (upload.uploadId.empty() || upload.uploadId.find('\0') != std::string::npos) {
    return makeError(Code::kInvalidArgument, "malformed upload id");
  }
  maybeReclaim();
  EMBER_TRY(files_->space().reserve(512));
  std::shared_lock bucketGuard(bucketLock(upload.bucket));
  EMBER_TRY(requireBucket(upload.bucket));
  std::lock_guard uploadGuard(uploadLock(upload.uploadId));
  auto existing = index_->get(Cf::kUploadIds, upload.uploadId);
  if (!existing) {
    return existing.error();
  }
  if (*existing) {
    return makeError(Code::kAlreadyExists, "upload id in use: " + upload.uploadId);
  }
  std::string value = local::encodeUpload(upload);
  rocksdb::WriteBatch batch;
  batch.Put(index_->cf(Cf::kUploads),
            toSlice(local::uploadKey(upload.bucket, upload.key, upload.uploadId)), toSlice(value))
      .PermitUncheckedError();
  batch.Put(index_->cf(Cf::kUploadIds), toSlice(upload.uploadId), toSlice(value))
      .PermitUncheckedError();
  return index_->commit(batch);
}

Result<UploadRecord> LocalStore::getUpload(std::string_view bucket, std::string_view key,
                                           std::string_view uploadId) {
  maybeReclaim();
  auto upload = local::loadUpload(*index_, uploadId);
  if (upload && (upload->bucket != bucket || upload->key != key)) {
    return unexpected(Code::kNoSuchUpload, "no such upload: " + std::string(uploadId));
  }
  return upload;
}

Status LocalStore::putPart(std::string_view uploadId, PartRecord part) {
  maybeReclaim();
  bool attempted = false;
  Status s = validatePart(part);
  if (s) {
    s = files_->space().reserve(part.extent.data.size() + 256);
  }
  std::optional<std::string> dropRaw;
  if (s) {
    std::lock_guard uploadGuard(uploadLock(uploadId));
    auto commit = [&]() -> Status {
      EMBER_TRY(local::loadUpload(*index_, uploadId));
      std::optional<std::string> newRaw;
      if (part.extent.kind == Extent::Kind::kFile) {
        newRaw = *local::rawFromHexId(part.extent.id);
        auto fresh = isFreshFile(*newRaw);
        if (!fresh) {
          return fresh.error();
        }
        if (!*fresh) {
          return makeError(Code::kInvalidArgument, "part extent " + part.extent.id +
                                                       " is not uncommitted writer output");
        }
      }
      std::string key = local::partKey(uploadId, part.number);
      auto old = index_->get(Cf::kParts, key);
      if (!old) {
        return old.error();
      }
      rocksdb::WriteBatch batch;
      if (*old) {
        auto oldPart = local::decodePart(**old);
        if (!oldPart) {
          return oldPart.error();
        }
        if (oldPart->extent.kind == Extent::Kind::kFile) {
          dropRaw = *local::rawFromHexId(oldPart->extent.id);
          batch.Put(index_->cf(Cf::kPending), toSlice(local::pendingFileKey(*dropRaw)),
                    rocksdb::Slice(&local::kFileReclaim, 1))
              .PermitUncheckedError();
        }
      }
      batch.Put(index_->cf(Cf::kParts), toSlice(key), toSlice(local::encodePart(part)))
          .PermitUncheckedError();
      if (newRaw) {
        batch.Delete(index_->cf(Cf::kPending), toSlice(local::pendingFileKey(*newRaw)))
            .PermitUncheckedError();
      }
      std::vector<local::IndexDelete> piggyback = reclaimer_->takeDeletes(256);
      for (const local::IndexDelete& d : piggyback) {
        batch.Delete(index_->cf(d.cf), toSlice(d.key)).PermitUncheckedError();
      }
      attempted = true;
      Status cs = index_->commit(batch);
      if (!cs) {
        reclaimer_->restoreDeletes(std::move(piggyback));
        dropRaw.reset();
      }
      return cs;
    };
    s = commit();
  }
  if (!s && !attempted) {
    discardFresh({part.extent});
  }
  if (dropRaw) {
    reclaimer_->dropFiles({std::move(*dropRaw)});
  }
  return s;
}

Result<std::vector<PartRecord>> LocalStore::listParts(std::string_view uploadId,
                                                      uint32_t afterPart, uint32_t max) {
  maybeReclaim();
  EMBER_TRY(local::loadUpload(*index_, uploadId));
  if (afterPart == UINT32_MAX || max == 0) {
    return std::vector<PartRecord>();
  }
  return local::loadParts(*index_, uploadId, afterPart + 1, max);
}

Status LocalStore::completeUpload(std::string_view uploadId, ObjectRecord record,
                                  const CommitCheck& check) {
  maybeReclaim();
  EMBER_TRY(validateObjectRecord(record));
  std::vector<std::string> drop;
  {
    std::shared_lock bucketGuard(bucketLock(record.bucket));
    std::lock_guard uploadGuard(uploadLock(uploadId));
    auto upload = local::loadUpload(*index_, uploadId);
    if (!upload) {
      return upload.error();
    }
    if (upload->bucket != record.bucket || upload->key != record.key) {
      return makeError(Code::kNoSuchUpload, "no such upload for this key: " +
                                                std::string(uploadId));
    }
    auto parts = local::loadParts(*index_, uploadId, 1, UINT32_MAX);  // staged blocks: any number
    if (!parts) {
      return parts.error();
    }
    std::unordered_set<std::string> partFiles;
    for (const PartRecord& p : *parts) {
      if (p.extent.kind == Extent::Kind::kFile) {
        partFiles.insert(*local::rawFromHexId(p.extent.id));
      }
    }
    std::unordered_set<std::string> chosen;
    for (const Extent& x : record.extents) {
      if (x.kind == Extent::Kind::kFile) {
        chosen.insert(*local::rawFromHexId(x.id));
      }
    }
    CommitPlan plan;
    plan.partFiles = &partFiles;
    drop = local::removeUpload(*index_, plan.batch, *upload, *parts, chosen);
    EMBER_TRY(commitObject(record, check, plan));
  }
  reclaimer_->dropFiles(std::move(drop));
  return Status::ok();
}

Status LocalStore::abortUpload(std::string_view uploadId) {
  maybeReclaim();
  std::vector<std::string> drop;
  {
    std::lock_guard uploadGuard(uploadLock(uploadId));
    auto upload = local::loadUpload(*index_, uploadId);
    if (!upload) {
      return upload.error();
    }
    auto parts = local::loadParts(*index_, uploadId, 1, UINT32_MAX);  // staged blocks: any number
    if (!parts) {
      return parts.error();
    }
    rocksdb::WriteBatch batch;
    drop = local::removeUpload(*index_, batch, *upload, *parts, {});
    std::vector<local::IndexDelete> piggyback = reclaimer_->takeDeletes(256);
    for (const local::IndexDelete& d : piggyback) {
      batch.Delete(index_->cf(d.cf), toSlice(d.key)).PermitUncheckedError();
    }
    if (Status s = index_->commit(batch); !s) {
      reclaimer_->restoreDeletes(std::move(piggyback));
      return s;
    }
  }
  reclaimer_->dropFiles(std::move(drop));
  return Status::ok();
}

Result<std::unique_ptr<UploadIterator>> LocalStore::listUploads(std::string_view bucket) {
  maybeReclaim();
  EMBER_TRY(requireBucket(bucket));
  return std::make_unique<local::LocalUploadIterator>(shared_from_this(), index_->db(),
                                                      index_->cf(Cf::kUploads), bucket);
}

}  // namespace ember::store

#include "tier/tier_store.h"

namespace ember::tier {

TierStore::TierStore(store::ObjectStorePtr inner, const MappingTable& table, WriteBack& wb,
                     std::chrono::milliseconds writeThroughTimeout)
    : inner_(std::move(inner)), table_(table), wb_(wb), writeThroughTimeout_(writeThroughTimeout) {}

Status TierStore::guarded(const Mapping& m, const std::string& bucket, const std::string& key,
                          Op op, uint64_t size, const std::function<Result<uint64_t>()>& commit) {
  EMBER_TRY(wb_.admit(m, size));
  std::string tk = tierKey(bucket, key);
  uint64_t seq = 0;
  {
    auto lock = wb_.lockKey(tk);
    auto intent = wb_.begin(m, tk, op, size);
    EMBER_TRY(intent);
    auto committed = commit();
    if (!committed) {
      if (Status undo = wb_.abort(*intent); !undo) {
        // The entry stays: the uploader reconciles the key against the store, which is safe.
        (void)undo;
      }
      return committed.error();
    }
    wb_.commit(*intent, *committed);
    seq = intent->seq;
  }
  if (m.cfg.mode == Mode::kWriteThrough && !wb_.waitUploaded(tk, seq, writeThroughTimeout_)) {
    std::string why = wb_.lastError(tk);
    return makeError(Code::kUnavailable,
                     "stored durably and queued for " + m.cfg.cold.location.toString() +
                         ", but not yet in the cold store (write-through): " +
                         (why.empty() ? "upload still running" : why));
  }
  return Status::ok();
}

bool TierStore::coldInvisible(const store::ObjectRecord& next) {
  if (next.extents.empty() || next.extents.front().kind != store::Extent::Kind::kFile) {
    return false;  // fresh or inline bytes: a real write
  }
  auto cur = inner_->getObject(next.bucket, next.key);
  if (!cur || cur->extents.size() != next.extents.size() || cur->size != next.size) {
    return false;
  }
  for (size_t i = 0; i < next.extents.size(); ++i) {
    if (cur->extents[i].kind != next.extents[i].kind || cur->extents[i].id != next.extents[i].id) {
      return false;
    }
  }
  const auto& a = cur->content;
  const auto& b = next.content;
  return a.contentType == b.contentType && a.contentEncoding == b.contentEncoding &&
         a.contentDisposition == b.contentDisposition &&
         a.contentLanguage == b.contentLanguage && a.cacheControl == b.cacheControl &&
         a.expires == b.expires && cur->userMeta == next.userMeta;
}

Status TierStore::putObject(store::ObjectRecord record, const store::CommitCheck& check) {
  const Mapping* m = table_.find(record.bucket, record.key);
  if (!m) {
    return inner_->putObject(std::move(record), check);
  }
  if (m->cfg.mode != Mode::kReadOnly) {
    auto lock = wb_.lockKey(tierKey(record.bucket, record.key));
    if (!wb_.dirty(tierKey(record.bucket, record.key)) && coldInvisible(record)) {
      // A lease or attribute change of a clean object: nothing for the cold store.
      return inner_->putObject(std::move(record), check);
    }
  }
  std::string bucket = record.bucket;
  std::string key = record.key;
  uint64_t size = record.size;
  return guarded(*m, bucket, key, Op::kPut, size, [&]() -> Result<uint64_t> {
    EMBER_TRY(inner_->putObject(std::move(record), check));
    return size;
  });
}

Status TierStore::completeUpload(std::string_view uploadId, store::ObjectRecord record,
                                 const store::CommitCheck& check) {
  const Mapping* m = table_.find(record.bucket, record.key);
  if (!m) {
    return inner_->completeUpload(uploadId, std::move(record), check);
  }
  std::string bucket = record.bucket;
  std::string key = record.key;
  uint64_t size = record.size;
  return guarded(*m, bucket, key, Op::kPut, size, [&]() -> Result<uint64_t> {
    EMBER_TRY(inner_->completeUpload(uploadId, std::move(record), check));
    return size;
  });
}

Result<store::ObjectRecord> TierStore::appendObject(std::string_view bucket, std::string_view key,
                                                    std::span<const char> data,
                                                    const store::AppendCheck& check) {
  const Mapping* m = table_.find(bucket, key);
  if (!m) {
    return inner_->appendObject(bucket, key, data, check);
  }
  store::ObjectRecord out;
  Status s = guarded(*m, std::string(bucket), std::string(key), Op::kPut, data.size(),
                     [&]() -> Result<uint64_t> {
                       auto r = inner_->appendObject(bucket, key, data, check);
                       EMBER_TRY(r);
                       out = std::move(*r);
                       return out.size;
                     });
  EMBER_TRY(s);
  return out;
}

Result<std::optional<store::ObjectRecord>> TierStore::deleteObject(
    std::string_view bucket, std::string_view key, const store::CommitCheck& check) {
  const Mapping* m = table_.find(bucket, key);
  if (!m) {
    return inner_->deleteObject(bucket, key, check);
  }
  std::optional<store::ObjectRecord> out;
  Status s = guarded(*m, std::string(bucket), std::string(key), Op::kDelete, 0,
                     [&]() -> Result<uint64_t> {
                       auto r = inner_->deleteObject(bucket, key, check);
                       EMBER_TRY(r);
                       out = std::move(*r);
                       return 0;
                     });
  EMBER_TRY(s);
  return out;
}

Status TierStore::deleteBucket(std::string_view name) {
  if (table_.bucketMapped(name)) {
    return makeError(Code::kPermissionDenied,
                     "bucket '" + std::string(name) +
                         "' is mapped to a cold store; remove its [[tier.mappings]] first");
  }
  return inner_->deleteBucket(name);
}

// --- pass-through ---

Status TierStore::createBucket(const store::BucketRecord& bucket) {
  return inner_->createBucket(bucket);
}
Result<store::BucketRecord> TierStore::getBucket(std::string_view name) {
  return inner_->getBucket(name);
}
Result<std::vector<store::BucketRecord>> TierStore::listBuckets() { return inner_->listBuckets(); }
Result<std::unique_ptr<store::DataWriter>> TierStore::newWriter() { return inner_->newWriter(); }
Result<store::ObjectRecord> TierStore::getObject(std::string_view bucket, std::string_view key) {
  return inner_->getObject(bucket, key);
}
Result<std::unique_ptr<store::ObjectReader>> TierStore::openObject(std::string_view bucket,
                                                                   std::string_view key) {
  return inner_->openObject(bucket, key);
}
Result<std::unique_ptr<store::ObjectReader>> TierStore::tryOpenObjectCached(
    std::string_view bucket, std::string_view key) {
  return inner_->tryOpenObjectCached(bucket, key);
}
Result<std::unique_ptr<store::ObjectIterator>> TierStore::listObjects(std::string_view bucket,
                                                                      bool fullRecords) {
  return inner_->listObjects(bucket, fullRecords);
}
Status TierStore::updateBucket(std::string_view name, const store::BucketUpdate& mutate) {
  return inner_->updateBucket(name, mutate);
}
Status TierStore::createUpload(const store::UploadRecord& upload) {
  return inner_->createUpload(upload);
}
Result<store::UploadRecord> TierStore::getUpload(std::string_view bucket, std::string_view key,
                                                 std::string_view uploadId) {
  return inner_->getUpload(bucket, key, uploadId);
}
Status TierStore::putPart(std::string_view uploadId, store::PartRecord part) {
  return inner_->putPart(uploadId, std::move(part));
}
Result<std::vector<store::PartRecord>> TierStore::listParts(std::string_view uploadId,
                                                            uint32_t afterPart, uint32_t max) {
  return inner_->listParts(uploadId, afterPart, max);
}
Status TierStore::abortUpload(std::string_view uploadId) { return inner_->abortUpload(uploadId); }
Result<std::unique_ptr<store::UploadIterator>> TierStore::listUploads(std::string_view bucket) {
  return inner_->listUploads(bucket);
}
Result<store::Capacity> TierStore::capacity() { return inner_->capacity(); }

}  // namespace ember::tier
